"""The MLflow endpoints' answers: shapes, paging and the registry calls the client makes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.runs import create_run, log_batch
from registry.models import ModelAlias

M = "/api/2.0/mlflow"


@pytest.fixture
def http(alice: Any, token_of: Any) -> Client:
    return Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token_of(alice)}")


def post(http: Client, path: str, body: dict[str, Any]) -> Any:
    return http.post(f"{M}/{path}", body, content_type="application/json")


@pytest.mark.django_db
def test_run_search_pages_through_every_run_once(http: Client, alice: Any, risk_team: Any) -> None:
    experiment = create_experiment(actor=alice, team=risk_team, name="sweep")
    for number in range(7):
        run = create_run(actor=alice, experiment=experiment, name=f"r{number}")
        log_batch(actor=alice, run=run, metrics=[{"key": "acc", "value": number / 10, "step": 0}])
    seen: list[str] = []
    token = None
    for _ in range(4):
        body = {
            "experiment_ids": [str(experiment.pk)],
            "filter": "metrics.acc >= 0.2",
            "order_by": ["metrics.acc DESC"],
            "max_results": 2,
        }
        if token:
            body["page_token"] = token
        answer = post(http, "runs/search", body).json()
        seen += [r["info"]["run_name"] for r in answer["runs"]]
        token = answer.get("next_page_token")
        if not token:
            break
    assert seen == ["r6", "r5", "r4", "r3", "r2"]
    bad = post(http, "runs/search", {"experiment_ids": ["1"], "page_token": "garbage"})
    assert bad.status_code == 400 and bad.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    filtered = post(http, "runs/search", {"experiment_ids": ["1"], "filter": "metrics.acc >"})
    assert filtered.status_code == 400 and "at 13" in filtered.json()["message"]


@pytest.mark.django_db
def test_metric_history_pages_in_step_order(http: Client, alice: Any, risk_team: Any) -> None:
    experiment = create_experiment(actor=alice, team=risk_team, name="long")
    run = create_run(actor=alice, experiment=experiment)
    points = [{"key": "loss", "value": 1 / (s + 1), "step": s} for s in range(30)]
    log_batch(actor=alice, run=run, metrics=list(reversed(points)))
    steps: list[int] = []
    token = ""
    while True:
        query = {"run_id": run.pk, "metric_key": "loss", "max_results": 8}
        if token:
            query["page_token"] = token
        answer = http.get(f"{M}/metrics/get-history", query).json()
        steps += [m["step"] for m in answer["metrics"]]
        token = answer.get("next_page_token", "")
        if not token:
            break
    assert steps == list(range(30))
    empty = http.get(f"{M}/metrics/get-history", {"run_id": run.pk, "metric_key": "nope"})
    assert empty.json() == {"metrics": []}


@pytest.mark.django_db
def test_the_registry_calls_round_trip(http: Client, alice: Any, risk_team: Any) -> None:
    assert post(http, "registered-models/create", {"name": "Not A Slug"}).status_code == 400
    created = post(http, "registered-models/create", {"name": "churn-risk", "description": "d"})
    assert created.json()["registered_model"]["name"] == "churn-risk"
    again = post(http, "registered-models/create", {"name": "churn-risk"})
    assert again.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"
    version = post(
        http, "model-versions/create", {"name": "churn-risk", "source": "s3://bucket/model"}
    ).json()["model_version"]
    assert (version["version"], version["source"], version["status"]) == (
        "1",
        "s3://bucket/model",
        "READY",
    )
    assert (
        post(
            http,
            "registered-models/alias",
            {"name": "churn-risk", "alias": "champion", "version": "1"},
        ).status_code
        == 200
    )
    got = http.get(f"{M}/registered-models/get", {"name": "churn-risk"}).json()["registered_model"]
    assert got["aliases"] == [{"alias": "champion", "version": "1"}]
    assert got["latest_versions"][0]["version"] == "1"
    found = http.get(f"{M}/registered-models/search", {"filter": "name LIKE '%churn%'"}).json()
    assert [m["name"] for m in found["registered_models"]] == ["churn-risk"]
    uri = http.get(f"{M}/model-versions/get-download-uri", {"name": "churn-risk", "version": "1"})
    assert uri.json() == {"artifact_uri": "s3://bucket/model"}
    patched = http.patch(
        f"{M}/model-versions/update",
        {"name": "churn-risk", "version": "1", "description": "# Notes"},
        content_type="application/json",
    )
    assert patched.json()["model_version"]["description"] == "# Notes"
    gone = http.delete(
        f"{M}/registered-models/alias",
        {"name": "churn-risk", "alias": "champion"},
        content_type="application/json",
    )
    assert gone.status_code == 200 and not ModelAlias.objects.exists()
    missing = http.get(f"{M}/registered-models/alias", {"name": "churn-risk", "alias": "champion"})
    assert missing.status_code == 404


@pytest.mark.django_db
def test_a_person_in_two_teams_names_one(
    http: Client, alice: Any, risk_team: Any, search_team: Any
) -> None:
    search_team.members.add(alice)
    refused = post(http, "experiments/create", {"name": "sweep"})
    assert refused.status_code == 400 and "handoff.team" in refused.json()["message"]
    named = post(
        http,
        "experiments/create",
        {"name": "sweep", "tags": [{"key": "handoff.team", "value": search_team.slug}]},
    )
    experiment = http.get(
        f"{M}/experiments/get", {"experiment_id": named.json()["experiment_id"]}
    ).json()["experiment"]
    assert {"key": "handoff.team", "value": search_team.slug} in experiment["tags"]
