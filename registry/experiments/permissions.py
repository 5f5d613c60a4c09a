"""Who may log to an experiment: its team's data scientists and engineers."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from portal.models import Team
from portal.people import Person
from portal.roles import Role, has_role

AUTHOR_ROLES = (Role.DATA_SCIENTIST, Role.ENGINEER)


def can_log(person: Person, team: Team) -> bool:
    if not has_role(person, *AUTHOR_ROLES):
        return False
    return person.is_superuser or team.members.filter(pk=person.pk).exists()


def require_log(person: Person, team: Team) -> None:
    if not has_role(person, *AUTHOR_ROLES):
        raise PermissionDenied("Only a Data scientist or Engineer may log runs.")
    if not can_log(person, team):
        raise PermissionDenied(f"You are not a member of {team}.")
