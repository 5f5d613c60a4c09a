"""Editing a card on its page: live preview, save, README export and import."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.uploads import limit_message
from registry.models import CARD_SECTIONS
from registry.services.model_cards import update_card

EDIT = "/models/fraud-score/versions/1.0.0/card/edit/"
PREVIEW = "/models/fraud-score/versions/1.0.0/card/preview/"
EXPORT = "/models/fraud-score/versions/1.0.0/card/export/"
IMPORT = "/models/fraud-score/versions/1.0.0/card/import/"
CONFIRM = "/models/fraud-score/versions/1.0.0/card/import/confirm/"
XSS = (
    "Safe *text* <script>alert('x')</script> "
    '<img src="x" onerror="alert(1)"> [bad](javascript:alert(2)) <iframe src="https://e.x"></iframe>'
)


def _card_post(**overrides: str) -> dict[str, str]:
    data = {field: "" for field, _ in CARD_SECTIONS}
    data.update(license="", base_model="", languages="", datasets="", contacts="", links="")
    data.update(overrides)
    return data


def _readme(text: str, name: str = "README.md") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/markdown")


def test_the_card_editor_has_a_live_preview_per_section(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """Each textarea posts to the preview URL after a pause and targets its own preview."""
    response = client_for(alice).get(EDIT)
    html = response.content.decode()

    assert response.status_code == 200
    for field, _ in CARD_SECTIONS:
        assert f'id="preview-{field}"' in html
        assert f'hx-target="#preview-{field}"' in html
    assert f'hx-post="{PREVIEW}"' in html
    assert 'hx-trigger="keyup changed delay:400ms"' in html


def test_a_member_saves_sections_and_metadata(client_for: Any, bob: Any, v1: Any) -> None:
    """One-per-line fields become lists; the card is saved through update_card."""
    response = client_for(bob).post(
        EDIT,
        _card_post(
            intended_use="Score **card** payments.",
            license="apache-2.0",
            languages="en\nde\n",
            links="https://wiki.example/fraud\n",
        ),
    )

    assert response.status_code == 302 and response["Location"] == v1.get_absolute_url()
    v1.card.refresh_from_db()
    assert v1.card.intended_use == "Score **card** payments."
    assert v1.card.languages == ["en", "de"] and v1.card.links == ["https://wiki.example/fraud"]
    assert v1.card.updated_by == bob


def test_card_errors_from_the_service_show_on_their_fields(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """A level-2 heading in a section and a javascript: link are refused on their fields."""
    response = client_for(alice).post(
        EDIT, _card_post(metrics="## Oops", links="javascript:alert(1)")
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "level-2 heading" in errors["metrics"][0]
    assert "http" in errors["links"][0]
    v1.card.refresh_from_db()
    assert v1.card.metrics == ""


def test_the_preview_renders_markdown_and_neutralises_script(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """<script>, onerror=, javascript: and iframes never come back from the preview."""
    response = client_for(alice).post(PREVIEW, {"field": "intended_use", "intended_use": XSS})
    html = response.content.decode()

    assert response.status_code == 200
    assert "<em>text</em>" in html
    for bad in ("<script", "onerror", "javascript:", "<iframe"):
        assert bad not in html


def test_the_preview_ignores_unknown_fields(client_for: Any, alice: Any, v1: Any) -> None:
    """Only section fields are previewed."""
    response = client_for(alice).post(PREVIEW, {"field": "csrfmiddlewaretoken", "x": "y"})
    assert response.status_code == 200 and b"Nothing written yet" in response.content


def test_the_preview_needs_a_post_and_edit_rights(
    client_for: Any, alice: Any, charlie: Any, victor: Any, v1: Any
) -> None:
    """GET is 405; outsiders 403."""
    data = {"field": "intended_use", "intended_use": "x"}
    assert client_for(alice).get(PREVIEW).status_code == 405
    assert client_for(charlie).post(PREVIEW, data).status_code == 403
    assert client_for(victor).post(PREVIEW, data).status_code == 403


@pytest.mark.parametrize("persona", ["charlie", "victor"])
def test_outsiders_cannot_edit_or_import_a_card(
    request: Any, client_for: Any, v1: Any, persona: str
) -> None:
    """403 on the editor and on the import; the card stays as it was."""
    client = client_for(request.getfixturevalue(persona))
    assert client.get(EDIT).status_code == 403
    assert client.post(EDIT, _card_post(intended_use="Hacked")).status_code == 403
    readme = "---\nlicense: mit\n---\n\n## Intended use\n\nHacked\n"
    assert client.post(IMPORT, {"readme": _readme(readme)}).status_code == 403
    v1.card.refresh_from_db()
    assert v1.card.intended_use == "" and v1.card.license == ""


def test_card_pages_of_unknown_versions_are_404(client_for: Any, alice: Any, v1: Any) -> None:
    """Editor, preview, export and import of a version that does not exist."""
    client = client_for(alice)
    base = "/models/fraud-score/versions/7.0.0/card"
    assert client.get(f"{base}/edit/").status_code == 404
    assert client.post(f"{base}/preview/", {"field": "metrics"}).status_code == 404
    assert client.get(f"{base}/export/").status_code == 404
    assert client.post(f"{base}/import/", {"readme": _readme("x")}).status_code == 404


def test_the_card_exports_as_a_readme_download(
    client_for: Any, alice: Any, victor: Any, v1: Any
) -> None:
    """Anyone signed in gets text/markdown as an attachment."""
    update_card(
        actor=alice, card=v1.card, sections={"metrics": "AUC 0.91"}, metadata={"license": "mit"}
    )

    response = client_for(victor).get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="fraud-score-1.0.0-README.md"'
    assert response["X-Content-Type-Options"] == "nosniff"
    text = response.content.decode()
    assert "license: mit" in text and "## Metrics\n\nAUC 0.91" in text


def test_an_exported_readme_imports_back_through_the_page(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """Export, edit the text, import and confirm: the card now equals the file."""
    client = client_for(alice)
    update_card(actor=alice, card=v1.card, sections={"metrics": "AUC 0.91"})
    readme = client.get(EXPORT).content.decode().replace("AUC 0.91", "AUC 0.93")

    shown = client.post(IMPORT, {"readme": _readme(readme)})
    confirm = shown.context["form"]
    response = client.post(
        CONFIRM, {"readme": confirm["readme"].value(), "revision": confirm["revision"].value()}
    )

    assert response.status_code == 302 and response["Location"] == v1.get_absolute_url()
    v1.card.refresh_from_db()
    assert v1.card.metrics == "AUC 0.93"


def test_import_errors_are_shown_on_the_card_editor(client_for: Any, alice: Any, v1: Any) -> None:
    """An unknown section names its line; the card is unchanged."""
    response = client_for(alice).post(
        IMPORT, {"readme": _readme("## Metrics\n\nok\n\n## Secrets\n\nno\n")}
    )

    assert response.status_code == 200
    assert response.templates[0].name == "registry/card_form.html"
    error = response.context["import_form"].errors["readme"][0]
    assert "Unknown section" in error and "line 5" in error
    assert "Unknown section" in response.content.decode()
    v1.card.refresh_from_db()
    assert v1.card.metrics == ""


def test_import_refuses_a_file_that_is_not_utf8(client_for: Any, alice: Any, v1: Any) -> None:
    """Bytes that are not UTF-8 are named as such."""
    upload = SimpleUploadedFile("README.md", b"\xff\xfe\x00bad", content_type="text/markdown")
    response = client_for(alice).post(IMPORT, {"readme": upload})
    assert "not UTF-8" in response.context["import_form"].errors["readme"][0]


def test_import_over_the_upload_cap_gets_413(
    client_for: Any, alice: Any, v1: Any, settings: Any
) -> None:
    """Past HANDOFF_MAX_UPLOAD_BYTES the editor comes back with 413 naming the limit."""
    settings.HANDOFF_MAX_UPLOAD_BYTES = 1000
    response = client_for(alice).post(IMPORT, {"readme": _readme("x" * 100_000)})

    assert response.status_code == 413
    assert limit_message() in response.content.decode()


def test_import_and_export_methods(client_for: Any, alice: Any, v1: Any) -> None:
    """Import needs a POST (405 on GET); export is read-only (405 on POST)."""
    client = client_for(alice)
    assert client.get(IMPORT).status_code == 405
    assert client.post(EXPORT).status_code == 405
