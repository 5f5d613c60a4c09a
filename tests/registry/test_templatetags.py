"""The registry's badges and version switcher, written by tags."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.template import engines

from registry.models import ModelCard


def _render(source: str, **context: Any) -> str:
    return engines["django"].from_string("{% load registry %}" + source).render(context)


@pytest.mark.parametrize(
    ("status", "html"),
    [
        ("production", '<span class="badge status-production ok">Production</span>'),
        ("candidate", '<span class="badge status-candidate warn">Candidate</span>'),
        ("archived", '<span class="badge status-archived muted">Archived</span>'),
        ("draft", '<span class="badge status-draft">Draft</span>'),
        ("<x>", '<span class="badge status-&lt;x&gt;">&lt;x&gt;</span>'),
    ],
)
def test_a_status_badge_is_coloured_by_how_far_the_version_went(status: str, html: str) -> None:
    assert _render("{% status_badge status %}", status=status) == html


def test_a_completeness_badge_counts_the_required_sections(settings: Any) -> None:
    settings.HANDOFF_CARD_REQUIRED_SECTIONS = ["model_details", "intended_use"]
    half = ModelCard(model_details="Written.", intended_use="  ")

    assert _render("{% completeness_badge card %}", card=half) == (
        '<span class="badge completeness warn" title="Required sections written: 1 of 2; '
        'other sections are optional">card 50% <span class="completeness-counts">'
        "(1/2 required)</span></span>"
    )
    assert _render("{% completeness_badge card %}", card=None) == '<span class="muted">—</span>'


def test_an_artifact_badge_says_how_its_validation_went() -> None:
    artifact = SimpleNamespace(status="invalid", tone="bad", get_status_display=lambda: "Invalid")

    assert _render("{% artifact_badge a %}", a=artifact) == (
        '<span class="badge artifact-invalid bad">Invalid</span>'
    )
    assert _render("{% artifact_badge a %}", a=None) == '<span class="muted">none</span>'


def test_the_switcher_lists_every_version_and_selects_one() -> None:
    versions = [
        SimpleNamespace(pk=2, version="2.0.0-rc.1+<b>", status="candidate"),
        SimpleNamespace(pk=1, version="1.0.0", status="production"),
    ]

    html = _render("{% version_options v s %}", v=versions, s=versions[1])

    assert html == (
        '<option value="2.0.0-rc.1+&lt;b&gt;">2.0.0-rc.1+&lt;b&gt; · Candidate</option>'
        '<option value="1.0.0" selected>1.0.0 · Production</option>'
    )
