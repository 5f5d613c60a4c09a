"""The evaluations API: input mappings, starting, listing, reading and cancelling
evaluations; who may, and the error shape of what is refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from portal.jobs import JobStatus
from registry.evaluation.models import Evaluation, InputMapping
from registry.evaluation.services.evaluations import start_evaluation
from registry.services.versions import create_version
from tests.evaluation.data import FEATURES

pytestmark = pytest.mark.django_db

VERSION = "/api/v1/models/churn/versions/1.0.0"
MAPPING = f"{VERSION}/input-mapping/"
EVALUATIONS = f"{VERSION}/evaluations/"
FITTING = {
    "inputs": [{"name": "features", "dtype": "float32", "columns": FEATURES}],
    "outputs": {"label": "label", "scores": "probabilities", "classes": ["0", "1"]},
}
START = {"dataset": "churn-eval", "dataset_version": "1", "label_column": "churned"}


@pytest.fixture
def churn_data(data_file: Callable[..., Path], make_dataset: Callable[..., Any]) -> Any:
    return make_dataset(data_file(rows=1_000, suffix=".parquet"))


def queued(alice: Any, version: Any, dataset: Any) -> Evaluation:
    return start_evaluation(actor=alice, version=version, dataset=dataset, label_column="churned")


# Input mapping ------------------------------------------------------------------------------


def test_anyone_signed_in_reads_the_drafted_mapping(
    api_for: Any, victor: Any, classifier: Any
) -> None:
    response = api_for(victor).get(MAPPING)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["inputs"] == FITTING["inputs"] and body["outputs"] == FITTING["outputs"]
    assert body["drafted"] is True and body["updated_by"] is None
    assert body["notes"] == [
        "The contract's field region is not numeric, so no model input takes it."
    ]


def test_reading_a_mapping_needs_a_signed_in_person_and_a_valid_artifact(
    api_for: Any, alice: Any, churn: Any, classifier: Any
) -> None:
    create_version(actor=alice, model=churn, version="2.0.0")

    assert APIClient().get(MAPPING).status_code == 401
    missing = api_for(alice).get("/api/v1/models/churn/versions/2.0.0/input-mapping/")
    assert missing.status_code == 404
    assert "no valid ONNX artifact" in missing.json()["errors"]["detail"][0]
    assert (
        api_for(alice).get("/api/v1/models/nope/versions/1.0.0/input-mapping/").status_code == 404
    )


def test_the_teams_author_replaces_the_mapping(api_for: Any, alice: Any, classifier: Any) -> None:
    reordered = {
        **FITTING,
        "inputs": [{**FITTING["inputs"][0], "columns": ["tenure", "age", "income", "tickets"]}],
    }

    response = api_for(alice).put(MAPPING, reordered, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["drafted"] is False and response.json()["updated_by"] == "alice"
    assert InputMapping.objects.get().inputs == reordered["inputs"]


def test_a_mapping_that_does_not_fit_is_a_400_with_the_reason(
    api_for: Any, alice: Any, classifier: Any
) -> None:
    short = {**FITTING, "inputs": [{**FITTING["inputs"][0], "columns": ["age"]}]}

    response = api_for(alice).put(MAPPING, short, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["inputs"] == ["features takes 4 columns, the mapping gives 1."]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**FITTING, "drafted": False}, "drafted"),
        ({**FITTING, "owner": "me"}, "owner"),
        ({"inputs": FITTING["inputs"]}, "outputs"),
        ({**FITTING, "inputs": [{**FITTING["inputs"][0], "dtype": "complex"}]}, "inputs"),
    ],
)
def test_a_malformed_mapping_body_is_refused_naming_the_field(
    api_for: Any, alice: Any, classifier: Any, body: dict[str, Any], field: str
) -> None:
    response = api_for(alice).put(MAPPING, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_outsiders_cannot_change_the_mapping(
    api_for: Any, charlie: Any, victor: Any, classifier: Any
) -> None:
    for user in (charlie, victor):
        # Refused before the body is read: even a malformed one is a 403.
        assert api_for(user).put(MAPPING, FITTING, format="json").status_code == 403
        assert api_for(user).put(MAPPING, {"x": 1}, format="json").status_code == 403
    assert not InputMapping.objects.filter(drafted=False).exists()


def test_the_mapping_takes_only_get_and_put(api_for: Any, alice: Any, classifier: Any) -> None:
    assert api_for(alice).post(MAPPING, FITTING, format="json").status_code == 405
    assert api_for(alice).delete(MAPPING).status_code == 405


# Evaluations --------------------------------------------------------------------------------


def test_an_evaluation_is_started_run_and_read_with_every_result(
    api_for: Any,
    alice: Any,
    classifier: Any,
    churn_data: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # when: started (the worker runs it on commit: eager in tests)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(alice).post(
            EVALUATIONS, {**START, "slice_columns": ["region"]}, format="json"
        )

    # then: 202 with the queued job, and the finished evaluation has every result
    assert response.status_code == 202, response.json()
    started = response.json()
    assert (started["job_status"], started["started_by"]) == ("queued", "alice")
    assert (started["dataset"], started["dataset_version"]) == ("churn-eval", "1")
    detail = api_for(alice).get(started["url"]).json()
    assert detail["job_status"] == "succeeded", detail["error"]
    assert detail["rows"] == 1_000 and detail["progress"] == 100
    assert 0.5 < detail["metrics"]["roc_auc"] <= 1
    assert set(detail["per_class"]) == {"0", "1"}
    assert set(detail["curves"]) == {"classes", "confusion", "roc", "pr", "calibration"}
    assert len(detail["importance"]) == 4 and detail["slices"][0]["column"] == "region"
    assert set(detail["latency"]) == {"p50_ms", "p95_ms", "rows_per_s"}
    assert detail["page"] == f"/models/churn/versions/1.0.0/evaluations/{started['id']}/"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**START, "dataset": "nope"}, "dataset"),
        ({**START, "label_column": "churn"}, "label_column"),
        ({**START, "slice_columns": ["county"]}, "slice_columns"),
        ({**START, "prediction_column": "stored_prediction"}, "prediction_column"),
        ({**START, "status": "succeeded"}, "status"),
        ({"dataset": "churn-eval", "dataset_version": "1"}, "label_column"),
    ],
)
def test_a_start_that_cannot_run_is_a_400_naming_the_field(
    api_for: Any, alice: Any, classifier: Any, churn_data: Any, body: dict[str, Any], field: str
) -> None:
    response = api_for(alice).post(EVALUATIONS, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not Evaluation.objects.exists()


def test_outsiders_cannot_start_evaluations(
    api_for: Any, charlie: Any, victor: Any, dana: Any, classifier: Any, churn_data: Any
) -> None:
    for user in (charlie, victor, dana):
        assert api_for(user).post(EVALUATIONS, START, format="json").status_code == 403
    assert APIClient().post(EVALUATIONS, START, format="json").status_code == 401
    assert not Evaluation.objects.exists()


def test_the_list_shows_a_versions_evaluations_newest_first_in_constant_queries(
    api_for: Any, alice: Any, victor: Any, classifier: Any, churn_data: Any
) -> None:
    first = queued(alice, classifier, churn_data)
    api = api_for(victor)
    with CaptureQueriesContext(connection) as one:
        assert api.get(EVALUATIONS).status_code == 200
    later = [queued(alice, classifier, churn_data) for _ in range(3)]

    with CaptureQueriesContext(connection) as four:
        response = api.get(EVALUATIONS)

    listed = response.json()["results"]
    assert [row["id"] for row in listed] == [e.pk for e in reversed([first, *later])]
    assert response.json()["count"] == 4
    assert len(four) == len(one)
    assert "curves" not in listed[0] and "metrics" in listed[0]


def test_unknown_versions_and_evaluations_are_404(
    api_for: Any, alice: Any, classifier: Any
) -> None:
    api = api_for(alice)

    assert api.get("/api/v1/models/churn/versions/9.9.9/evaluations/").status_code == 404
    assert api.post("/api/v1/models/churn/versions/9.9.9/evaluations/", START).status_code == 404
    assert api.get("/api/v1/evaluations/999999/").status_code == 404
    assert api.post("/api/v1/evaluations/999999/cancel/").status_code == 404


def test_the_team_cancels_a_queued_evaluation(
    api_for: Any, alice: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = queued(alice, classifier, churn_data)
    url = f"/api/v1/evaluations/{evaluation.pk}/cancel/"

    response = api_for(alice).post(url)

    assert response.status_code == 200, response.json()
    assert response.json()["job_status"] == JobStatus.CANCELLED
    again = api_for(alice).post(url)
    assert again.status_code == 400
    assert again.json()["errors"]["detail"][0].startswith("Nothing to cancel")


def test_cancelling_is_a_post_for_the_team_only(
    api_for: Any, alice: Any, charlie: Any, victor: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = queued(alice, classifier, churn_data)
    url = f"/api/v1/evaluations/{evaluation.pk}/cancel/"

    assert api_for(alice).get(url).status_code == 405
    for user in (charlie, victor):
        assert api_for(user).post(url).status_code == 403
    assert api_for(charlie).get(f"/api/v1/evaluations/{evaluation.pk}/").status_code == 200
    evaluation.refresh_from_db()
    assert evaluation.status == JobStatus.QUEUED and not evaluation.cancel_requested
