"""Drift verdicts as badges: a report's on the monitoring pages, and a model's latest on
its page (read from the versions the page has already read: no query)."""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from registry.models import ModelVersion, RegisteredModel
from registry.monitoring.queries import Verdict, badge_version

register = template.Library()

MODEL_STATES = {"drift": ("Drift", "bad"), "ok": ("No drift", "ok")}


@register.simple_tag
def drift_badge(verdict: Verdict) -> SafeString:
    """A report's verdict, coloured: drift and critical columns bad, no drift ok."""
    return format_html(
        '<span class="badge drift-{} {}" data-drift="{}">{}</span>',
        verdict.state,
        verdict.tone,
        verdict.state,
        verdict.label,
    )


@register.simple_tag
def model_drift_badge(model: RegisteredModel, versions: Sequence[ModelVersion]) -> SafeString:
    """The latest finished report of the production version (else the highest monitored
    one) as a badge linking to the model's monitoring page; nothing without a report.
    ``versions`` are the model page's, annotated by ``registry.queries.light_versions``."""
    return _state_badge(model, badge_version(versions))


@register.simple_tag
def version_drift_badge(
    model: RegisteredModel, versions: Sequence[ModelVersion], selected: ModelVersion | None
) -> SafeString:
    """The selected version's latest drift verdict, for its card; nothing when it has none."""
    wanted = selected.pk if selected is not None else None
    return _state_badge(model, next((v for v in versions if v.pk == wanted), None))


def _state_badge(model: RegisteredModel, version: ModelVersion | None) -> SafeString:
    state = getattr(version, "drift_state", None)
    if version is None or state not in MODEL_STATES:
        return SafeString("")
    label, tone = MODEL_STATES[state]
    return format_html(
        '<a class="drift-status" href="{}" title="Latest drift report of {}">'
        '<span class="badge {}" data-drift="{}">{}</span></a>',
        reverse("monitoring:model", args=[model.name]),
        version.version,
        tone,
        state,
        label,
    )


@register.filter
def share(value: float | None) -> str:
    """A share of rows as a percentage, one decimal."""
    return "—" if value is None else f"{value:.1%}"


@register.filter
def rows(value: int | None) -> str:
    """A row count with thousands separated."""
    return "—" if value is None else f"{value:,}"


@register.filter
def whole_percent(value: float | None) -> str:
    """A share as a whole percentage: 0.4 is 40%."""
    return "—" if value is None else f"{value:.0%}"
