"""Environments: an admin adds one or changes what it requires; each change is audited."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from portal.people import Person
from portal.roles import Role
from portal.services.audit import record_event
from registry.choices import VersionStatus
from registry.releases.models import Environment

AUDITED = (
    "title",
    "version_status",
    "approvals_needed",
    "required_roles",
    "gates_required",
    "min_completeness",
    "runbook_required",
    "guarding_metrics",
)


# Staging and production as a new installation has them (migration 0002 made the same).
DEFAULTS = [
    {
        "name": "staging",
        "title": "Staging",
        "position": 1,
        "version_status": VersionStatus.STAGING,
        "approvals_needed": 1,
        "required_roles": [],
        "gates_required": False,
        "min_completeness": 0,
        "runbook_required": False,
        "guarding_metrics": [],
    },
    {
        "name": "production",
        "title": "Production",
        "position": 2,
        "version_status": VersionStatus.PRODUCTION,
        "approvals_needed": 2,
        "required_roles": [Role.DATA_SCIENTIST, Role.ENGINEER],
        "gates_required": True,
        "min_completeness": 75,
        "runbook_required": True,
        "guarding_metrics": ["accuracy", "error_rate"],
    },
]


def ensure_default_environments() -> None:
    """Staging and production, unless they exist (a flushed test database lacks them)."""
    for values in DEFAULTS:
        Environment.objects.get_or_create(name=values["name"], defaults=values)


@transaction.atomic
def save_environment(*, actor: Person, environment: Environment) -> Environment:
    if not getattr(actor, "is_superuser", False):
        raise PermissionDenied("Only an administrator may change environments.")
    errors = {}
    roles = environment.required_roles
    if not isinstance(roles, list) or any(role not in Role.values for role in roles):
        errors["required_roles"] = f"List roles among: {', '.join(Role.values)}."
    elif len(set(roles)) != len(roles):
        errors["required_roles"] = "Name each role once."
    metrics = environment.guarding_metrics
    named = isinstance(metrics, list) and all(isinstance(m, str) and m.strip() for m in metrics)
    if not named:
        errors["guarding_metrics"] = 'List metric names, e.g. ["accuracy", "error_rate"].'
    if environment.version_status not in (VersionStatus.STAGING, VersionStatus.PRODUCTION):
        errors["version_status"] = "Choose staging or production."
    if errors:
        raise ValidationError(errors)
    environment.full_clean()
    before = None
    if environment.pk:
        stored = Environment.objects.select_for_update().get(pk=environment.pk)
        before = model_to_dict(stored, fields=AUDITED)
    environment.save()
    record_event(
        actor=actor,
        verb="environment.saved",
        target=environment,
        before=before,
        after=model_to_dict(environment, fields=AUDITED),
    )
    return environment
