"""The card editor never discards work: imports are confirmed, refusals are shown early.

A README import shows what it would change and saves nothing until it is confirmed; the
confirmation is refused when the card changed in between. The editor asks before leaving
typed text, opens a refused save with an error summary, and its preview warns about a
section that saving would refuse, in the service's own words.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portal.models import AuditEvent
from registry.models import ModelCard
from registry.services.card_readme import export_card_readme
from registry.services.model_cards import MAX_SECTION_CHARS, update_card

BASE = "/models/fraud-score/versions/1.0.0/card"
EDIT, PREVIEW = f"{BASE}/edit/", f"{BASE}/preview/"
IMPORT, CONFIRM = f"{BASE}/import/", f"{BASE}/import/confirm/"
README = (
    "---\nlicense: mit\nlanguage: [en, de]\n---\n\n"
    "## Intended use\n\nScoring card payments.\n\n## Metrics\n\nAUC 0.93\n"
)


def _upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("README.md", text.encode(), content_type="text/markdown")


def _confirm_data(response: Any) -> dict[str, str]:
    """What the confirmation page's form posts: the README and the revision it was drawn on."""
    form = response.context["form"]
    return {"readme": form["readme"].value(), "revision": str(form["revision"].value())}


def _editor_data(client: Client) -> dict[str, str]:
    form = client.get(EDIT).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    return {k: "\n".join(v) if isinstance(v, list) else str(v) for k, v in data.items()}


def _card(v1: Any) -> ModelCard:
    return ModelCard.objects.get(version=v1)


@pytest.fixture
def written(alice: Any, v1: Any) -> ModelCard:
    """The card with a metric and a licence, as alice saved it."""
    return update_card(
        actor=alice,
        card=v1.card,
        sections={"metrics": "AUC 0.91", "factors": "Country."},
        metadata={"license": "apache-2.0"},
    )


# Importing a README: two steps


def test_an_import_shows_what_would_change_and_saves_nothing(
    client_for: Any, alice: Any, v1: Any, written: ModelCard
) -> None:
    """The confirmation lists the changed sections as line diffs and the changed metadata."""
    events = AuditEvent.objects.count()

    response = client_for(alice).post(IMPORT, {"readme": _upload(README)})

    assert response.status_code == 200
    assert response.templates[0].name == "registry/card_import_confirm.html"
    card = _card(v1)
    assert (card.metrics, card.license, card.revision) == ("AUC 0.91", "apache-2.0", 2)
    assert AuditEvent.objects.count() == events
    changes = response.context["changes"]
    assert [(d.field, d.status) for d in changes.sections] == [
        ("intended_use", "added"),
        ("factors", "removed"),
        ("metrics", "changed"),
    ]
    assert changes.metadata == [("license", "apache-2.0", "mit"), ("languages", [], ["en", "de"])]
    html = response.content.decode()
    assert 'aria-label="Changes in Metrics"' in html
    assert "added: </span>AUC 0.93" in html and "removed: </span>AUC 0.91" in html
    assert "Evaluation data" not in html  # unchanged sections are not listed
    assert "<td>License</td>" in html and "en, de" in html
    assert ">Replace the card</button>" in html
    assert f'href="{EDIT}">Cancel</a>' in html
    assert _confirm_data(response) == {"readme": README, "revision": "2"}


def test_a_readme_that_changes_nothing_says_so(
    client_for: Any, alice: Any, v1: Any, written: ModelCard
) -> None:
    """Importing the card's own export: no diff, no button to replace it, a way back."""
    response = client_for(alice).post(IMPORT, {"readme": _upload(export_card_readme(written))})

    html = response.content.decode()
    assert response.context["changes"].nothing
    assert "Nothing changes:" in html
    assert "Replace the card</button>" not in html
    assert f'href="{EDIT}">Back to the editor</a>' in html


def test_confirming_replaces_the_card_and_audits_it(
    client_for: Any, alice: Any, v1: Any, written: ModelCard
) -> None:
    """Only the confirmation's POST imports; the card then equals the file."""
    client = client_for(alice)
    shown = client.post(IMPORT, {"readme": _upload(README)})

    response = client.post(CONFIRM, _confirm_data(shown))

    assert response.status_code == 302 and response["Location"] == v1.get_absolute_url()
    card = _card(v1)
    assert (card.intended_use, card.metrics, card.factors) == (
        "Scoring card payments.",
        "AUC 0.93",
        "",
    )
    assert (card.license, card.languages, card.revision) == ("mit", ["en", "de"], 3)
    assert card.html["metrics"] == "<p>AUC 0.93</p>"
    event = AuditEvent.objects.filter(verb="card.updated").order_by("-pk").first()
    assert event is not None and event.actor == alice and event.target_id == str(card.pk)
    assert set(event.after["fields"]) == {
        "intended_use",
        "metrics",
        "factors",
        "license",
        "languages",
    }
    followed = client.get(response["Location"])
    assert "Card of 1.0.0 imported from README.md." in followed.content.decode()


def test_a_stale_confirmation_is_not_saved_and_shows_the_changes_again(
    client_for: Any, alice: Any, bob: Any, v1: Any, written: ModelCard
) -> None:
    """Bob saved after alice's confirmation page was drawn: his text stays; she sees it."""
    # given alice's confirmation page, then bob saves the card
    client = client_for(alice)
    shown = client.post(IMPORT, {"readme": _upload(README)})
    update_card(actor=bob, card=_card(v1), sections={"metrics": "AUC 0.95 (bob)"})

    # when alice confirms
    refused = client.post(CONFIRM, _confirm_data(shown))

    # then nothing is replaced, and the changes are drawn against bob's card
    assert refused.status_code == 200
    assert refused.templates[0].name == "registry/card_import_confirm.html"
    assert _card(v1).metrics == "AUC 0.95 (bob)" and _card(v1).license == "apache-2.0"
    html = refused.content.decode()
    assert "Not replaced: someone else saved this card" in html
    assert "revision 2; it is now at revision 3" in html
    assert "removed: </span>AUC 0.95 (bob)" in html
    # and confirming again is a deliberate overwrite of what she has now been shown
    again = _confirm_data(refused)
    assert again == {"readme": README, "revision": "3"}
    assert client.post(CONFIRM, again).status_code == 302
    assert _card(v1).metrics == "AUC 0.93"


def test_an_import_from_a_stale_editor_is_refused_on_the_editor(
    client_for: Any, alice: Any, bob: Any, v1: Any
) -> None:
    """The import form's revision still counts at the first step; nothing is shown or saved."""
    update_card(actor=bob, card=v1.card, sections={"metrics": "Bob's"})

    response = client_for(alice).post(IMPORT, {"readme": _upload(README), "revision": "1"})

    assert response.templates[0].name == "registry/card_form.html"
    assert "changed by someone else" in response.content.decode()
    assert _card(v1).metrics == "Bob's"


@pytest.mark.parametrize(
    ("readme", "expected"),
    [
        ("## Metrics\n\nok\n\n## Secrets\n\nno\n", "Unknown section"),
        ("---\nlinks: ['javascript:alert(1)']\n---\n", "Links: Item 1: only http"),
        ("## Metrics\n\n" + "x" * (MAX_SECTION_CHARS + 1), "At most 50,000 characters"),
    ],
    ids=["unknown section", "refused link", "section too long"],
)
def test_readme_problems_show_on_the_editor_with_a_summary(
    client_for: Any, alice: Any, v1: Any, readme: str, expected: str
) -> None:
    """What the import would refuse is refused at the first step, before any confirmation."""
    response = client_for(alice).post(IMPORT, {"readme": _upload(readme)})

    html = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name == "registry/card_form.html"
    assert "There is a problem with the import" in html and expected in html
    assert _card(v1).revision == 1


def test_the_confirmation_checks_the_readme_again(client_for: Any, alice: Any, v1: Any) -> None:
    """A README changed on its way back, or without a revision, replaces nothing."""
    client = client_for(alice)
    tampered = client.post(CONFIRM, {"readme": "## Secrets\n\nno\n", "revision": "1"})
    no_revision = client.post(CONFIRM, {"readme": README})
    too_big = client.post(CONFIRM, {"readme": "x" * 1_000_001, "revision": "1"})

    assert "Unknown section" in tampered.content.decode()
    assert "revision" in no_revision.context["form"].errors
    assert "A README may be at most 1 MB." in too_big.content.decode()
    for response in (tampered, no_revision, too_big):
        assert response.status_code == 200
        assert "There is a problem with the import" in response.content.decode()
        assert "Replace the card</button>" not in response.content.decode()
    assert _card(v1).revision == 1 and _card(v1).intended_use == ""


def test_the_confirmation_needs_a_post_and_edit_rights(
    client_for: Any, alice: Any, charlie: Any, victor: Any, v1: Any
) -> None:
    """GET is 405, outsiders and viewers 403, an unknown version 404; nothing changes."""
    data = {"readme": README, "revision": "1"}
    assert client_for(alice).get(CONFIRM).status_code == 405
    assert client_for(charlie).post(CONFIRM, data).status_code == 403
    assert client_for(victor).post(CONFIRM, data).status_code == 403
    missing = "/models/fraud-score/versions/7.0.0/card/import/confirm/"
    assert client_for(alice).post(missing, data).status_code == 404
    assert _card(v1).revision == 1


# The editor and its preview


def test_the_editor_form_asks_before_typed_text_is_left(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """portal.js guards a form marked data-guard-unsaved; the editor carries the mark."""
    html = client_for(alice).get(EDIT).content.decode()
    assert '<form method="post" class="card-editor" novalidate data-guard-unsaved>' in html


def test_a_refused_save_opens_with_an_error_summary(client_for: Any, alice: Any, v1: Any) -> None:
    """The summary links to each refused field, above the editor form."""
    client = client_for(alice)

    response = client.post(EDIT, _editor_data(client) | {"metrics": "## Oops"})

    html = response.content.decode()
    assert response.status_code == 200
    summary = html.index("data-error-summary")
    assert summary < html.index('class="card-editor"')
    assert 'href="#id_metrics">Metrics: Line 1 is a level-2 heading' in html
    assert _card(v1).metrics == ""


def test_a_stale_save_names_its_refusal_once(
    client_for: Any, alice: Any, bob: Any, v1: Any
) -> None:
    """The form's own error is in the summary only, not repeated inside the form."""
    client = client_for(alice)
    data = _editor_data(client)
    update_card(actor=bob, card=v1.card, sections={"metrics": "Bob's"})

    html = client.post(EDIT, data | {"metrics": "Alice's"}).content.decode()

    assert html.count("Not saved: bob saved it at") == 1
    assert html.index("Not saved: bob saved it at") < html.index('class="card-editor"')


def _refusal(section: str, text: str, alice: Any, v1: Any) -> str:
    """The message update_card gives for ``text`` in ``section``."""
    with pytest.raises(ValidationError) as caught:
        update_card(actor=alice, card=v1.card, sections={section: text})
    return caught.value.message_dict[section][0]


@pytest.mark.parametrize(
    "text",
    ["Clean\x00text", "## A section heading", "x" * (MAX_SECTION_CHARS + 1)],
    ids=["NUL character", "level-2 heading", "too long"],
)
def test_the_preview_shows_why_saving_would_refuse_a_section(
    client_for: Any, alice: Any, v1: Any, text: str
) -> None:
    """Instead of rendering it, the preview gives the save's own refusal, styled as an error."""
    refusal = _refusal("factors", text, alice, v1)

    response = client_for(alice).post(PREVIEW, {"field": "factors", "factors": text})

    html = response.content.decode()
    assert response.status_code == 200
    assert '<p class="errors" role="alert">' in html
    assert refusal.rstrip(".") in html and "saving it will be refused" in html
    assert "<h2>" not in html and "markdown" not in html


def test_a_refused_save_shows_the_refusal_in_the_sections_preview(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """After a refused save, the section's preview says the same as its field error."""
    client = client_for(alice)

    response = client.post(EDIT, _editor_data(client) | {"factors": "##Heading"})

    previews = {field.name: preview for field, preview in response.context["sections"]}
    assert "level-2 heading" in previews["factors"]["error"]
    assert previews["metrics"] == {"html": ""}
