"""The release webhooks page: the webhooks a person may see, a form to add one for a team or
an environment they configure, and the latest release deliveries with a "Resend" button on
the failed ones.

Who may configure, resend or see what is ``registry.releases.services.webhooks``'s to say;
this module only asks it (``may_configure``, ``resendable``, ``visible_*``), hides the buttons
it would refuse, and turns its PermissionDenied into a 403 and its ValidationError into form
errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from portal.models import Team
from portal.people import Person, signed_in
from portal.web import HtmxHttpRequest, report_outcome, submit
from portal.webhooks.models import WebhookDelivery
from registry.releases.forms import WebhookForm, event_label
from registry.releases.models import Environment, ReleaseWebhook
from registry.releases.queries import environments
from registry.releases.services.webhooks import (
    add_webhook,
    may_configure,
    release_deliveries,
    remove_webhook,
    resend_delivery,
    resendable,
    visible_deliveries,
    visible_webhooks,
)

DELIVERIES_SHOWN = 50


@dataclass(frozen=True)
class WebhookRow:
    hook: ReleaseWebhook
    may_configure: bool
    host: str
    events: list[str]  # labels; empty: every event


@dataclass(frozen=True)
class DeliveryRow:
    delivery: WebhookDelivery
    may_resend: bool


class _Added:
    """Where ``submit`` redirects after adding a webhook: back to this page."""

    def __init__(self, hook: ReleaseWebhook) -> None:
        self.hook = hook

    def get_absolute_url(self) -> str:
        return reverse("releases:webhooks")


@require_http_methods(["GET", "POST"])
def webhooks(request: HtmxHttpRequest) -> HttpResponse:
    person = signed_in(request)
    teams = [team for team in _teams_of(person) if may_configure(person, team=team)]
    envs = [env for env in environments() if may_configure(person, environment=env)]
    form = WebhookForm(request.POST or None, teams=teams, environments=envs)
    if request.method == "POST" and not form.offers_anything:
        raise PermissionDenied("You configure no team's or environment's release webhooks.")
    done = submit(
        request,
        form,
        lambda data: _Added(
            add_webhook(
                actor=person,
                url=data["url"],
                events=data["events"],
                team=data["team"],
                environment=data["environment"],
            )
        ),
        success=lambda added: f"Release events now go to {urlsplit(added.hook.url).hostname}.",
    )
    if done.response is not None:
        return done.response
    deliveries = list(visible_deliveries(person)[:DELIVERIES_SHOWN])
    may_resend_ids = resendable(person, deliveries)
    context = {
        "form": form,
        "webhooks": _webhook_rows(visible_webhooks(person), teams, envs),
        "deliveries": [DeliveryRow(d, d.pk in may_resend_ids) for d in deliveries],
        "deliveries_shown": DELIVERIES_SHOWN,
    }
    return render(request, "releases/webhooks.html", context)


@require_POST
def webhook_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    # Any webhook: someone else's is the service's 403, not a 404 that hides the rule.
    hook = get_object_or_404(ReleaseWebhook.objects.select_related("team", "environment"), pk=pk)
    remove_webhook(actor=signed_in(request), webhook=hook)
    messages.success(request, f"Release events no longer go to {urlsplit(hook.url).hostname}.")
    return redirect("releases:webhooks")


@require_POST
def delivery_resend(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    person = signed_in(request)
    delivery = get_object_or_404(release_deliveries(), pk=pk)
    report_outcome(
        request,
        lambda: resend_delivery(actor=person, delivery=delivery),
        f"The {delivery.event} delivery to {delivery.host} is queued again.",
    )
    return redirect("releases:webhooks")


def _teams_of(person: Person) -> QuerySet[Team]:
    """The teams whose webhooks ``person`` might configure: a superuser's are all of them."""
    teams = Team.objects.all() if person.is_superuser else person.teams.all()
    return teams.order_by("name")


def _webhook_rows(
    hooks: Iterable[ReleaseWebhook], teams: Sequence[Team], envs: Sequence[Environment]
) -> list[WebhookRow]:
    # ``teams`` and ``envs`` are what ``may_configure`` allowed: asked once each, not per row.
    team_ids = {team.pk for team in teams}
    env_ids = {env.pk for env in envs}
    return [
        WebhookRow(
            hook=hook,
            may_configure=(
                hook.team_id in team_ids if hook.team_id else hook.environment_id in env_ids
            ),
            host=urlsplit(hook.url).hostname or "?",
            events=[event_label(event) for event in hook.events],
        )
        for hook in hooks
    ]
