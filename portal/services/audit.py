"""Recording audit events."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from portal.models import AuditEvent
from portal.people import Person
from portal.request_id import current_request_id


def record_event(
    *,
    actor: Person | None,
    verb: str,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event inside the caller's transaction.

    Called from within ``transaction.atomic``, the event commits or rolls back with the
    change it records, so the log never claims a change that did not happen.
    """
    with transaction.atomic():
        return AuditEvent.objects.create(
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            verb=verb,
            target_type=ContentType.objects.get_for_model(target) if target is not None else None,
            target_id=str(target.pk) if target is not None else "",
            target_repr=str(target)[:200] if target is not None else "",
            before=before,
            after=after,
            request_id=current_request_id(),
        )


def events_for(target: models.Model) -> models.QuerySet[AuditEvent]:
    """The audit trail of one object, newest first."""
    return AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)
    ).select_related("actor")
