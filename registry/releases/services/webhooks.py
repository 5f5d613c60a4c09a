"""Configuring release webhooks and re-sending their failed deliveries.

A team's webhook is configured by the team's Data scientists and Engineers (as they manage
its API keys); an environment's by Approvers. The URL is checked when it is saved: its
shape, and a host that is plainly not public (an IP literal in a private range, localhost).
Host names are resolved, and every address checked, at each delivery
(``portal.webhooks.addresses``), because DNS may answer differently by then.

"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import IntegerField, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast

from feedback.services.keys import can_manage
from portal.jobs import JobStatus
from portal.models import Team
from portal.people import Person
from portal.services.audit import record_event
from portal.services.jobs import enqueue_job, reset_job
from portal.webhooks.addresses import refusal
from portal.webhooks.models import WebhookDelivery
from portal.webhooks.services import url_problem
from registry.releases.models import Environment, ReleaseRequest, ReleaseWebhook
from registry.releases.permissions import is_approver
from registry.releases.services.events import EVENTS

EVENT_PREFIX = "release."
# What ``reset_job`` sets.
RESET_FIELDS = [
    *("status", "progress", "progress_text", "error", "attempts", "max_attempts"),
    *("queued_at", "started_at", "finished_at", "lease_expires_at", "lease_token"),
    *("started_by", "cancel_requested"),
]
LOCAL_NAMES = ("localhost", "localhost.localdomain")


def may_configure(
    person: Person, *, team: Team | None = None, environment: Environment | None = None
) -> bool:
    if team is not None:
        return can_manage(person, team)
    return environment is not None and (person.is_superuser or is_approver(person))


def address_problem(url: str) -> str:
    """What plainly keeps ``url`` from reaching a public address, or ""."""
    if settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE:
        return ""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        kind = "loopback"
    else:
        try:
            kind = refusal(ipaddress.ip_address(host))
        except ValueError:
            return ""  # a name: resolved and checked at each delivery
    return (
        f"{host} is a {kind} address: webhooks only reach public addresses. Use a public URL, "
        "or ask an administrator to allow private addresses (HANDOFF_WEBHOOK_ALLOW_PRIVATE)."
    )


@transaction.atomic
def add_webhook(
    *,
    actor: Person,
    url: str,
    events: Sequence[str] = (),
    team: Team | None = None,
    environment: Environment | None = None,
) -> ReleaseWebhook:
    if (team is None) == (environment is None):
        raise ValidationError({"detail": "Name either a team or an environment."})
    if not may_configure(actor, team=team, environment=environment):
        raise PermissionDenied(_who_configures(team))
    url = url.strip()
    problem = url_problem(url) or address_problem(url)
    if problem:
        raise ValidationError({"url": problem})
    chosen = list(dict.fromkeys(events))
    unknown = [event for event in chosen if event not in EVENTS]
    if unknown:
        raise ValidationError({"events": f"Choose among: {', '.join(EVENTS)}."})
    hook = ReleaseWebhook.objects.create(
        team=team, environment=environment, url=url, events=chosen, created_by=actor
    )
    record_event(
        actor=actor,
        verb="release_webhook.created",
        target=hook,
        # The host only: a receiver's URL may carry its secret, and the audit trail is wide.
        after={
            "team": team.slug if team else None,
            "environment": environment.name if environment else None,
            "host": urlsplit(url).hostname,
            "events": chosen,
        },
    )
    return hook


@transaction.atomic
def remove_webhook(*, actor: Person, webhook: ReleaseWebhook) -> None:
    if not may_configure(actor, team=webhook.team, environment=webhook.environment):
        raise PermissionDenied(_who_configures(webhook.team))
    record_event(
        actor=actor,
        verb="release_webhook.deleted",
        target=webhook,
        before={"host": urlsplit(webhook.url).hostname, "events": webhook.events},
    )
    webhook.delete()


def _who_configures(team: Team | None) -> str:
    if team is not None:
        return f"Only Data scientists and Engineers of {team} configure its webhooks."
    return "Only Approvers configure an environment's webhooks."


def visible_webhooks(person: Person) -> QuerySet[ReleaseWebhook]:
    """The webhooks ``person`` may configure: their teams', and environments' for approvers."""
    hooks = ReleaseWebhook.objects.select_related("team", "environment", "created_by").order_by(
        "pk"
    )
    if person.is_superuser:
        return hooks
    mine = Q(team__in=person.teams.all())
    if is_approver(person):
        mine |= Q(environment__isnull=False)
    return hooks.filter(mine)


# Deliveries -------------------------------------------------------------------------------


def release_deliveries() -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(event__startswith=EVENT_PREFIX).order_by(
        "-queued_at", "-pk"
    )


def visible_deliveries(person: Person) -> QuerySet[WebhookDelivery]:
    """Release deliveries ``person`` may see and resend: all for approvers, else those
    about their teams' models."""
    deliveries = release_deliveries()
    if person.is_superuser or is_approver(person):
        return deliveries
    ids = ReleaseRequest.objects.filter(version__model__team__in=person.teams.all()).values("pk")
    # As text, then a number: a JSON value compares with a column alike on every database.
    release_id = Cast(KeyTextTransform("id", KeyTransform("release", "payload")), IntegerField())
    return deliveries.annotate(release_id=release_id).filter(release_id__in=ids)


def release_id_of(delivery: WebhookDelivery) -> int | None:
    """The release a delivery's payload names (``services.events.payload``)."""
    found = (delivery.payload or {}).get("release")
    pk = found.get("id") if isinstance(found, dict) else None
    return pk if isinstance(pk, int) else None


def may_resend(person: Person, delivery: WebhookDelivery) -> bool:
    """A release's deliveries are resent by its team's authors, or by any Approver."""
    return delivery.pk in resendable(person, [delivery], failed_only=False)


def resendable(
    person: Person, deliveries: Sequence[WebhookDelivery], *, failed_only: bool = True
) -> set[int]:
    """The ids of ``deliveries`` (the failed ones, unless told otherwise) that ``person`` may
    resend: one query for their releases' teams, however many there are."""
    candidates = [
        delivery
        for delivery in deliveries
        if delivery.event.startswith(EVENT_PREFIX)
        and (delivery.phase == JobStatus.FAILED or not failed_only)
    ]
    if not candidates:
        return set()
    if person.is_superuser or is_approver(person):
        return {delivery.pk for delivery in candidates}
    release_ids = {release_id_of(delivery) for delivery in candidates} - {None}
    releases = ReleaseRequest.objects.filter(pk__in=release_ids).select_related(
        "version__model__team"
    )
    team_of: dict[int | None, Team] = {r.pk: r.version.model.team for r in releases}
    managed = {team.pk: can_manage(person, team) for team in team_of.values()}
    return {
        delivery.pk
        for delivery in candidates
        if (team := team_of.get(release_id_of(delivery))) is not None and managed[team.pk]
    }


@transaction.atomic
def resend_delivery(*, actor: Person, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a failed delivery again, with fresh attempts: the same event, payload and id
    (``X-Handoff-Delivery``), so a receiver that got it after all can tell."""
    if not may_resend(actor, delivery):
        raise PermissionDenied(
            "Only the release's team, or an Approver, may resend its webhook deliveries."
        )
    locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if locked.phase != JobStatus.FAILED:
        raise ValidationError(
            {"detail": f"{locked} is {locked.phase.label.lower()}: only a failed one is resent."}
        )
    reset_job(locked, actor=actor)
    locked.response_status = locked.response_ms = locked.delivered_at = None
    locked.save(update_fields=[*RESET_FIELDS, "response_status", "response_ms", "delivered_at"])
    record_event(
        actor=actor,
        verb=WebhookDelivery.audit_verb("resent"),
        target=locked,
        after={"event": locked.event, "host": locked.host},
    )
    enqueue_job(locked)
    return locked
