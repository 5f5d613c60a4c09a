"""The models API: CRUD, search, permissions and error shapes."""

import re

import pytest
from rest_framework.test import APIClient

from portal.models import AuditEvent
from registry.models import RegisteredModel
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status

NEW_MODEL = {
    "name": "churn-risk",
    "title": "Churn risk",
    "summary": "Who cancels next month.",
    "team": "risk-modelling",
    "task_type": "binary_classification",
    "tags": ["Tabular", "subscriptions"],
}


def test_a_data_scientist_registers_a_model_for_her_team(api_for, alice) -> None:
    """201 with the stored model; tags are normalised; an audit event is written."""
    response = api_for(alice).post("/api/v1/models/", NEW_MODEL, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "churn-risk" and body["team"] == "risk-modelling"
    assert body["tags"] == ["subscriptions", "tabular"]
    assert body["created_by"] == "alice" and body["latest_version"] is None
    assert AuditEvent.objects.filter(verb="model.created").count() == 1


def test_clients_cannot_set_read_only_fields(api_for, alice, bob) -> None:
    """created_by and timestamps come from the server: sending them is a 400 naming them."""
    payload = {**NEW_MODEL, "created_by": "bob", "created_at": "2000-01-01T00:00:00Z"}
    response = api_for(alice).post("/api/v1/models/", payload, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"created_by", "created_at"}
    assert not RegisteredModel.objects.exists()
    body = api_for(alice).post("/api/v1/models/", NEW_MODEL, format="json").json()
    assert body["created_by"] == "alice"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Not A Slug!"}, "name"),
        ({"team": "no-such-team"}, "team"),
        ({"task_type": "astrology"}, "task_type"),
        ({"title": ""}, "title"),
        ({"tags": ["x"] * 21}, "tags"),
    ],
)
def test_bad_input_names_the_field(api_for, alice, change, field) -> None:
    """400 with {"errors": {field: [...]}} and nothing stored."""
    response = api_for(alice).post("/api/v1/models/", {**NEW_MODEL, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not RegisteredModel.objects.exists()


def test_viewers_and_outsiders_get_403(api_for, victor, charlie, risk_team) -> None:
    """The service refuses; the API says why."""
    for user in (victor, charlie):
        response = api_for(user).post("/api/v1/models/", NEW_MODEL, format="json")
        assert response.status_code == 403
        assert response.json()["errors"]["detail"]


def test_only_the_team_may_edit_or_delete(api_for, alice, bob, charlie, fraud_model) -> None:
    """PATCH and DELETE by an outsider are 403 and change nothing."""
    assert (
        api_for(charlie).patch("/api/v1/models/fraud-score/", {"title": "Mine"}).status_code == 403
    )
    assert api_for(charlie).delete("/api/v1/models/fraud-score/").status_code == 403
    response = api_for(bob).patch(
        "/api/v1/models/fraud-score/", {"title": "Fraud v2", "tags": ["cards"]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Fraud v2" and response.json()["tags"] == ["cards"]
    assert api_for(alice).delete("/api/v1/models/fraud-score/").status_code == 204
    assert not RegisteredModel.objects.exists()


def test_name_and_team_cannot_be_changed(api_for, alice, fraud_model) -> None:
    """Unknown or fixed fields in a PATCH are ignored by the serializer, not applied."""
    api_for(alice).patch("/api/v1/models/fraud-score/", {"name": "x", "team": "search-relevance"})
    fraud_model.refresh_from_db()
    assert (fraud_model.name, fraud_model.team.slug) == ("fraud-score", "risk-modelling")


def test_a_released_model_cannot_be_deleted(api_for, alice, v1) -> None:
    """409-worthy history is protected: the answer is 400 with the reason."""
    set_version_status(actor=alice, version=v1, status="candidate")
    set_version_status(actor=alice, version=v1, status="production", via_release=True)
    response = api_for(alice).delete("/api/v1/models/fraud-score/")
    assert response.status_code == 400
    assert "released versions" in response.json()["errors"]["detail"][0]


def test_the_list_searches_filters_and_sorts(api_for, alice, bob, charlie, search_team) -> None:
    """q, team, task_type, tag and ordering narrow and order the list."""
    for name, team, task, tags in [
        ("fraud-score", "risk-modelling", "binary_classification", ["payments"]),
        ("credit-limit", "risk-modelling", "regression", ["lending"]),
        ("query-ranker", "search-relevance", "ranking", ["search"]),
    ]:
        owner = charlie if team == "search-relevance" else alice
        create_model(
            actor=owner,
            name=name,
            title=name.title(),
            team=owner.teams.get(),
            task_type=task,
            tags=tags,
        )
    api = api_for(bob)

    def names(query: str) -> list[str]:
        return [m["name"] for m in api.get(f"/api/v1/models/?{query}").json()["results"]]

    assert names("") == ["credit-limit", "fraud-score", "query-ranker"]
    assert names("q=ranker") == ["query-ranker"]
    assert names("team=risk-modelling") == ["credit-limit", "fraud-score"]
    assert names("task_type=regression") == ["credit-limit"]
    assert names("tag=payments") == ["fraud-score"]
    assert api.get("/api/v1/models/?task_type=astrology").status_code == 400


def test_the_list_reports_latest_and_production_versions(api_for, alice, fraud_model) -> None:
    """Latest is by semver; production is the released one."""
    v1 = create_version(actor=alice, model=fraud_model, version="1.9.0")
    create_version(actor=alice, model=fraud_model, version="1.10.0")
    set_version_status(actor=alice, version=v1, status="candidate")
    set_version_status(actor=alice, version=v1, status="production", via_release=True)
    row = api_for(alice).get("/api/v1/models/").json()["results"][0]
    assert (row["latest_version"], row["production_version"]) == ("1.10.0", "1.9.0")


# page count, the models (latest and production version names are subqueries), their tags
API_LIST_QUERIES = 3


def test_the_list_runs_the_same_queries_for_3_or_30_models(
    api_for, alice, risk_team, django_assert_num_queries
) -> None:
    """No version is loaded: latest and production are one indexed subquery each."""

    def populate(count: int) -> None:
        for i in range(count):
            model = create_model(
                actor=alice, name=f"m-{count}-{i}", title="M", team=risk_team, tags=["a", "b"]
            )
            create_version(actor=alice, model=model, version="1.0.0")
            live = create_version(actor=alice, model=model, version="1.1.0")
            set_version_status(actor=alice, version=live, status="candidate")
            set_version_status(actor=alice, version=live, status="production", via_release=True)
            create_version(actor=alice, model=model, version="2.0.0")

    api = api_for(alice)
    populate(3)
    with django_assert_num_queries(API_LIST_QUERIES):
        api.get("/api/v1/models/?page_size=200")
    populate(27)
    with django_assert_num_queries(API_LIST_QUERIES):
        rows = api.get("/api/v1/models/?page_size=200").json()["results"]
    with django_assert_num_queries(API_LIST_QUERIES):
        api.get("/api/v1/models/?status=draft&q=m&sort=-updated_at")
    assert len(rows) == 30
    assert {(row["latest_version"], row["production_version"]) for row in rows} == {
        ("2.0.0", "1.1.0")
    }
    assert rows[0]["tags"] == ["a", "b"]
    assert rows[0]["url"] == "http://testserver/api/v1/models/m-27-0/"


def test_one_model_reports_its_versions_whether_listed_fetched_or_created(
    api_for, alice, fraud_model
) -> None:
    """The list, the detail and a fresh registration agree on latest and production."""
    v1 = create_version(actor=alice, model=fraud_model, version="1.9.0")
    create_version(actor=alice, model=fraud_model, version="1.10.0")
    set_version_status(actor=alice, version=v1, status="candidate")
    set_version_status(actor=alice, version=v1, status="production", via_release=True)
    api = api_for(alice)

    listed = api.get("/api/v1/models/").json()["results"][0]
    fetched = api.get("/api/v1/models/fraud-score/").json()
    created = api.post("/api/v1/models/", {**NEW_MODEL, "tags": []}, format="json").json()

    for body in (listed, fetched):
        assert (body["latest_version"], body["production_version"]) == ("1.10.0", "1.9.0")
        assert body["tags"] == ["payments", "tabular"]
        assert body["url"] == "http://testserver/api/v1/models/fraud-score/"
    assert (created["latest_version"], created["production_version"]) == (None, None)
    assert created["url"] == "http://testserver/api/v1/models/churn-risk/"


def test_anonymous_callers_get_401_and_unknown_models_404(api_for, alice) -> None:
    """No session, no token: 401. An unknown name: 404 in the error shape."""
    assert APIClient().get("/api/v1/models/").status_code == 401
    response = api_for(alice).get("/api/v1/models/nope/")
    assert response.status_code == 404
    assert response.json() == {
        "errors": {"detail": ["No RegisteredModel matches the given query."]}
    }


def test_an_oversized_json_body_is_refused_with_the_limit(api_for, alice, settings) -> None:
    """413 names the limit; nothing is parsed or stored."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    payload = {**NEW_MODEL, "summary": "x" * 2000}
    response = api_for(alice).post("/api/v1/models/", payload, format="json")
    assert response.status_code == 413
    assert "1,000 bytes" in response.json()["errors"]["detail"][0]


def test_pathologically_nested_json_is_a_400(api_for, alice) -> None:
    """Deep nesting cannot crash the parser into a 500."""
    body = "[" * 100_000 + "]" * 100_000
    response = api_for(alice).post("/api/v1/models/", body, content_type="application/json")
    assert response.status_code == 400


def test_path_parameters_name_the_same_thing_the_same_way(api_for, alice) -> None:
    """Each thing has one parameter name in every path: {model_name}, {version}, {item_id}…"""
    paths = api_for(alice).get("/api/v1/schema/?format=json").json()["paths"]
    names = {name for path in paths for name in re.findall(r"{(\w+)}", path)}

    assert names == {
        *("model_name", "version", "item_id", "link_id", "iteration_id"),
        *("experiment_id", "run_id", "key", "end_user"),
        *("dataset_name", "dataset_version", "evaluation_id", "gate_id", "team_name"),
        "report_id",
        *("release_id", "environment_name", "webhook_id", "delivery_id"),
    }
    assert "/api/v1/models/{model_name}/compare/" in paths
