"""Who may change what in the registry. Everyone signed in may read."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from portal.models import Team
from portal.roles import Role, has_role
from registry.models import RegisteredModel

AUTHOR_ROLES = (Role.DATA_SCIENTIST, Role.ENGINEER)


def can_create_model(user: Any, team: Team | None = None) -> bool:
    """Data scientists and engineers may register models for teams they belong to."""
    if getattr(user, "is_superuser", False):
        return True
    if not has_role(user, *AUTHOR_ROLES):
        return False
    return team is None or team.members.filter(pk=user.pk).exists()


def can_edit_model(user: Any, model: RegisteredModel) -> bool:
    """A model, its versions, cards, contracts and artifacts belong to its team's authors.

    Team membership alone is not enough: a Viewer or an Approver in the team reads only.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not has_role(user, *AUTHOR_ROLES):
        return False
    member_of = getattr(user, "_handoff_team_ids", None)
    if member_of is None:
        member_of = set(user.teams.values_list("pk", flat=True))
        user._handoff_team_ids = member_of
    return model.team_id in member_of


def require_edit(user: Any, model: RegisteredModel) -> None:
    if not can_edit_model(user, model):
        raise PermissionDenied(
            f"Only members of {model.team} who are Data scientists or Engineers "
            f"may change {model.name}."
        )


def require_create(user: Any, team: Team) -> None:
    if not has_role(user, *AUTHOR_ROLES):
        raise PermissionDenied("Only a Data scientist or Engineer may register a model.")
    if not can_create_model(user, team):
        raise PermissionDenied(f"You are not a member of {team}.")
