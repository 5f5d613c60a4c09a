"""Who may set up drift monitoring and run reports. Everyone signed in reads them.

The registry's rule: a team's Data scientists and Engineers work on its models; Viewers and
Approvers read. Scheduled reports run as Handoff itself.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied

from registry.models import ModelVersion
from registry.permissions import can_edit_model


def can_monitor(user: Any, version: ModelVersion) -> bool:
    return can_edit_model(user, version.model)


def require_monitor(user: Any, version: ModelVersion) -> None:
    if not can_monitor(user, version):
        raise PermissionDenied(
            f"Only Data scientists and Engineers of {version.model.team} may set up drift "
            f"monitoring of {version.model.name} and run its reports."
        )
