"""The version page's quality-gate verdict."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from registry.evaluation.verdicts import VerdictState, verdict
from registry.models import ModelVersion

register = template.Library()

TONES = {
    VerdictState.PASS: "ok",
    VerdictState.FAIL: "bad",
    VerdictState.OVERRIDDEN: "warn",
    VerdictState.PENDING: "warn",
    VerdictState.NONE: "muted",
}


@register.simple_tag(takes_context=True)
def gate_verdict_panel(context: dict[str, Any], version: ModelVersion | None) -> SafeString:
    """The verdict badge, the failing rules and links to the results and the rules: one
    query, two when an override covers the failures."""
    if version is None:
        return SafeString("")
    current = verdict(version)
    html = render_to_string(
        "evaluation/partials/verdict.html",
        {"version": version, "verdict": current, "tone": TONES[VerdictState(current.state)]},
    )
    return SafeString(html)
