"""Optimistic concurrency: a save based on an old revision is refused, never merged."""

from __future__ import annotations

from typing import Any

import pytest

from registry.models import CARD_METADATA_FIELDS, CARD_SECTIONS, ModelCard
from registry.services.model_cards import LIST_FIELDS

BASE = "/api/v1/models/fraud-score"
VERSION = f"{BASE}/versions/1.0.0"
CARD_PAGE = "/models/fraud-score/versions/1.0.0/card/edit/"


def _card_body(**changes: Any) -> dict[str, Any]:
    """A full card for PUT: every section and metadata field, empty unless changed."""
    body: dict[str, Any] = {field: "" for field, _ in CARD_SECTIONS}
    body |= {field: [] if field in LIST_FIELDS else "" for field in CARD_METADATA_FIELDS}
    return body | changes


def test_a_card_put_with_a_stale_etag_is_a_409_and_keeps_the_first_save(
    api_for, alice, bob, v1
) -> None:
    """Two editors start from the same ETag; the second save is refused with 409."""
    # given both read the card
    etag = api_for(alice).get(f"{VERSION}/card/")["ETag"]
    # when alice saves, then bob saves from the same ETag
    first = api_for(alice).put(
        f"{VERSION}/card/",
        _card_body(intended_use="Alice's text"),
        format="json",
        HTTP_IF_MATCH=etag,
    )
    second = api_for(bob).put(
        f"{VERSION}/card/", _card_body(metrics="Bob's text"), format="json", HTTP_IF_MATCH=etag
    )
    # then alice's save stands and bob is told why
    assert first.status_code == 200 and first["ETag"] != etag
    assert second.status_code == 409
    assert "changed by someone else" in second.json()["errors"]["detail"][0]
    card = ModelCard.objects.get(version=v1)
    assert (card.intended_use, card.metrics) == ("Alice's text", "")
    assert second["ETag"] == first["ETag"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", f"{VERSION}/card/", {"metrics": "new"}),
        (
            "put",
            f"{VERSION}/contract/",
            {
                "input_schema": {},
                "output_schema": {},
                "example_request": None,
                "example_response": None,
            },
        ),
        ("patch", f"{VERSION}/", {"notes": "new notes"}),
        ("patch", f"{BASE}/", {"title": "New title"}),
    ],
)
def test_every_edit_endpoint_refuses_a_stale_if_match(api_for, alice, v1, method, path, body):
    """Cards, contracts, version notes and models all honour If-Match."""
    api = api_for(alice)
    etag = api.get(path)["ETag"]
    assert getattr(api, method)(path, body, format="json", HTTP_IF_MATCH=etag).status_code == 200

    again = getattr(api, method)(path, body | {}, format="json", HTTP_IF_MATCH=etag)

    assert again.status_code == 409


def test_if_match_star_or_none_overwrites_and_a_malformed_one_is_a_400(api_for, alice, v1):
    """Clients that do not track ETags keep working; garbage in If-Match is named."""
    api = api_for(alice)
    assert api.patch(f"{VERSION}/card/", {"metrics": "a"}, format="json").status_code == 200
    star = api.patch(f"{VERSION}/card/", {"metrics": "b"}, format="json", HTTP_IF_MATCH="*")
    assert star.status_code == 200
    bad = api.patch(f"{VERSION}/card/", {"metrics": "c"}, format="json", HTTP_IF_MATCH="yesterday")
    assert bad.status_code == 400
    assert "If-Match" in bad.json()["errors"]
    assert ModelCard.objects.get(version=v1).metrics == "b"


def _card_form(client: Any) -> dict[str, Any]:
    form = client.get(CARD_PAGE).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    return {k: "\n".join(v) if isinstance(v, list) else v for k, v in data.items()}


def test_a_stale_card_form_shows_who_saved_and_what_differs(client_for, alice, bob, v1) -> None:
    """The later editor keeps their text, sees the difference, and may then save on purpose."""
    # given alice and bob open the editor
    alice_client, bob_client = client_for(alice), client_for(bob)
    alice_form, bob_form = _card_form(alice_client), _card_form(bob_client)
    # when alice saves, then bob saves his older form
    saved = alice_client.post(CARD_PAGE, alice_form | {"intended_use": "Scoring card payments."})
    assert saved.status_code == 302
    refused = bob_client.post(CARD_PAGE, bob_form | {"intended_use": "Fraud triage."})
    # then bob sees the refusal with the difference, and alice's text is kept
    page = refused.content.decode()
    assert refused.status_code == 200
    assert "Not saved: alice saved it at" in page
    assert "Scoring card payments." in page and "Fraud triage." in page
    assert ModelCard.objects.get(version=v1).intended_use == "Scoring card payments."
    # and submitting the form again (now based on alice's revision) is a deliberate overwrite
    resubmit = refused.context["form"]
    assert resubmit["revision"].value() == str(ModelCard.objects.get(version=v1).revision)
    again = bob_client.post(
        CARD_PAGE,
        bob_form | {"intended_use": "Fraud triage.", "revision": resubmit["revision"].value()},
    )
    assert again.status_code == 302
    assert ModelCard.objects.get(version=v1).intended_use == "Fraud triage."


@pytest.mark.parametrize(
    ("page", "data"),
    [
        (
            "/models/fraud-score/versions/1.0.0/contract/edit/",
            {"input_schema": '{"type": "object"}', "output_schema": "{}"},
        ),
        (
            "/models/fraud-score/edit/",
            {"title": "Renamed", "summary": "", "task_type": "other", "tags": "a, b"},
        ),
    ],
)
def test_stale_contract_and_model_forms_are_refused(client_for, alice, bob, v1, page, data):
    """The contract editor and the model editor carry their revision too."""
    revision = client_for(bob).get(page).context["form"]["revision"].value()
    assert client_for(alice).post(page, data | {"revision": revision}).status_code == 302

    refused = client_for(bob).post(page, data | {"revision": revision})

    assert refused.status_code == 200
    assert "Not saved: alice saved it at" in refused.content.decode()
