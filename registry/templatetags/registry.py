"""The registry's badges and version switcher as tags.

Tables show a badge per row and the switcher an option per version: a tag costs a fraction
of an ``{% include %}`` or a template loop (no template to render, each value read once).
"""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from registry.choices import VersionStatus
from registry.models import Artifact, ModelCard, ModelVersion, completeness_percent

register = template.Library()

STATUS_LABELS: dict[str, str] = dict(VersionStatus.choices)
STATUS_TONES: dict[str, str] = {
    VersionStatus.PRODUCTION: " ok",
    VersionStatus.STAGING: " warn",
    VersionStatus.CANDIDATE: " warn",
    VersionStatus.ARCHIVED: " muted",
}
NO_CARD = mark_safe('<span class="muted">—</span>')
NO_ARTIFACT = mark_safe('<span class="muted">none</span>')


@register.simple_tag
def status_badge(status: str) -> SafeString:
    """A version's status, coloured by how far it went."""
    return format_html(
        '<span class="badge status-{}{}">{}</span>',
        status,
        STATUS_TONES.get(status, ""),
        STATUS_LABELS.get(status, status),
    )


@register.simple_tag
def completeness_badge(card: ModelCard | None) -> SafeString:
    """How many of the required card sections are written, as a percentage."""
    if not card:
        return NO_CARD
    written, required = card.required_counts()
    percent = completeness_percent(written)
    tone = "ok" if percent == 100 else "warn" if percent >= 50 else "bad"
    return format_html(
        '<span class="badge completeness {}" title="Required sections written: {} of {}; '
        'other sections are optional">card {}% <span class="completeness-counts">'
        "({}/{} required)</span></span>",
        tone,
        written,
        required,
        percent,
        written,
        required,
    )


@register.simple_tag
def artifact_badge(artifact: Artifact | None) -> SafeString:
    """The artifact's validation, in its users' words."""
    if not artifact:
        return NO_ARTIFACT
    return format_html(
        '<span class="badge artifact-{} {}">{}</span>',
        artifact.status,
        artifact.tone,
        artifact.get_status_display(),
    )


@register.simple_tag
def version_options(versions: Iterable[ModelVersion], selected: ModelVersion | None) -> SafeString:
    """The switcher's ``<option>`` of every version, ``selected`` selected."""
    selected_pk = selected.pk if selected else None
    options = []
    for version in versions:
        name = conditional_escape(version.version)
        label = conditional_escape(STATUS_LABELS.get(version.status, version.status))
        chosen = " selected" if version.pk == selected_pk else ""
        options.append(f'<option value="{name}"{chosen}>{name} · {label}</option>')
    return mark_safe("".join(options))  # noqa: S308 - every value escaped above
