"""Markdown is rendered in a bounded child process and hostile HTML is neutralised."""

import time

import pytest
from django.core.exceptions import ValidationError

from portal.markdown import MarkdownRefused, render, render_fields


def render_markdown(text: str | None) -> str:
    return render(text or "")


HOSTILE = {
    "script tag": "<script>alert(1)</script>hello",
    "javascript link": "[click](javascript:alert(1))",
    "javascript raw link": '<a href="javascript:alert(1)">x</a>',
    "onerror attribute": '<img src="x.png" onerror="alert(1)">',
    "iframe": '<iframe src="https://evil.example/"></iframe>',
    "data url image": "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "data url link": "[x](data:text/html,<script>alert(1)</script>)",
    "svg script": "<svg><script>alert(1)</script></svg>",
    "style attribute": '<p style="background:url(javascript:alert(1))">x</p>',
    "style element": "<style>body{display:none}</style>",
    "mixed case scheme": "[x](JaVaScRiPt:alert(1))",
    "entity-encoded scheme": '<a href="&#106;avascript:alert(1)">x</a>',
    "form": '<form action="/admin/"><button>go</button></form>',
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_it_neutralises_hostile_input(text: str) -> None:
    """No script, handler, frame, style or dangerous URL survives rendering."""
    html = str(render_markdown(text)).lower()
    forbidden = ("<script", "onerror", "<iframe", "javascript:", "data:", "<svg", "style", "<form")
    for needle in forbidden:
        assert needle not in html, (needle, html)


def test_it_renders_tables_fenced_code_and_headings_with_ids() -> None:
    """The extensions people rely on in model cards work."""
    text = "# Metrics\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = 1 < 2\n```\n"
    html = str(render_markdown(text))
    assert '<h1 id="md-metrics">Metrics</h1>' in html
    assert "<table>" in html and "<td>1</td>" in html
    assert '<code class="language-python">x = 1 &lt; 2' in html


def test_it_keeps_safe_links_and_marks_them_noopener() -> None:
    """http(s) and mailto links stay, with rel noopener."""
    html = str(render_markdown("[docs](https://example.com/x) <ops@example.com>"))
    assert 'href="https://example.com/x"' in html
    assert "noopener" in html
    assert "mailto:" in html


def test_it_renders_nothing_for_empty_text() -> None:
    """None and empty text give an empty string, not 'None'."""
    assert render_markdown(None) == ""
    assert render_markdown("") == ""


def test_templates_have_no_filter_that_renders_markdown_on_a_readers_request() -> None:
    """Pages show the HTML stored on save; a |markdown filter would render on every view."""
    from django.template import TemplateSyntaxError, engines

    with pytest.raises(TemplateSyntaxError):
        engines["django"].from_string("{% load portal %}{{ text|markdown }}")


def test_user_text_cannot_claim_the_pages_own_ids() -> None:
    """Heading ids are prefixed; attr_list and raw-HTML ids are not honoured."""
    html = str(render_markdown('### Panel {#artifact-panel}\n\n<h2 id="card-heading">x</h2>'))
    assert 'id="artifact-panel"' not in html and 'id="card-heading"' not in html
    assert 'id="md-' in html


def test_quadratic_input_is_refused_within_the_budget_and_the_renderer_recovers(
    settings,
) -> None:
    """A run of brackets that takes minutes in Python-Markdown is cut off at the budget."""
    settings.HANDOFF_MARKDOWN_RENDER_SECONDS = 1
    started = time.monotonic()

    with pytest.raises(MarkdownRefused, match="longer than 1 seconds"):
        render("[" * 20_000)

    assert time.monotonic() - started < 4
    assert render("*still works*") == "<p><em>still works</em></p>"


def test_nesting_that_exhausts_the_recursion_limit_is_refused() -> None:
    """6 KB of nested list markers crash Python-Markdown's recursion; here it is a refusal."""
    with pytest.raises(MarkdownRefused, match="nests too deeply"):
        render("- " * 3_000 + "x")
    assert render("- a\n- b").count("<li>") == 2


def test_render_fields_names_every_refused_field() -> None:
    """Good fields render, bad ones are reported together, keyed by field."""
    with pytest.raises(ValidationError) as caught:
        render_fields({"intro": "ok", "metrics": "- " * 3_000 + "x", "notes": "x" * 60_000})

    errors = caught.value.message_dict
    assert set(errors) == {"metrics", "notes"}
    assert "nests too deeply" in errors["metrics"][0]
    assert "longer than 50,000 characters" in errors["notes"][0]
    assert render_fields({"intro": "**a**"}) == {"intro": "<p><strong>a</strong></p>"}
