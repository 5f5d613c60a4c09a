"""Who may do what to a release. Services call these; views only hide buttons with them."""

from __future__ import annotations

from typing import Any

from portal.roles import Role, has_role
from registry.permissions import can_edit_model
from registry.releases.models import ReleaseRequest


def can_request(user: Any, version: Any) -> bool:
    """The model's team's data scientists and engineers request its releases."""
    return can_edit_model(user, version.model)


def is_approver(user: Any) -> bool:
    return has_role(user, Role.APPROVER)


def can_decide(user: Any, release: ReleaseRequest) -> bool:
    """An approver who did not request it; never the requester, whatever their roles."""
    if not getattr(user, "is_authenticated", False):
        return False
    return is_approver(user) and user.pk != release.requested_by_id


def can_deploy(user: Any, release: ReleaseRequest) -> bool:
    return can_edit_model(user, release.version.model) or is_approver(user)


def can_roll_back(user: Any, release: ReleaseRequest) -> bool:
    return can_deploy(user, release)


def can_cancel(user: Any, release: ReleaseRequest) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.pk == release.requested_by_id or can_edit_model(user, release.version.model)
