"""Release panels other pages include: what runs where (the model page), the request link
(the version page), approvals waiting for me (the home page), and a release's state badge."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from registry.models import ModelVersion, RegisteredModel
from registry.releases.choices import Check, State
from registry.releases.permissions import can_request
from registry.releases.queries import waiting_panel, what_runs_where

register = template.Library()

TONES: dict[str, str] = {
    State.PENDING: "warn",
    State.APPROVED: "ok",
    State.DEPLOYING: "warn",
    State.DEPLOYED: "ok",
    State.REJECTED: "bad",
    State.CANCELLED: "muted",
    State.FAILED: "bad",
    State.ROLLED_BACK: "bad",
}


@register.simple_tag
def state_badge(state: str) -> SafeString:
    label = State(state).label if state in State.values else state
    return format_html(
        '<span class="badge state-{} {}">{}</span>', state, TONES.get(state, ""), label
    )


@register.simple_tag(takes_context=True)
def what_runs_where_panel(context: dict[str, Any], model: RegisteredModel) -> SafeString:
    """The model's current deployment in each environment, with a rollback form for those
    who may roll back: one query."""
    request = context["request"]
    html = render_to_string(
        "releases/partials/what_runs_where.html",
        {"model": model, "running": what_runs_where(model, request.user), "next": request.path},
        request=request,
    )
    return SafeString(html)


@register.simple_tag(takes_context=True)
def request_release_link(context: dict[str, Any], version: ModelVersion | None) -> SafeString:
    """A link to the request form, for the people who may request a release (no query: the
    reader's roles and teams are read once per request)."""
    user = context["request"].user
    if version is None or not can_request(user, version):
        return SafeString("")
    return format_html(
        '<a class="button" href="{}">Request a release</a>',
        reverse("releases:request", args=[version.model.name, version.version]),
    )


@register.simple_tag(takes_context=True)
def approvals_waiting_panel(context: dict[str, Any]) -> SafeString:
    """The home page's panel: no query for someone who is not an approver."""
    request = context["request"]
    html = render_to_string(
        "releases/partials/waiting_panel.html",
        {"waiting": waiting_panel(request.user)},
        request=request,
    )
    return SafeString(html)


@register.filter
def check_label(name: str) -> str:
    return Check(name).label if name in Check.values else name


# What a timeline entry shows of an event's ``after``, besides the state it moved to.
DETAIL_KEYS = ("comment", "message", "reason", "override_reason", "change", "check", "restored")


@register.simple_tag
def event_details(event: Any) -> SafeString:
    """A release event's before and after as a line: "pending → approved · comment: ok"."""
    before, after = event.before or {}, event.after or {}
    parts = []
    if "state" in after:
        parts.append(format_html("{} → {}", before.get("state", "—"), after["state"]))
    if "traffic_percent" in after:
        parts.append(
            format_html(
                "traffic {}% → {}%", before.get("traffic_percent", 0), after["traffic_percent"]
            )
        )
    for key in DETAIL_KEYS:
        if after.get(key):
            parts.append(format_html("{}: {}", key.replace("_", " "), after[key]))
    if after.get("approvers"):
        parts.append(format_html("dismissed: {}", ", ".join(after["approvers"])))
    return SafeString(" · ".join(parts))


@register.filter
def compact_json(value: Any) -> str:
    """An audit snapshot as one line of JSON."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@register.filter
def hours(value: float | None) -> str:
    """A duration in hours as people read it: "—" without one, hours under two days, else
    days."""
    if value is None:
        return "—"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} days"


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


@register.filter
def canary_result(comparison: Any) -> Any:
    """A canary comparison's statistics (values, difference, test, verdict): on its
    ``result`` or ``stats`` when it wraps them, else on itself."""
    for name in ("result", "stats"):
        found = getattr(comparison, name, None)
        if found is not None:
            return found
    return comparison
