"""Who may upload datasets, evaluate versions and set their gates. Everyone signed in reads.

The rules are the registry's: a team's Data scientists and Engineers work on its models and
data; Viewers and Approvers read (an Approver also overrides failed gates).
"""

from __future__ import annotations

from typing import Any

from portal.models import Team
from registry.models import ModelVersion
from registry.permissions import can_create_model, can_edit_model


def can_upload_dataset(user: Any, team: Team) -> bool:
    """Data scientists and Engineers of ``team``."""
    return bool(getattr(user, "is_authenticated", False)) and can_create_model(user, team)


def can_evaluate(user: Any, version: ModelVersion) -> bool:
    """Who may edit the model may evaluate its versions and map their inputs."""
    return can_edit_model(user, version.model)
