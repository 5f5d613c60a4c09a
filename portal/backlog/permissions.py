"""Who may do what to backlog items. Services ask these; views only hide buttons with them."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from portal.backlog.models import BacklogItem, Iteration
from portal.models import Team
from portal.people import Person
from portal.roles import Role, has_role

# People who plan and do the work; a Viewer reads only.
WORKER_ROLES = (Role.DATA_SCIENTIST, Role.ENGINEER, Role.APPROVER)


def is_member(person: Person, team: Team) -> bool:
    return person.is_superuser or team.members.filter(pk=person.pk).exists()


def can_create_item(person: Person, team: Team) -> bool:
    return has_role(person, *WORKER_ROLES) and is_member(person, team)


def can_edit_item(person: Person, item: BacklogItem) -> bool:
    """The item's team and its assignees, unless they only view."""
    if not has_role(person, *WORKER_ROLES):
        return False
    return is_member(person, item.team) or item.assignees.filter(pk=person.pk).exists()


def can_comment(person: Person) -> bool:
    return has_role(person, *WORKER_ROLES)


def can_edit_iteration(person: Person, iteration: Iteration) -> bool:
    return has_role(person, *WORKER_ROLES) and is_member(person, iteration.team)


def require_create_item(person: Person, team: Team) -> None:
    if not has_role(person, *WORKER_ROLES):
        raise PermissionDenied("A Viewer reads the backlog; ask a teammate to file the item.")
    if not is_member(person, team):
        raise PermissionDenied(f"You are not a member of {team}.")


def require_edit_item(person: Person, item: BacklogItem) -> None:
    if not can_edit_item(person, item):
        raise PermissionDenied(
            f"Only members of {item.team} and the item's assignees may change it."
        )


def require_comment(person: Person) -> None:
    if not can_comment(person):
        raise PermissionDenied("A Viewer reads the backlog and cannot comment.")


def require_edit_iteration(person: Person, iteration: Iteration) -> None:
    if not can_edit_iteration(person, iteration):
        raise PermissionDenied(f"Only members of {iteration.team} may change this iteration.")
