"""Send and read notifications. Any app notifies through ``notify``."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal.notifications.models import Notification
from portal.people import Person


def notify(
    *,
    recipients: Iterable[Person],
    actor: Person | None,
    kind: str,
    message: str,
    url: str,
    cause: str,
) -> int:
    """Notify each of ``recipients`` once per ``cause``, never the actor; how many were new."""
    people = {person.pk: person for person in recipients if person is not None}
    if actor is not None:
        people.pop(actor.pk, None)
    if not people:
        return 0
    rows = [
        Notification(
            recipient=person, actor=actor, kind=kind, message=message[:300], url=url, cause=cause
        )
        for person in people.values()
    ]
    with transaction.atomic():
        before = Notification.objects.filter(cause=cause, recipient__in=people).count()
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        after = Notification.objects.filter(cause=cause, recipient__in=people).count()
    return after - before


def unread(person: Person) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=person, read_at__isnull=True)


def mark_read(*, person: Person, ids: Iterable[int] | None = None) -> int:
    """Mark ``ids`` (or every unread one) of ``person``'s notifications read; how many."""
    rows = unread(person)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
