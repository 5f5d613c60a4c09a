"""People, roles and teams."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.text import slugify

from portal.models import Team
from portal.people import Person
from portal.roles import Role
from portal.services.audit import record_event


@transaction.atomic
def create_user(
    *,
    username: str,
    password: str | None,
    roles: Iterable[Role] = (),
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Any:
    """Create a person holding ``roles``."""
    user = get_user_model().objects.create_user(
        username=username,
        password=password,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )
    grant_roles(user=user, roles=roles, actor=None)
    return user


@transaction.atomic
def grant_roles(*, user: Person, roles: Iterable[Role], actor: Person | None) -> None:
    names = sorted(str(role) for role in roles)
    if not names:
        return
    # get_or_create: a role group deleted by hand (or by a test's flush) must not make
    # granting silently do nothing.
    user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in names))
    user.__dict__.pop("_handoff_roles", None)
    record_event(actor=actor, verb="roles.granted", target=user, after={"roles": names})


@transaction.atomic
def create_team(
    *, name: str, members: Iterable[Person] = (), actor: Person | None = None, description: str = ""
) -> Team:
    members = list(members)
    team = Team.objects.create(name=name, slug=slugify(name), description=description)
    team.members.add(*members)
    record_event(
        actor=actor,
        verb="team.created",
        target=team,
        after={"name": name, "members": sorted(m.username for m in members)},
    )
    return team


@transaction.atomic
def add_team_member(*, team: Team, user: Person, actor: Person | None = None) -> None:
    team.members.add(user)
    record_event(
        actor=actor, verb="team.member_added", target=team, after={"member": user.username}
    )


@transaction.atomic
def update_team(*, team: Team, actor: Person, name: str, description: str) -> Team:
    """Rename a team or change its description; its slug (in URLs and the API) is fixed."""
    before = {"name": team.name, "description": team.description}
    after = {"name": name, "description": description}
    if before == after:
        return team
    team.name, team.description = name, description
    team.full_clean(exclude=["members"], validate_unique=False)
    team.save(update_fields=["name", "description"])
    record_event(actor=actor, verb="team.updated", target=team, before=before, after=after)
    return team


@transaction.atomic
def set_team_members(*, team: Team, members: Iterable[Person], actor: Person) -> None:
    """Make ``members`` the team's members, recording who joined and who left."""
    wanted = {member.pk: member for member in members}
    current = {member.pk: member for member in team.members.all()}
    joined = [wanted[pk] for pk in wanted.keys() - current.keys()]
    left = [current[pk] for pk in current.keys() - wanted.keys()]
    if not joined and not left:
        return
    team.members.add(*joined)
    team.members.remove(*left)
    record_event(
        actor=actor,
        verb="team.members_changed",
        target=team,
        before={"members": sorted(m.username for m in current.values())},
        after={
            "joined": sorted(m.username for m in joined),
            "left": sorted(m.username for m in left),
        },
    )
