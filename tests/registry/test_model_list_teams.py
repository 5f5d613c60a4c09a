"""The models page opens on my teams' models; "All teams" and each team are a choice away.

The API's ``team`` filter is unchanged: it lists every team's models unless given a slug.
"""

from __future__ import annotations

from typing import Any

import pytest

from portal.services.accounts import create_team
from registry.services.models import create_model
from registry.services.versions import create_version


@pytest.fixture
def models(alice: Any, charlie: Any, risk_team: Any, search_team: Any) -> None:
    """Risk Modelling owns churn-risk and fraud-score; Search Relevance owns query-ranker."""
    for name in ("churn-risk", "fraud-score"):
        create_model(actor=alice, name=name, title=name.title(), team=risk_team)
    create_model(actor=charlie, name="query-ranker", title="Query ranker", team=search_team)


def _names(response: Any) -> list[str]:
    return [row.model.name for row in response.context["rows"]]


def _team_choices(response: Any) -> list[tuple[str, str]]:
    return list(response.context["filter"].form.fields["team"].choices)


def test_a_member_sees_her_teams_models_first(client_for: Any, alice: Any, models: Any) -> None:
    """No query string: my teams' models, "My teams" selected, and a way to see all teams."""
    response = client_for(alice).get("/models/")
    html = response.content.decode()

    assert _names(response) == ["churn-risk", "fraud-score"]
    assert _team_choices(response) == [
        ("", "My teams"),
        ("*", "All teams"),
        ("risk-modelling", "Risk Modelling"),
        ("search-relevance", "Search Relevance"),
    ]
    assert '<option value="" selected>My teams</option>' in html
    assert "2 models in my teams" in html and 'href="?team=%2A">show all teams</a>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("team=*", ["churn-risk", "fraud-score", "query-ranker"]),
        ("team=%2A&q=r", ["churn-risk", "fraud-score", "query-ranker"]),
        ("team=search-relevance", ["query-ranker"]),
        ("team=", ["churn-risk", "fraud-score"]),
        ("team=no-such-team", ["churn-risk", "fraud-score"]),  # ignored: the default
        ("q=ranker", []),  # another team's model, outside my teams
        ("q=ranker&team=*", ["query-ranker"]),
    ],
)
def test_a_member_chooses_all_teams_or_one(
    client_for: Any, alice: Any, models: Any, query: str, expected: list[str]
) -> None:
    """ "*" is every team, a slug that team; empty or unknown is my teams."""
    response = client_for(alice).get(f"/models/?{query}")

    assert response.status_code == 200
    assert _names(response) == expected


def test_all_teams_is_selected_and_says_nothing_of_my_teams(
    client_for: Any, alice: Any, models: Any
) -> None:
    """The select shows the choice made; the count no longer says "in my teams"."""
    html = client_for(alice).get("/models/?team=*").content.decode()

    assert '<option value="*" selected>All teams</option>' in html
    assert "in my teams" not in html


def test_someone_in_two_teams_sees_both(
    client_for: Any, alice: Any, charlie: Any, search_team: Any, models: Any
) -> None:
    """My teams are all of mine, not the first."""
    search_team.members.add(alice)

    assert _names(client_for(alice).get("/models/")) == [
        "churn-risk",
        "fraud-score",
        "query-ranker",
    ]


def test_someone_in_no_team_sees_every_team_by_default(
    client_for: Any, victor: Any, models: Any
) -> None:
    """No team, so no "My teams": the list opens on all teams."""
    response = client_for(victor).get("/models/")

    assert _names(response) == ["churn-risk", "fraud-score", "query-ranker"]
    assert _team_choices(response)[0] == ("", "All teams")
    assert "My teams" not in response.content.decode()


def test_the_htmx_table_keeps_the_default(client_for: Any, alice: Any, models: Any) -> None:
    """The filter form's swap of the table applies the same default."""
    response = client_for(alice).get("/models/?q=", headers={"HX-Request": "true"})

    assert response.templates[0].name == "registry/partials/model_table.html"
    assert _names(response) == ["churn-risk", "fraud-score"]
    assert b"in my teams" in response.content


def test_the_api_still_lists_every_team_by_default(api_for: Any, alice: Any, models: Any) -> None:
    """For the API no team is every team, and "*" is not a team."""
    api = api_for(alice)

    listed = api.get("/api/v1/models/").json()["results"]
    assert [row["name"] for row in listed] == ["churn-risk", "fraud-score", "query-ranker"]
    assert api.get("/api/v1/models/?team=*").status_code == 400


# session, user, the teams (mine marked) and the tag choices in one, page count, models (each
# with its latest version's id), their tags, those versions (with card), the viewer's roles
MEMBER_LIST_QUERIES = 9  # with the bell


def test_my_teams_list_runs_the_same_queries_for_3_or_30_models(
    client_for: Any,
    alice: Any,
    charlie: Any,
    risk_team: Any,
    search_team: Any,
    django_assert_num_queries: Any,
) -> None:
    """The default filter adds no query, however many models or teams."""
    client = client_for(alice)
    for number in range(3):
        model = create_model(actor=alice, name=f"few-{number}", title="Few", team=risk_team)
        create_version(actor=alice, model=model, version="1.0.0")
    client.get("/models/")  # warm the content-type cache
    with django_assert_num_queries(MEMBER_LIST_QUERIES):
        client.get("/models/")

    for number in range(27):
        create_team(name=f"Team {number}")
        model = create_model(actor=alice, name=f"many-{number:02d}", title="M", team=risk_team)
        create_version(actor=alice, model=model, version="1.0.0")
        create_model(actor=charlie, name=f"other-{number:02d}", title="O", team=search_team)

    with django_assert_num_queries(MEMBER_LIST_QUERIES):
        response = client.get("/models/?sort=-updated_at")
    assert len(response.context["rows"]) == 25
    assert response.context["page"].paginator.count == 30
