"""Markdown is rendered once, on save, within a budget; readers only ever get stored HTML."""

from __future__ import annotations

from typing import Any

import pytest

from registry.models import ModelCard, ModelVersion
from registry.services.versions import create_version, update_notes

VERSION = "/api/v1/models/fraud-score/versions/1.0.0"
PAGE = "/models/fraud-score/versions/1.0.0/"
# Each refused within the budget: a crash of the renderer's recursion, and quadratic time.
TOO_DEEP = "- " * 3_000 + "x"
TOO_SLOW = "[" * 20_000


@pytest.fixture
def no_rendering(monkeypatch) -> None:
    """Any call to the renderer fails the test: pages must not render Markdown."""

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("Markdown was rendered on a reader's request")

    monkeypatch.setattr("portal.markdown.render", refuse)
    monkeypatch.setattr("registry.views.cards.render_markdown", refuse)


def test_saving_stores_the_html_of_sections_and_notes(api_for, alice, v1) -> None:
    """A saved section and the notes are stored as HTML and shown from there."""
    api_for(alice).patch(f"{VERSION}/card/", {"metrics": "**AUC** 0.91"}, format="json")
    api_for(alice).patch(f"{VERSION}/", {"notes": "Retrained on *Q3*."}, format="json")
    card, version = ModelCard.objects.get(version=v1), ModelVersion.objects.get(pk=v1.pk)
    assert card.html["metrics"] == "<p><strong>AUC</strong> 0.91</p>"
    assert version.notes_html == "<p>Retrained on <em>Q3</em>.</p>"


def test_reading_pages_never_runs_the_renderer(client_for, alice, victor, v1, no_rendering):
    """The model page, the version page and the card editor's first view use stored HTML."""
    ModelCard.objects.filter(version=v1).update(
        metrics="ignored text", html={"metrics": "<p>stored <strong>html</strong></p>"}
    )
    for page in (PAGE, "/models/fraud-score/"):
        response = client_for(victor).get(page)
        assert response.status_code == 200
        assert "<p>stored <strong>html</strong></p>" in response.content.decode()
    editor = client_for(alice).get("/models/fraud-score/versions/1.0.0/card/edit/")
    assert "<p>stored <strong>html</strong></p>" in editor.content.decode()


@pytest.mark.parametrize("text", [TOO_DEEP, TOO_SLOW], ids=["too deep", "too slow"])
def test_a_section_that_cannot_be_rendered_is_a_400_naming_it(api_for, alice, v1, text) -> None:
    """The API refuses it within the budget; the stored card is untouched."""
    response = api_for(alice).patch(f"{VERSION}/card/", {"factors": text}, format="json")

    assert response.status_code == 400
    assert "This text" in response.json()["errors"]["factors"][0]
    assert ModelCard.objects.get(version=v1).factors == ""


def test_the_card_form_and_preview_name_an_unrenderable_section(client_for, alice, v1) -> None:
    """The editor shows the reason on the field, and the preview warns before saving."""
    client = client_for(alice)
    form = client.get("/models/fraud-score/versions/1.0.0/card/edit/").context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data = {k: "\n".join(v) if isinstance(v, list) else v for k, v in data.items()}

    saved = client.post(
        "/models/fraud-score/versions/1.0.0/card/edit/", data | {"factors": TOO_DEEP}
    )
    preview = client.post(
        "/models/fraud-score/versions/1.0.0/card/preview/",
        {"field": "factors", "factors": TOO_DEEP},
    )

    assert saved.status_code == 200
    assert "nests too deeply" in str(saved.context["form"].errors["factors"])
    assert "saving it will be refused" in preview.content.decode()


def test_notes_that_cannot_be_rendered_are_refused(alice, fraud_model, v1) -> None:
    """Version notes go through the same path as card sections."""
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        create_version(actor=alice, model=fraud_model, version="2.0.0", notes=TOO_DEEP)
    assert "notes" in caught.value.message_dict
    with pytest.raises(ValidationError):
        update_notes(actor=alice, version=v1, notes=TOO_DEEP)
    assert not ModelVersion.objects.filter(version="2.0.0").exists()


def test_a_new_version_starts_with_the_previous_cards_html(api_for, alice, fraud_model, v1):
    """Copying a card forward copies its rendered HTML too."""
    api_for(alice).patch(f"{VERSION}/card/", {"metrics": "AUC *0.9*"}, format="json")

    new = create_version(actor=alice, model=fraud_model, version="1.1.0")

    assert new.card.html["metrics"] == "<p>AUC <em>0.9</em></p>"
