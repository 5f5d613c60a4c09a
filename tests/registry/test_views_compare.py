"""Comparing two versions: defaults, card and contract diffs, metadata, safety, query count."""

from __future__ import annotations

from typing import Any

import pytest

from registry.services.model_cards import update_card
from registry.services.versions import create_version, set_version_status
from tests.registry.conftest import INPUT_V1, OUTPUT_V1

URL = "/models/fraud-score/compare/"
SCRIPT_CARD = "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(3))"
INPUT_V2 = {
    **INPUT_V1,
    "properties": {**INPUT_V1["properties"], "merchant": {"type": "string"}},
    "required": ["amount", "merchant"],
}


@pytest.fixture
def v2(alice: Any, fraud_model: Any, v1: Any) -> Any:
    """2.0.0 adds a required input field and rewrites the intended use."""
    update_card(actor=alice, card=v1.card, sections={"intended_use": "Old use."})
    version = create_version(
        actor=alice,
        model=fraud_model,
        version="2.0.0",
        notes="Adds the merchant.",
        input_schema=INPUT_V2,
        output_schema=OUTPUT_V1,
    )
    update_card(
        actor=alice,
        card=version.card,
        sections={"intended_use": "New use."},
        metadata={"languages": ["en", "de"]},
    )
    return version


def test_the_compare_page_defaults_to_previous_against_latest(
    client_for: Any, victor: Any, v2: Any
) -> None:
    """Without a and b, the previous version is compared with the highest semver."""
    response = client_for(victor).get(URL)

    assert response.status_code == 200
    assert (response.context["a"].version, response.context["b"].version) == ("1.0.0", "2.0.0")
    html = response.content.decode()
    assert '<option value="1.0.0" selected>' in html and '<option value="2.0.0" selected>' in html


def test_the_compare_page_highlights_breaking_contract_changes(
    client_for: Any, victor: Any, v2: Any
) -> None:
    """A field that became required is breaking: red badge, highlighted row, counted."""
    response = client_for(victor).get(f"{URL}?a=1.0.0&b=2.0.0")
    html = response.content.decode()

    assert response.context["breaking_count"] == 1
    assert '<span class="badge bad">1 breaking change</span>' in html
    assert '<tr class="breaking">' in html and "became required" in html
    assert '<span class="badge ok">compatible</span>' in html and "field added" in html


def test_the_compare_page_shows_card_and_metadata_diffs(
    client_for: Any, victor: Any, v2: Any
) -> None:
    """Card lines as - and +; notes and card metadata side by side; never the number."""
    response = client_for(victor).get(f"{URL}?a=1.0.0&b=2.0.0")
    html = response.content.decode()

    [section] = response.context["card_changes"]
    assert section["field"] == "intended_use"
    assert ["-", "Old use."] in section["lines"] and ["+", "New use."] in section["lines"]
    assert 'class="diff-line del"' in html and 'class="diff-line add"' in html
    rows = {row["label"]: (row["a"], row["b"]) for row in response.context["metadata_changes"]}
    assert rows["notes"] == ("", "Adds the merchant.")
    assert rows["card: languages"] == ("", "en, de")
    assert "number" not in rows  # the registration number always differs


def test_the_compare_page_includes_status_and_artifact_facts(
    client_for: Any, alice: Any, victor: Any, v1: Any, v2: Any
) -> None:
    """A status difference appears in the metadata table."""
    set_version_status(actor=alice, version=v2, status="candidate")
    response = client_for(victor).get(f"{URL}?a=1.0.0&b=2.0.0")
    rows = {row["label"]: (row["a"], row["b"]) for row in response.context["metadata_changes"]}
    assert rows["status"] == ("draft", "candidate")


def test_comparing_a_version_with_itself_says_so(client_for: Any, victor: Any, v2: Any) -> None:
    """a == b shows "Same version" and no diff."""
    response = client_for(victor).get(f"{URL}?a=2.0.0&b=2.0.0")
    assert response.status_code == 200 and response.context["same"]
    assert b"Same version." in response.content
    assert "contract_changes" not in response.context


def test_unknown_versions_and_models_are_404(client_for: Any, victor: Any, v2: Any) -> None:
    """Either side unknown, or the model unknown."""
    client = client_for(victor)
    assert client.get(f"{URL}?a=9.9.9&b=2.0.0").status_code == 404
    assert client.get(f"{URL}?a=1.0.0&b=nope").status_code == 404
    assert client.get("/models/nope/compare/").status_code == 404


def test_the_compare_page_neutralises_script_in_the_card(
    client_for: Any, alice: Any, victor: Any, v2: Any
) -> None:
    """Card text in the diff is escaped: no script, handler attribute or javascript: link."""
    update_card(
        actor=alice,
        card=v2.card,
        sections={"factors": SCRIPT_CARD},
    )

    html = client_for(victor).get(URL).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html


def test_a_model_with_one_version_compares_it_with_itself(
    client_for: Any, victor: Any, v1: Any
) -> None:
    """Nothing to compare yet: same version."""
    response = client_for(victor).get(URL)
    assert response.context["same"]


# session, user, model, versions (with artifacts), the two cards, the viewer's roles
COMPARE_QUERIES = 7  # with the bell


def test_the_compare_page_runs_the_same_queries_for_3_or_30_versions(
    client_for: Any,
    alice: Any,
    victor: Any,
    fraud_model: Any,
    v2: Any,
    django_assert_num_queries: Any,
) -> None:
    """The version list and both cards are fetched once, however many versions exist."""
    client = client_for(victor)
    create_version(actor=alice, model=fraud_model, version="2.1.0")
    with django_assert_num_queries(COMPARE_QUERIES):
        client.get(f"{URL}?a=1.0.0&b=2.1.0")

    for minor in range(27):
        create_version(actor=alice, model=fraud_model, version=f"3.{minor}.0")

    with django_assert_num_queries(COMPARE_QUERIES):
        response = client.get(f"{URL}?a=1.0.0&b=3.20.0")
    assert len(response.context["versions"]) == 30


def test_the_compare_page_needs_get(client_for: Any, alice: Any, v1: Any) -> None:
    """POST is 405: comparing changes nothing."""
    assert client_for(alice).post(URL).status_code == 405


def test_only_b_given_compares_it_with_the_version_below(
    client_for: Any, alice: Any, victor: Any, fraud_model: Any, v2: Any
) -> None:
    """?b=2.0.0 alone compares 1.0.0 → 2.0.0, even when a higher version exists."""
    create_version(actor=alice, model=fraud_model, version="3.0.0")
    response = client_for(victor).get(f"{URL}?b=2.0.0")
    assert (response.context["a"].version, response.context["b"].version) == ("1.0.0", "2.0.0")
