"""The models list and the model page: filters, search, sort, htmx, query counts, forms."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.choices import VersionStatus
from registry.models import RegisteredModel
from registry.queries import VERSIONS_PER_PAGE
from registry.services.model_cards import update_card
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status

SCRIPT_CARD = (
    "Hello <script>alert('card')</script> "
    '<img src="x" onerror="alert(1)"> '
    "[click me](javascript:alert(2))"
)


def _model(actor: Any, team: Any, name: str, **fields: Any) -> Any:
    fields.setdefault("title", name.replace("-", " ").title())
    return create_model(actor=actor, name=name, team=team, **fields)


def _versions(actor: Any, model: Any, *versions: str) -> list[Any]:
    return [create_version(actor=actor, model=model, version=v) for v in versions]


@pytest.fixture
def catalogue(alice: Any, charlie: Any, risk_team: Any, search_team: Any) -> dict[str, Any]:
    """Three models in two teams with different tags, task types and latest statuses."""
    churn = _model(
        alice,
        risk_team,
        "churn-risk",
        summary="Who cancels next month",
        tags=["tabular"],
        task_type="binary_classification",
    )
    _versions(alice, churn, "1.0.0", "1.10.0", "1.2.0")
    latest = churn.versions.get(version="1.10.0")
    set_version_status(actor=alice, version=latest, status=VersionStatus.CANDIDATE)
    ranker = _model(
        charlie,
        search_team,
        "query-ranker",
        title="Query ranker",
        tags=["nlp", "search"],
        task_type="ranking",
    )
    _versions(charlie, ranker, "0.1.0")
    fraud = _model(alice, risk_team, "fraud-score", summary="Card payments", tags=["payments"])
    return {"churn": churn, "ranker": ranker, "fraud": fraud}


def _names(response: Any) -> list[str]:
    return [row.model.name for row in response.context["rows"]]


# The list ---------------------------------------------------------------------------------


def test_the_list_shows_every_model_with_its_latest_version_by_semver(
    client_for: Any, victor: Any, catalogue: dict[str, Any]
) -> None:
    """Rows are sorted by name; the latest version is the highest semver, not the newest."""
    response = client_for(victor).get("/models/")

    assert response.status_code == 200
    assert _names(response) == ["churn-risk", "fraud-score", "query-ranker"]
    churn_row = response.context["rows"][0]
    assert churn_row.latest.version == "1.10.0"
    assert churn_row.card is not None
    html = response.content.decode()
    assert "Risk Modelling" in html and "Search Relevance" in html
    assert "badge status-candidate warn" in html
    assert "no version" in html  # fraud-score has none


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=churn", ["churn-risk"]),
        ("q=CANCELS", ["churn-risk"]),  # summary, case-insensitive
        ("q=Query+rank", ["query-ranker"]),  # title
        ("q=nlp", ["query-ranker"]),  # tag
        ("team=risk-modelling", ["churn-risk", "fraud-score"]),
        ("task_type=ranking", ["query-ranker"]),
        ("status=candidate", ["churn-risk"]),
        ("status=draft", ["query-ranker"]),
        ("tag=payments", ["fraud-score"]),
        ("team=risk-modelling&q=fraud", ["fraud-score"]),
        ("sort=-name", ["query-ranker", "fraud-score", "churn-risk"]),
    ],
)
def test_the_list_filters_searches_and_sorts(
    client_for: Any, victor: Any, catalogue: dict[str, Any], query: str, expected: list[str]
) -> None:
    """Search covers name, title, summary and tags; filters combine; sort is allowlisted."""
    response = client_for(victor).get(f"/models/?{query}")

    assert response.status_code == 200
    assert _names(response) == expected


def test_the_list_sorts_by_most_recently_updated(
    client_for: Any, alice: Any, victor: Any, catalogue: dict[str, Any]
) -> None:
    """-updated_at puts the model edited last first."""
    RegisteredModel.objects.filter(name="query-ranker").update(updated_at="2020-01-01T00:00Z")
    catalogue["churn"].title = "Churn"
    catalogue["churn"].save(update_fields=["title", "updated_at"])

    response = client_for(victor).get("/models/?sort=-updated_at")

    assert _names(response) == ["churn-risk", "fraud-score", "query-ranker"]


def test_the_list_ignores_values_outside_the_allowlists(
    client_for: Any, victor: Any, catalogue: dict[str, Any]
) -> None:
    """An unknown ordering field, team or status never reaches the ORM nor errors."""
    response = client_for(victor).get(
        "/models/?sort=created_by__password&team=nope&status=evil&task_type=x"
    )

    assert response.status_code == 200
    assert _names(response) == ["churn-risk", "fraud-score", "query-ranker"]


def test_an_htmx_request_gets_only_the_table(
    client_for: Any, victor: Any, catalogue: dict[str, Any]
) -> None:
    """The filter form swaps the table partial; a plain GET renders the whole page."""
    client = client_for(victor)

    partial = client.get("/models/?q=churn", headers={"HX-Request": "true"})
    full = client.get("/models/?q=churn")

    assert partial.templates[0].name == "registry/partials/model_table.html"
    assert b"<html" not in partial.content and b'id="model-table"' in partial.content
    assert b"<html" in full.content and b'hx-push-url="true"' in full.content
    assert "HX-Request" in partial["Vary"]


def test_the_list_is_paginated_by_25(
    client_for: Any, alice: Any, victor: Any, risk_team: Any
) -> None:
    """Page 2 holds the rest and keeps the filters in its links."""
    for number in range(27):
        _model(alice, risk_team, f"model-{number:02d}")

    client = client_for(victor)
    first = client.get("/models/?team=risk-modelling")
    second = client.get("/models/?team=risk-modelling&page=2")

    assert len(first.context["rows"]) == 25
    assert _names(second) == ["model-25", "model-26"]
    assert "?team=risk-modelling&amp;page=2" in first.content.decode()


def _query_count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# session, user, page count, models (each with its latest version's id), their tags, those
# versions (with card), the viewer's roles, and the team and tag choices of the filter form
# (one query for both)
LIST_QUERIES = 9  # with the bell


def test_the_list_runs_the_same_queries_for_3_or_30_models(
    client_for: Any, alice: Any, victor: Any, risk_team: Any, django_assert_num_queries: Any
) -> None:
    """Latest version, card, artifact, tags and team are joined or prefetched, not per row."""
    client = client_for(victor)
    for number in range(3):
        _versions(alice, _model(alice, risk_team, f"few-{number}", tags=["a", "b"]), "1.0.0")
    client.get("/models/")  # warm the content-type cache
    with django_assert_num_queries(LIST_QUERIES):
        client.get("/models/")

    for number in range(27):
        model = _model(alice, risk_team, f"many-{number:02d}", tags=["a", f"t{number}"])
        _versions(alice, model, "1.0.0", "1.1.0", "2.0.0")

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get("/models/?status=draft&q=m&sort=-updated_at")
    assert len(response.context["rows"]) == 25


def test_the_new_model_button_is_shown_only_to_authors(
    client_for: Any, alice: Any, victor: Any, dana: Any
) -> None:
    """Data scientists see "New model"; viewers and approvers do not."""
    assert b"New model" in client_for(alice).get("/models/").content
    assert b"New model" not in client_for(victor).get("/models/").content
    assert b"New model" not in client_for(dana).get("/models/").content


def test_anonymous_visitors_are_sent_to_the_login_page(client: Any, db: Any) -> None:
    """Every registry page needs a login."""
    response = client.get("/models/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# The model page ---------------------------------------------------------------------------


@pytest.fixture
def churn(alice: Any, risk_team: Any) -> Any:
    model = _model(alice, risk_team, "churn-risk", summary="Who cancels", tags=["tabular"])
    _versions(alice, model, "1.0.0", "1.1.0", "2.0.0")
    return model


def test_the_model_page_defaults_to_the_production_version(
    client_for: Any, alice: Any, victor: Any, churn: Any
) -> None:
    """With a version in production it is selected; without one, the highest semver."""
    client = client_for(victor)
    assert client.get("/models/churn-risk/").context["selected"].version == "2.0.0"

    production = churn.versions.get(version="1.1.0")
    set_version_status(actor=alice, version=production, status=VersionStatus.CANDIDATE)
    set_version_status(
        actor=alice, version=production, status=VersionStatus.PRODUCTION, via_release=True
    )
    response = client.get("/models/churn-risk/")

    assert response.context["selected"].version == "1.1.0"
    assert response.context["production"].version == "1.1.0"
    html = response.content.decode()
    assert "Who cancels" in html and "Risk Modelling" in html and "tabular" in html


def test_the_model_page_shows_the_chosen_version_and_the_switcher(
    client_for: Any, victor: Any, churn: Any
) -> None:
    """The version URL selects that version; the switcher lists every version."""
    response = client_for(victor).get("/models/churn-risk/versions/1.1.0/")

    assert response.status_code == 200
    assert response.context["selected"].version == "1.1.0"
    assert response.context["previous"].version == "1.0.0"
    html = response.content.decode()
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        assert f'<option value="{version}"' in html
    assert '<option value="1.1.0" selected>' in html


def test_the_no_js_switcher_redirects_to_the_version_url(
    client_for: Any, victor: Any, churn: Any
) -> None:
    """?version=… (the switcher's plain GET) lands on the version's own page."""
    client = client_for(victor)
    response = client.get("/models/churn-risk/?version=1.0.0")

    assert response.status_code == 302
    assert response["Location"] == "/models/churn-risk/versions/1.0.0/"
    assert client.get("/models/churn-risk/?version=9.9.9").status_code == 404


def test_unknown_models_and_versions_are_404(client_for: Any, victor: Any, churn: Any) -> None:
    """No such model, no such version."""
    client = client_for(victor)
    assert client.get("/models/nope/").status_code == 404
    assert client.get("/models/churn-risk/versions/9.9.9/").status_code == 404
    assert client.get("/models/nope/versions/1.0.0/").status_code == 404


def test_the_model_page_shows_card_contract_versions_and_activity(
    client_for: Any, alice: Any, victor: Any, churn: Any
) -> None:
    """Completeness lists missing sections; what changed, contract fields and activity show."""
    v2 = churn.versions.get(version="2.0.0")
    update_card(actor=alice, card=v2.card, sections={"intended_use": "Retention **offers**."})

    response = client_for(victor).get("/models/churn-risk/versions/2.0.0/")
    html = response.content.decode()

    assert "<strong>offers</strong>" in html
    assert ("model_details", "Model details") in response.context["missing_sections"]
    assert "Intended use" not in response.context["missing_sections"]
    assert "What changed since 1.1.0" in html
    assert [d.field for d in response.context["changed_sections"]] == ["intended_use"]
    sentences = [entry.text for entry in response.context["activity"]]
    assert "alice edited the card of churn-risk 2.0.0" in sentences
    assert "alice registered churn-risk 1.0.0" in sentences
    assert len(response.context["versions"]) == 3


def test_the_model_page_neutralises_script_in_the_card(
    client_for: Any, alice: Any, victor: Any, churn: Any
) -> None:
    """<script>, onerror= and javascript: links in a section never reach the page."""
    card = churn.versions.get(version="2.0.0").card
    update_card(actor=alice, card=card, sections={"model_details": SCRIPT_CARD})

    html = client_for(victor).get("/models/churn-risk/").content.decode()

    section = html.split('id="section-model_details"')[1].split("</article>")[0]
    assert "Hello" in section
    assert "<script" not in section and "onerror" not in section and "javascript:" not in section
    # The diff shows the Markdown source as escaped text, never as markup.
    assert "<script>alert" not in html
    assert 'onerror="' not in html
    assert 'href="javascript:' not in html


def test_the_model_page_hides_edit_buttons_from_non_members(
    client_for: Any, alice: Any, charlie: Any, victor: Any, churn: Any
) -> None:
    """Only the owning team sees edit, new version and status buttons."""
    assert b"Edit card" in client_for(alice).get("/models/churn-risk/").content
    for outsider in (charlie, victor):
        html = client_for(outsider).get("/models/churn-risk/").content
        assert b"Edit card" not in html and b"New version" not in html
        assert b"Mark as candidate" not in html


# session, user, model, every version (light), the selected and previous versions (card,
# creator, artifact), the versions table's page, tags, activity, the open backlog items about
# the model or its versions, the editor's teams and roles; the gate verdict (rules with
# their latest results); what runs where (the model's current deployments, one query)
DETAIL_QUERIES = 18  # with the bell, the open items and the aliases


def test_the_model_page_runs_the_same_queries_for_3_or_30_versions(
    client_for: Any, alice: Any, churn: Any, django_assert_num_queries: Any
) -> None:
    """Versions, artifacts, cards and activity are fetched once, however many versions."""
    client = client_for(alice)
    client.get("/models/churn-risk/")  # warm the content-type cache
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get("/models/churn-risk/versions/1.1.0/")

    _versions(alice, churn, *[f"3.{minor}.0" for minor in range(27)])

    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get("/models/churn-risk/versions/3.5.0/")
    assert len(response.context["versions"]) == 30
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get("/models/churn-risk/versions/1.0.0/?versions_page=1")


def _table(response: Any) -> list[str]:
    return [version.version for version in response.context["version_rows"]]


def test_the_versions_table_is_paginated_from_the_highest_semver(
    client_for: Any, alice: Any, victor: Any, churn: Any
) -> None:
    """A page holds VERSIONS_PER_PAGE versions; its links keep the page's other parameters."""
    _versions(alice, churn, *[f"3.{minor}.0" for minor in range(VERSIONS_PER_PAGE)])
    client = client_for(victor)  # 3 + VERSIONS_PER_PAGE versions, highest (3.x) selected

    first = client.get("/models/churn-risk/")
    second = client.get("/models/churn-risk/?versions_page=2")

    assert _table(first)[0] == f"3.{VERSIONS_PER_PAGE - 1}.0"
    assert len(_table(first)) == VERSIONS_PER_PAGE
    html = first.content.decode()
    assert 'href="?versions_page=2#versions"' in html and "Page 1 of 2" in html
    # Page 2 is the rest, with the selected version (from page 1) shown above them.
    assert _table(second) == [f"3.{VERSIONS_PER_PAGE - 1}.0", "2.0.0", "1.1.0", "1.0.0"]
    assert not second.context["selected_on_page"]
    assert "listed on page 1" in second.content.decode()


def test_the_versions_table_opens_on_the_page_of_the_selected_version(
    client_for: Any, alice: Any, victor: Any, churn: Any
) -> None:
    """An old version's URL shows the page that lists it; the switcher lists every version."""
    _versions(alice, churn, *[f"3.{minor}.0" for minor in range(VERSIONS_PER_PAGE)])

    response = client_for(victor).get("/models/churn-risk/versions/1.0.0/")

    assert response.context["version_page"].number == 2
    assert response.context["selected_on_page"]
    assert _table(response) == ["2.0.0", "1.1.0", "1.0.0"]
    html = response.content.decode()
    assert html.count("<option value=") == VERSIONS_PER_PAGE + 3
    assert '<tr class="selected" aria-current="true">' in html


def test_a_versions_page_out_of_range_is_not_an_error(
    client_for: Any, victor: Any, churn: Any
) -> None:
    """Out of range or not a number: the first or last page, never a 404 or 500."""
    client = client_for(victor)
    for page in ("9", "x", "-1"):
        response = client.get(f"/models/churn-risk/?versions_page={page}")
        assert response.status_code == 200
        assert _table(response) == ["2.0.0", "1.1.0", "1.0.0"]


def test_a_model_without_versions_has_a_page(client_for: Any, alice: Any, risk_team: Any) -> None:
    """The page says there is no version yet."""
    _model(alice, risk_team, "empty-model")
    response = client_for(alice).get("/models/empty-model/")
    assert response.status_code == 200 and b"No version yet" in response.content


# Registering and editing models ---------------------------------------------------------


def test_a_data_scientist_registers_a_model(client_for: Any, alice: Any, risk_team: Any) -> None:
    """The form creates the model through the service and redirects to its page."""
    response = client_for(alice).post(
        "/models/new/",
        {
            "team": "risk-modelling",
            "name": "churn-risk",
            "title": "Churn risk",
            "summary": "Who cancels",
            "task_type": "binary_classification",
            "tags": "tabular, Subscriptions",
        },
    )

    assert response.status_code == 302 and response["Location"] == "/models/churn-risk/"
    model = RegisteredModel.objects.get(name="churn-risk")
    assert model.team == risk_team and model.created_by == alice
    assert sorted(t.name for t in model.tags.all()) == ["subscriptions", "tabular"]


def test_the_create_form_offers_only_the_users_teams(
    client_for: Any, alice: Any, search_team: Any
) -> None:
    """Another team is not a choice, so posting it is a form error and creates nothing."""
    client = client_for(alice)
    html = client.get("/models/new/").content.decode()
    assert 'value="risk-modelling"' in html and 'value="search-relevance"' not in html

    response = client.post(
        "/models/new/",
        {"team": "search-relevance", "name": "x", "title": "X", "task_type": "other"},
    )
    assert response.status_code == 200 and "team" in response.context["form"].errors
    assert not RegisteredModel.objects.exists()


def test_a_duplicate_name_is_shown_on_the_name_field(
    client_for: Any, alice: Any, risk_team: Any
) -> None:
    """The service's ValidationError lands on the field it names."""
    _model(alice, risk_team, "churn-risk")
    response = client_for(alice).post(
        "/models/new/",
        {"team": "risk-modelling", "name": "churn-risk", "title": "Again", "task_type": "other"},
    )
    assert response.status_code == 200
    assert "already exists" in response.context["form"].errors["name"][0]


@pytest.mark.parametrize("persona", ["victor", "dana"])
def test_people_without_an_author_role_cannot_register_models(
    request: Any, client_for: Any, risk_team: Any, persona: str
) -> None:
    """Viewers and approvers get 403 on GET and on POST."""
    client = client_for(request.getfixturevalue(persona))
    assert client.get("/models/new/").status_code == 403
    response = client.post(
        "/models/new/",
        {"team": "risk-modelling", "name": "x", "title": "X", "task_type": "other"},
    )
    assert response.status_code == 403
    assert not RegisteredModel.objects.exists()


def test_a_member_edits_a_model(client_for: Any, bob: Any, churn: Any) -> None:
    """Title, summary, task type and tags change; the name stays."""
    client = client_for(bob)
    form = client.get("/models/churn-risk/edit/").context["form"]
    assert form.initial["tags"] == ["tabular"]

    response = client.post(
        "/models/churn-risk/edit/",
        {"title": "Churn v2", "summary": "", "task_type": "regression", "tags": "a,b"},
    )

    assert response.status_code == 302
    churn.refresh_from_db()
    assert (churn.title, churn.task_type) == ("Churn v2", "regression")
    assert sorted(t.name for t in churn.tags.all()) == ["a", "b"]


@pytest.mark.parametrize("persona", ["charlie", "victor"])
def test_outsiders_cannot_edit_a_model(
    request: Any, client_for: Any, churn: Any, persona: str
) -> None:
    """Another team's member and a viewer get 403 and change nothing."""
    client = client_for(request.getfixturevalue(persona))
    assert client.get("/models/churn-risk/edit/").status_code == 403
    response = client.post(
        "/models/churn-risk/edit/", {"title": "Hacked", "task_type": "other", "tags": ""}
    )
    assert response.status_code == 403
    churn.refresh_from_db()
    assert churn.title == "Churn Risk"
    assert client.get("/models/nope/edit/").status_code == 404


def test_a_refusal_is_a_styled_page_saying_why(client_for, charlie, alice, risk_team) -> None:
    """The 403 page extends the portal layout and carries the service's reason."""
    from registry.services.models import create_model

    create_model(actor=alice, name="fraud-score", title="Fraud", team=risk_team)
    response = client_for(charlie).get("/models/fraud-score/edit/")
    assert response.status_code == 403
    html = response.content.decode()
    assert (
        "Only members of Risk Modelling who are Data scientists or Engineers may change "
        "fraud-score." in html
    )
    assert 'class="topbar"' in html


def test_the_model_name_rule_reads_the_same_in_help_and_error(client_for, alice, risk_team):
    """No "slug": the help text states the rule, and breaking it repeats the same words."""
    from registry.forms import MODEL_NAME_RULE

    response = client_for(alice).post(
        "/models/new/",
        {"team": risk_team.slug, "name": "Churn_Risk", "title": "Churn", "task_type": "other"},
    )

    errors = response.context["form"].errors["name"]
    assert errors == [MODEL_NAME_RULE]
    assert "slug" not in response.content.decode().lower().replace("risk-modelling", "")


def test_missing_sections_link_to_their_editor_and_the_badge_says_what_it_counts(
    client_for, alice, victor, v1
) -> None:
    """Editors jump to the empty section; everyone sees "n/m required", not a bare 100%."""
    page = client_for(alice).get("/models/fraud-score/versions/1.0.0/").content.decode()
    viewer = client_for(victor).get("/models/fraud-score/versions/1.0.0/").content.decode()

    assert 'href="/models/fraud-score/versions/1.0.0/card/edit/#id_model_details"' in page
    assert "card/edit/#id_model_details" not in viewer
    assert "(0/8 required)" in page


def test_the_version_switcher_navigates_only_when_asked(client_for, victor, v1) -> None:
    """No submit on change (arrow keys move through the list); a button, and focus returns."""
    page = client_for(victor).get("/models/fraud-score/").content.decode()

    assert "data-autosubmit" not in page
    assert 'action="/models/fraud-score/#version-bar"' in page
    assert '<button type="submit" class="small">Show version</button>' in page
    assert 'id="version-bar"' in page
