"""What the MLflow endpoints refuse, in MLflow's error shape, and that a refusal writes nothing."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from portal.models import AuditEvent, PersonalToken
from registry.experiments.models import Experiment, MetricSummary, Param, Run
from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.runs import create_run
from registry.models import ModelAlias
from registry.releases.services.environments import ensure_default_environments
from registry.services.models import create_model
from registry.services.versions import create_version

M = "/api/2.0/mlflow"
A = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture
def http() -> Client:
    return Client(HTTP_HOST="127.0.0.1")


@pytest.fixture
def bearer(token_of: Any) -> Any:
    def make(user: Any, scope: str = PersonalToken.Scope.WRITE) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {token_of(user, scope)}"}

    return make


@pytest.fixture
def run(alice: Any, risk_team: Any) -> Run:
    experiment = create_experiment(actor=alice, team=risk_team, name="churn")
    return create_run(actor=alice, experiment=experiment, name="r1")


def post(http: Client, path: str, body: dict[str, Any], auth: dict[str, str]) -> Any:
    return http.post(f"{M}/{path}", body, content_type="application/json", **auth)


def test_no_anonymous_call_gets_anything(http: Client, run: Run) -> None:
    answer = http.get(f"{M}/runs/get", {"run_id": run.pk})
    assert answer.status_code == 401
    assert answer.json()["error_code"] == "UNAUTHENTICATED"
    assert (
        http.get(f"{M}/runs/get", {"run_id": run.pk}, HTTP_AUTHORIZATION="Bearer nope").status_code
        == 401
    )


def test_basic_auth_signs_in_as_the_person_and_throttles_wrong_passwords(
    http: Client, alice: Any, run: Run
) -> None:
    good = base64.b64encode(b"alice:pw-alice-123").decode()
    answer = http.get(f"{M}/runs/get", {"run_id": run.pk}, HTTP_AUTHORIZATION=f"Basic {good}")
    assert answer.status_code == 200
    assert answer.json()["run"]["info"]["user_id"] == "alice"
    bad = base64.b64encode(b"alice:wrong").decode()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert (
            http.get(
                f"{M}/runs/get", {"run_id": run.pk}, HTTP_AUTHORIZATION=f"Basic {bad}"
            ).status_code
            == 401
        )
    locked = http.get(f"{M}/runs/get", {"run_id": run.pk}, HTTP_AUTHORIZATION=f"Basic {good}")
    assert locked.status_code == 401 and "Too many" in locked.json()["message"]


def test_unknown_experiment_and_run_are_resource_does_not_exist(
    http: Client, alice: Any, bearer: Any, run: Run
) -> None:
    auth = bearer(alice)
    missing = http.get(f"{M}/experiments/get-by-name", {"experiment_name": "nope"}, **auth)
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    for run_id in ("999999", "abc", "../1"):
        answer = post(
            http, "runs/log-parameter", {"run_id": run_id, "key": "k", "value": "v"}, auth
        )
        assert answer.status_code == 404, run_id
        assert answer.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_run_uuid_is_accepted_like_run_id(http: Client, alice: Any, bearer: Any, run: Run) -> None:
    answer = post(
        http,
        "runs/log-parameter",
        {"run_uuid": str(run.pk), "key": "C", "value": "1"},
        bearer(alice),
    )
    assert answer.status_code == 200
    assert Param.objects.get(run=run).value == "1"


def test_a_viewer_or_a_read_only_token_cannot_log(
    http: Client, alice: Any, victor: Any, bearer: Any, run: Run
) -> None:
    body = {"run_id": str(run.pk), "key": "loss", "value": 0.5, "timestamp": 1, "step": 0}
    for auth in (bearer(victor, PersonalToken.Scope.READ), bearer(alice, PersonalToken.Scope.READ)):
        answer = post(http, "runs/log-metric", body, auth)
        assert answer.status_code == 403
        assert answer.json()["error_code"] == "PERMISSION_DENIED"
    assert not MetricSummary.objects.exists()
    # Reading is open to anyone signed in.
    assert (
        http.get(
            f"{M}/runs/get", {"run_id": run.pk}, **bearer(victor, PersonalToken.Scope.READ)
        ).status_code
        == 200
    )


def test_an_outsider_cannot_log_to_another_teams_run(
    http: Client, charlie: Any, bearer: Any, run: Run
) -> None:
    answer = post(
        http, "runs/set-tag", {"run_id": str(run.pk), "key": "x", "value": "y"}, bearer(charlie)
    )
    assert answer.status_code == 403
    assert not run.tags.exists()


def test_log_batch_over_the_clients_limits_is_refused_whole(
    http: Client, alice: Any, bearer: Any, run: Run
) -> None:
    auth = bearer(alice)
    metrics = [{"key": "m", "value": 1.0, "timestamp": 1, "step": i} for i in range(1001)]
    answer = post(http, "runs/log-batch", {"run_id": str(run.pk), "metrics": metrics}, auth)
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "at most 1000 metrics" in answer.json()["message"]
    params = [{"key": f"p{i}", "value": "v"} for i in range(101)]
    assert (
        post(http, "runs/log-batch", {"run_id": str(run.pk), "params": params}, auth).status_code
        == 400
    )
    # A bad point among good ones: nothing of the batch is stored.
    mixed = [
        {"key": "m", "value": 1.0, "timestamp": 1, "step": 0},
        {"key": "m", "value": "x", "timestamp": 1, "step": 1},
    ]
    answer = post(http, "runs/log-batch", {"run_id": str(run.pk), "metrics": mixed}, auth)
    assert answer.status_code == 400 and "[1]" in answer.json()["message"]
    assert not MetricSummary.objects.filter(run=run).exists() and not Param.objects.exists()


def test_a_param_never_changes(http: Client, alice: Any, bearer: Any, run: Run) -> None:
    auth = bearer(alice)
    assert (
        post(
            http, "runs/log-parameter", {"run_id": str(run.pk), "key": "C", "value": "1"}, auth
        ).status_code
        == 200
    )
    answer = post(
        http, "runs/log-parameter", {"run_id": str(run.pk), "key": "C", "value": "2"}, auth
    )
    assert answer.status_code == 400
    assert "'1'" in answer.json()["message"] and "'2'" in answer.json()["message"]
    assert Param.objects.get(run=run).value == "1"


def test_malformed_json_and_missing_fields_name_the_problem(
    http: Client, alice: Any, bearer: Any
) -> None:
    auth = bearer(alice)
    answer = http.post(
        f"{M}/experiments/create", "{not json", content_type="application/json", **auth
    )
    assert answer.status_code == 400 and answer.json()["error_code"] == "MALFORMED_REQUEST"
    answer = post(http, "experiments/create", {}, auth)
    assert answer.status_code == 400 and "'name'" in answer.json()["message"]
    assert not Experiment.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "{exp}/{run}/artifacts/../../../../etc/passwd",
        "{exp}/{run}/artifacts/%2e%2e/%2e%2e/outside.txt",
        "{exp}/{run}/artifacts/sub/..%2f..%2f..%2foutside.txt",
        "%2Fetc/passwd",
        "{exp}/{run}/artifacts/a\\..\\..\\outside.txt",
        "{exp}/{run}/../{run}/artifacts/x.txt",
    ],
)
def test_artifact_paths_cannot_leave_the_runs_folder(
    http: Client, alice: Any, bearer: Any, run: Run, path: str, tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    url = f"{A}/" + path.format(exp=run.experiment_id, run=run.pk)
    answer = http.put(url, b"secret", content_type="application/octet-stream", **bearer(alice))
    assert answer.status_code == 400, answer.content
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]  # nothing written anywhere
    assert http.get(url, **bearer(alice)).status_code == 400
    assert http.get(A, {"path": url.removeprefix(f"{A}/")}, **bearer(alice)).status_code == 400


def test_artifacts_round_trip_inside_the_run(
    http: Client, alice: Any, charlie: Any, bearer: Any, run: Run
) -> None:
    url = f"{A}/{run.experiment_id}/{run.pk}/artifacts/model/MLmodel"
    assert (
        http.put(
            url, b"flavors: {}\n", content_type="application/octet-stream", **bearer(charlie)
        ).status_code
        == 403
    )
    assert (
        http.put(
            url, b"flavors: {}\n", content_type="application/octet-stream", **bearer(alice)
        ).status_code
        == 200
    )
    listed = http.get(
        A, {"path": f"{run.experiment_id}/{run.pk}/artifacts/model"}, **bearer(charlie)
    ).json()
    assert listed == {"files": [{"path": "MLmodel", "is_dir": False, "file_size": 12}]}
    got = http.get(url, **bearer(alice))
    assert b"".join(got.streaming_content) == b"flavors: {}\n"


def test_environment_names_are_not_aliases(
    http: Client, alice: Any, bearer: Any, risk_team: Any
) -> None:
    ensure_default_environments()
    model = create_model(actor=alice, name="churn-risk", title="Churn", team=risk_team)
    version = create_version(actor=alice, model=model, version="1.0.0")
    auth = bearer(alice)
    events = AuditEvent.objects.count()
    for name in ("production", "Staging"):
        answer = post(
            http,
            "registered-models/alias",
            {"name": "churn-risk", "alias": name, "version": "1"},
            auth,
        )
        assert answer.status_code == 403
        assert answer.json()["error_code"] == "PERMISSION_DENIED"
        assert f"/releases/request/churn-risk/{version.version}/" in answer.json()["message"]
    assert not ModelAlias.objects.exists() and AuditEvent.objects.count() == events
    assert (
        post(
            http,
            "registered-models/alias",
            {"name": "churn-risk", "alias": "champion", "version": "1"},
            auth,
        ).status_code
        == 200
    )
    assert ModelAlias.objects.get().version == version


def test_a_caller_over_the_rate_is_told_to_wait(
    http: Client, alice: Any, bearer: Any, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from registry.mlflow_api.http import MlflowRateThrottle

    monkeypatch.setattr(MlflowRateThrottle, "THROTTLE_RATES", {"mlflow": "3/min"})
    auth = bearer(alice)
    for _ in range(3):
        assert http.get(f"{M}/runs/get", {"run_id": run.pk}, **auth).status_code == 200
    refused = http.get(f"{M}/runs/get", {"run_id": run.pk}, **auth)
    assert refused.status_code == 429
    assert refused.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    assert int(refused["Retry-After"]) >= 1


def test_a_database_outage_is_a_503_the_client_retries(
    http: Client, alice: Any, bearer: Any, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    from registry.mlflow_api.services import tracking

    def down(**kwargs: Any) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(tracking, "log_batch", down)
    body = {"run_id": str(run.pk), "metrics": [{"key": "m", "value": 1.0, "timestamp": 1}]}
    answer = post(http, "runs/log-batch", body, bearer(alice))
    assert answer.status_code == 503
    assert answer.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert answer["Retry-After"] == "5"


HOSTILE_IDS = ["²", "٣", "9" * 30, "-1", "0", "1e3", " 1", "1 ", "", "null", "1;DROP TABLE"]


@pytest.mark.parametrize("bad", HOSTILE_IDS)
def test_hostile_ids_are_not_found_never_a_crash(
    http: Client, alice: Any, bearer: Any, run: Run, bad: str
) -> None:
    auth = bearer(alice)
    answers = [
        http.get(f"{M}/runs/get", {"run_id": bad}, **auth),
        http.get(f"{M}/experiments/get", {"experiment_id": bad}, **auth),
        http.get(f"{M}/model-versions/get", {"name": "x", "version": bad}, **auth),
        post(
            http,
            "runs/log-batch",
            {
                "run_id": str(run.pk),
                "metrics": [{"key": "m", "value": 1.0, "timestamp": bad or 1, "step": bad or 0}],
            },
            auth,
        ),
        post(http, "runs/search", {"experiment_ids": [bad]}, auth),
        http.get(f"{A}/{run.experiment_id}/{bad or 'x'}/artifacts/f.txt", **auth),
    ]
    for answer in answers:
        assert answer.status_code in (200, 400, 404), answer.content
        assert answer.json().get("error_code", "ok") != "INTERNAL_ERROR"
