"""Telling people and systems about a release: in-app notifications, email to approvers,
and signed webhooks to the receivers configured for the team or the environment. Emails
and webhooks leave only once the change commits."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.notifications.services import notify
from portal.people import Person
from portal.roles import Role
from portal.webhooks.services import queue_webhook

if TYPE_CHECKING:
    from registry.releases.models import ReleaseRequest

log = logging.getLogger(__name__)

EVENTS = (
    "release.requested",
    "release.approved",
    "release.rejected",
    "release.deployed",
    "release.failed",
    "release.rolled_back",
)
SAID = {
    "release.requested": "waits for your approval",
    "release.approved": "was approved",
    "release.rejected": "was rejected",
    "release.deployed": "is deployed",
    "release.failed": "failed to deploy",
    "release.rolled_back": "was rolled back",
}


def approvers_for(release: ReleaseRequest) -> list[Person]:
    """Everyone who may approve the request: active approvers other than the requester."""
    people = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__name=Role.APPROVER) | Q(is_superuser=True))
    )
    return list(people.exclude(pk=release.requested_by_id).distinct().order_by("pk"))


def announce(release: ReleaseRequest, event: str, *, actor: Person | None) -> None:
    url = release.get_absolute_url()
    message = f"{release.version} to {release.environment.name} {SAID[event]}"
    if event == "release.requested":
        recipients = approvers_for(release)
        notify(
            recipients=recipients,
            actor=actor,
            kind="release",
            message=message,
            url=url,
            cause=f"{event}:{release.pk}",
        )
        _email_after_commit(release, recipients, message)
    else:
        notify(
            recipients=[release.requested_by],
            actor=actor,
            kind="release",
            message=message,
            url=url,
            cause=f"{event}:{release.pk}:{timezone.now().timestamp()}",
        )
    for receiver in receivers(release, event):
        queue_webhook(url=receiver, event=event, payload=payload(release, event, actor))


def receivers(release: ReleaseRequest, event: str) -> list[str]:
    from registry.releases.models import ReleaseWebhook

    hooks = ReleaseWebhook.objects.filter(active=True).filter(
        Q(team_id=release.version.model.team_id) | Q(environment_id=release.environment_id)
    )
    return sorted({hook.url for hook in hooks if not hook.events or event in hook.events})


def payload(release: ReleaseRequest, event: str, actor: Person | None) -> dict[str, Any]:
    """The JSON a receiver gets (docs/api.md, "Release webhooks")."""
    version = release.version
    return {
        "event": event,
        "at": timezone.now().isoformat(),
        "actor": actor.get_username() if actor is not None else None,
        "release": {
            "id": release.pk,
            "url": settings.HANDOFF_BASE_URL + release.get_absolute_url(),
            "model": version.model.name,
            "version": version.version,
            "environment": release.environment.name,
            "state": release.state,
            "strategy": release.strategy,
            "traffic_percent": release.traffic_percent,
            "requested_by": release.requested_by.get_username(),
        },
    }


def _email_after_commit(release: ReleaseRequest, recipients: list[Person], message: str) -> None:
    addresses = sorted({person.email for person in recipients if person.email})
    if not addresses:
        return
    subject = f"[Handoff] {message}"
    body = (
        f"{release.requested_by.get_username()} asks to release {release.version} "
        f"to {release.environment}.\n\nReview it: {settings.HANDOFF_BASE_URL}"
        f"{release.get_absolute_url()}\n"
    )

    def send() -> None:
        for address in addresses:  # one message each: no approver sees the others' addresses
            try:
                send_mail(subject, body, None, [address])
            except OSError:
                log.exception("release email to an approver failed")

    transaction.on_commit(send)
