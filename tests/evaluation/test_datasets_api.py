"""The datasets API: list and filters, multipart upload, detail with profile, delete, and
the contract check; who may do each, and the error shapes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from portal.models import PersonalToken
from portal.services.tokens import create_token
from portal.uploads import limit_message
from registry.evaluation.models import Dataset, Evaluation
from registry.evaluation.services.datasets import profile_dataset
from tests.evaluation.data import table
from tests.evaluation.dataset_helpers import (
    PNG_BYTES,
    csv_bytes,
    file_upload,
    parquet_bytes,
    stored_files,
    upload,
)

LIST = "/api/v1/datasets/"
DETAIL = "/api/v1/datasets/churn-eval/1/"
CHECK = "/api/v1/datasets/churn-eval/1/validation/"


def _form(team: Any, data: bytes | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "team": team.slug,
        "name": "churn-eval",
        "version": "1",
        "kind": "evaluation",
        "description": "Q3 customers",
        "file": file_upload(csv_bytes(120) if data is None else data, "churn.csv"),
        **fields,
    }


def _post(client: APIClient, body: dict[str, Any]) -> Any:
    return client.post(LIST, body, format="multipart")


def _token_client(user: Any, scope: str) -> APIClient:
    _, key = create_token(user=user, name="ci", scope=scope)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# Reading ------------------------------------------------------------------------------


def test_anonymous_requests_get_401(db: Any) -> None:
    client = APIClient()
    assert client.get(LIST).status_code == 401
    assert client.get(DETAIL).status_code == 401
    assert client.get(CHECK).status_code == 401


def test_everyone_signed_in_lists_datasets_with_filters(
    api_for: Any, alice: Any, victor: Any, risk_team: Any
) -> None:
    upload(alice, risk_team, name="churn-eval", version="1", kind="evaluation")
    upload(alice, risk_team, name="churn-eval", version="2", kind="evaluation")
    upload(alice, risk_team, name="churn-train", version="1", kind="training")
    client = api_for(victor)

    page = client.get(LIST).json()
    training = client.get(LIST, {"kind": "training"}).json()
    named = client.get(LIST, {"name": "churn-eval", "team": risk_team.slug}).json()
    nobody = client.get(LIST, {"team": "no-such-team"})

    assert page["count"] == 3 and set(page) == {"count", "next", "previous", "results"}
    row = page["results"][0]
    assert (row["name"], row["version"], row["team"]) == ("churn-eval", "2", risk_team.slug)
    assert row["url"] == "http://testserver/api/v1/datasets/churn-eval/2/"
    assert row["page"] == "/datasets/churn-eval/2/"
    assert row["profile"]["job_status"] == "queued" and "columns" not in row["profile"]
    assert [r["name"] for r in training["results"]] == ["churn-train"]
    assert [r["version"] for r in named["results"]] == ["2", "1"]
    assert nobody.status_code == 400 and "team" in nobody.json()["errors"]


def test_the_list_runs_the_same_queries_for_more_datasets(
    api_for: Any, alice: Any, victor: Any, risk_team: Any
) -> None:
    client = api_for(victor)
    upload(alice, risk_team, version="1")
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    for number in range(2, 7):
        upload(alice, risk_team, version=str(number))
    with CaptureQueriesContext(connection) as more:
        assert client.get(LIST).json()["count"] == 6

    assert len(more) == len(few)


def test_the_detail_holds_the_profile(
    api_for: Any, alice: Any, victor: Any, risk_team: Any
) -> None:
    dataset = upload(alice, risk_team, parquet_bytes(150))
    profile_dataset(dataset_id=dataset.pk)

    body = api_for(victor).get(DETAIL).json()

    assert body["sha256"] == dataset.sha256 and body["file_format"] == "parquet"
    assert body["created_by"] == "alice" and body["kind"] == "evaluation"
    profile = body["profile"]
    assert profile["job_status"] == "succeeded" and profile["row_count"] == 150
    assert [c["name"] for c in profile["columns"]][:2] == ["age", "income"]
    assert profile["columns"][0]["quantiles"]["p50"] is not None


def test_an_unknown_dataset_is_404(api_for: Any, victor: Any) -> None:
    assert api_for(victor).get(DETAIL).status_code == 404
    assert api_for(victor).get(CHECK, {"model": "churn", "version": "1.0.0"}).status_code == 404


def test_a_read_only_token_reads_but_cannot_write(
    alice: Any, risk_team: Any, media_root: Path
) -> None:
    upload(alice, risk_team)
    client = _token_client(alice, PersonalToken.Scope.READ)

    assert client.get(LIST).status_code == 200
    assert client.get(DETAIL).status_code == 200
    assert _post(client, _form(risk_team, version="2")).status_code == 403
    assert client.delete(DETAIL).status_code == 403
    assert Dataset.objects.count() == 1


# Uploading ----------------------------------------------------------------------------


def test_a_member_uploads_with_multipart_and_gets_201(
    alice: Any, risk_team: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = _token_client(alice, PersonalToken.Scope.WRITE)
    with django_capture_on_commit_callbacks() as callbacks:
        response = _post(client, _form(risk_team, parquet_bytes(90)))

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["version"], body["file_format"]) == ("churn-eval", "1", "parquet")
    assert body["profile"]["job_status"] == "queued" and body["profile"]["row_count"] is None
    assert body["original_name"] == "churn.csv"
    assert len(callbacks) == 1  # the profiling job, sent on commit


def test_a_png_named_data_csv_is_refused_on_file(
    api_for: Any, alice: Any, risk_team: Any, media_root: Path
) -> None:
    response = _post(api_for(alice), _form(risk_team, PNG_BYTES))

    assert response.status_code == 400
    assert response.json()["errors"]["file"][0].startswith("Not a CSV or Parquet file")
    assert not Dataset.objects.exists() and stored_files(media_root) == []


def test_a_taken_version_and_bad_fields_are_named(api_for: Any, alice: Any, risk_team: Any) -> None:
    client = api_for(alice)
    assert _post(client, _form(risk_team)).status_code == 201

    taken = _post(client, _form(risk_team))
    bad = _post(client, _form(risk_team, name="Not a slug", kind="holdout", owner="bob"))

    assert taken.status_code == 400
    assert taken.json()["errors"] == {
        "version": ["Dataset churn-eval already has a version 1; choose another."]
    }
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"owner"}
    bad = _post(client, _form(risk_team, name="Not a slug", kind="holdout"))
    assert set(bad.json()["errors"]) == {"name", "kind"}


def test_an_upload_over_the_cap_is_413_naming_the_limit(
    api_for: Any, alice: Any, risk_team: Any, media_root: Path, settings: Any
) -> None:
    settings.HANDOFF_MAX_UPLOAD_BYTES = 2_000

    response = _post(api_for(alice), _form(risk_team, csv_bytes(400)))

    assert response.status_code == 413
    assert response.json()["errors"]["detail"] == [limit_message()]
    assert stored_files(media_root) == []


def test_viewers_and_other_teams_may_not_upload(
    api_for: Any, victor: Any, charlie: Any, risk_team: Any, media_root: Path
) -> None:
    assert _post(api_for(victor), _form(risk_team)).status_code == 403
    refused = _post(api_for(charlie), _form(risk_team))
    assert refused.status_code == 403
    assert "Risk Modelling" in refused.json()["errors"]["detail"][0]
    assert not Dataset.objects.exists() and stored_files(media_root) == []


def test_other_methods_are_405(api_for: Any, alice: Any, risk_team: Any) -> None:
    upload(alice, risk_team)
    client = api_for(alice)
    assert client.put(DETAIL, {}).status_code == 405
    assert client.patch(DETAIL, {}).status_code == 405
    assert client.post(CHECK, {}).status_code == 405
    assert client.delete(LIST).status_code == 405


# Deleting -----------------------------------------------------------------------------


def test_a_member_deletes_a_dataset(
    api_for: Any, alice: Any, bob: Any, risk_team: Any, django_capture_on_commit_callbacks: Any
) -> None:
    upload(alice, risk_team)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(bob).delete(DETAIL)
    assert response.status_code == 204 and not Dataset.objects.exists()


def test_outsiders_may_not_delete_and_a_used_dataset_is_kept(
    api_for: Any, alice: Any, charlie: Any, victor: Any, risk_team: Any, classifier: Any
) -> None:
    dataset = upload(alice, risk_team)
    assert api_for(charlie).delete(DETAIL).status_code == 403
    assert api_for(victor).delete(DETAIL).status_code == 403
    used = Evaluation.objects.create(
        version=classifier, dataset=dataset, label_column="churned", task_kind="classification"
    )

    response = api_for(alice).delete(DETAIL)

    assert response.status_code == 400
    assert f"churn 1.0.0 (evaluation {used.pk})" in response.json()["errors"]["detail"][0]
    assert Dataset.objects.filter(pk=dataset.pk).exists()


# Checking against a contract ----------------------------------------------------------


def test_the_check_returns_the_report(
    api_for: Any, alice: Any, victor: Any, risk_team: Any, classifier: Any
) -> None:
    """A file with an age of 7 and an unknown region: each named with its row."""
    rows = table(50)
    age = rows["age"].to_pylist()
    region = rows["region"].to_pylist()
    age[0], region[0] = 7.0, "mars"
    rows = rows.set_column(0, "age", pa.array(age)).set_column(4, "region", pa.array(region))
    sink = io.BytesIO()
    pa_csv.write_csv(rows, sink)
    upload(alice, risk_team, sink.getvalue())

    response = api_for(victor).get(CHECK, {"model": "churn", "version": "1.0.0"})

    assert response.status_code == 200
    body = response.json()
    assert (body["dataset"], body["model"], body["version"]) == ("churn-eval", "churn", "1.0.0")
    assert body["rows"] == 50 and body["ok"] is False
    problems = {
        (column["column"], problem["kind"]): problem["examples"]
        for column in body["columns"]
        for problem in column["problems"]
    }
    assert problems == {
        ("age", "minimum"): [{"row": 0, "value": 7}],
        ("region", "enum"): [{"row": 0, "value": "mars"}],
    }
    assert body["extra_columns"] == ["churned", "spend", "stored_prediction"]


@pytest.mark.parametrize(
    "query, field",
    [
        ({"version": "1.0.0"}, "model"),
        ({"model": "churn"}, "version"),
        ({"model": "churn", "version": "9.9.9"}, "version"),
        ({"model": "churn", "version": "1.0.0", "limit": "5"}, "limit"),
    ],
)
def test_the_check_names_a_bad_query(
    api_for: Any, alice: Any, risk_team: Any, classifier: Any, query: dict[str, str], field: str
) -> None:
    upload(alice, risk_team)

    response = api_for(alice).get(CHECK, query)

    assert response.status_code == 400 and list(response.json()["errors"]) == [field]
