"""The experiments API: experiments, runs, batch logging, history, search and permissions."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from portal.services.tokens import create_token
from registry.experiments import series
from registry.experiments.api.batches import batch_from_body
from registry.experiments.models import MetricChunk, MetricSummary, Param, Run, RunStatus
from registry.experiments.services.runs import MAX_POINTS, create_run, log_batch
from registry.experiments.times import milliseconds

SHA = "ab" * 32


def _points(key: str, values: list[float], start: int = 0) -> list[dict[str, Any]]:
    return [{"key": key, "value": v, "step": start + i} for i, v in enumerate(values)]


def _post(client: APIClient, url: str, body: Any) -> Any:
    return client.post(url, body, format="json")


# Experiments ---------------------------------------------------------------------------------


def test_it_creates_an_experiment_and_reads_it_back(
    api_for: Any, alice: Any, risk_team: Any
) -> None:
    """Team by slug, metric directions kept; the detail shows what the list shows."""
    response = _post(
        api_for(alice),
        "/api/v1/experiments/",
        {"name": "depth-sweep", "team": risk_team.slug, "metric_directions": {"loss": "min"}},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["team"], body["model"], body["created_by"]) == (risk_team.slug, None, "alice")
    assert body["metric_directions"] == {"loss": "min"}
    listed = api_for(alice).get("/api/v1/experiments/").json()["results"]
    assert listed == [body]
    assert api_for(alice).get(f"/api/v1/experiments/{body['id']}/").json() == body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"name": "x", "team": "risk-modelling", "metric_directions": {"loss": "up"}},
            "metric_directions",
        ),
        ({"name": "x", "team": "risk-modelling", "colour": "red"}, "colour"),
        ({"name": "x", "team": "no-such-team"}, "team"),
        ({"name": "churn-sweep", "team": "risk-modelling"}, "name"),
    ],
)
def test_it_refuses_a_bad_experiment_naming_the_field(
    api_for: Any, alice: Any, sweep: Any, body: dict[str, Any], field: str
) -> None:
    response = _post(api_for(alice), "/api/v1/experiments/", body)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_viewer_and_an_outsider_may_not_create_experiments(
    api_for: Any, victor: Any, charlie: Any, risk_team: Any
) -> None:
    body = {"name": "theirs", "team": risk_team.slug}

    assert _post(api_for(victor), "/api/v1/experiments/", body).status_code == 403
    assert _post(api_for(charlie), "/api/v1/experiments/", body).status_code == 403


def test_experiment_routes_answer_404_and_405(api_for: Any, alice: Any, sweep: Any) -> None:
    client = api_for(alice)

    assert client.get("/api/v1/experiments/999999/").status_code == 404
    assert client.delete(f"/api/v1/experiments/{sweep.pk}/").status_code == 405
    assert client.put(f"/api/v1/experiments/{sweep.pk}/", {}).status_code == 405


# Runs ----------------------------------------------------------------------------------------


def test_it_starts_a_run_with_datasets_and_environment(
    api_for: Any, alice: Any, sweep: Any
) -> None:
    response = _post(
        api_for(alice),
        "/api/v1/runs/",
        {
            "experiment": sweep.pk,
            "name": "lr=0.01",
            "started_at": "2024-06-01T10:00:00Z",
            "git_commit": "4f9c2e1",
            "source": "train.py",
            "notes": "First *try*.",
            "datasets": [{"name": "train.parquet", "sha256": SHA.upper(), "role": "training"}],
            "python_version": "3.11.9",
            "packages": "numpy==2.1.0\n",
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["user"], body["experiment"]) == ("running", "alice", sweep.pk)
    assert body["started_at"] == "2024-06-01T10:00:00Z"
    assert body["datasets"] == [{"name": "train.parquet", "sha256": SHA, "role": "training"}]
    assert body["environment"] == {"python_version": "3.11.9", "packages": "numpy==2.1.0\n"}
    assert "<em>try</em>" in body["notes_html"]
    assert (body["params"], body["tags"], body["summaries"], body["metrics"]) == ([], [], [], {})


def test_a_run_needs_a_real_experiment_and_a_real_sha(api_for: Any, alice: Any, sweep: Any) -> None:
    bad_sha = _post(
        api_for(alice),
        "/api/v1/runs/",
        {"experiment": sweep.pk, "datasets": [{"name": "a", "sha256": "xyz"}]},
    )
    no_experiment = _post(api_for(alice), "/api/v1/runs/", {"experiment": 999999})

    assert bad_sha.status_code == 400 and "datasets" in bad_sha.json()["errors"]
    assert no_experiment.status_code == 400 and "experiment" in no_experiment.json()["errors"]


def test_only_the_team_s_authors_start_runs(
    api_for: Any, bob: Any, charlie: Any, victor: Any, sweep: Any
) -> None:
    body = {"experiment": sweep.pk}

    assert _post(api_for(bob), "/api/v1/runs/", body).status_code == 201
    assert _post(api_for(charlie), "/api/v1/runs/", body).status_code == 403
    assert _post(api_for(victor), "/api/v1/runs/", body).status_code == 403


def test_a_run_shows_its_params_tags_and_summaries(api_for: Any, alice: Any, run: Any) -> None:
    log_batch(
        actor=alice,
        run=run,
        metrics=_points("loss", [0.9, 0.5, 0.7]),
        params=[{"key": "lr", "value": 0.1}],
        tags=[{"key": "stage", "value": "sweep"}],
    )

    body = api_for(alice).get(f"/api/v1/runs/{run.pk}/").json()

    assert body["params"] == [{"key": "lr", "value": "0.1"}]
    assert body["tags"] == [{"key": "stage", "value": "sweep"}]
    assert body["metrics"] == {"loss": 0.7}
    [summary] = body["summaries"]
    assert {k: summary[k] for k in ("key", "last", "last_step", "min", "max", "count")} == {
        "key": "loss",
        "last": 0.7,
        "last_step": 2,
        "min": 0.5,
        "max": 0.9,
        "count": 3,
    }
    assert isinstance(summary["last_timestamp"], int)


def test_reading_a_run_is_four_queries(
    api_for: Any, alice: Any, run: Any, django_assert_num_queries: Any
) -> None:
    """The run with user and experiment, then its params, tags and summaries."""
    log_batch(
        actor=alice, run=run, metrics=_points("a", [1.0]), params=[{"key": "p", "value": "1"}]
    )
    client = api_for(alice)

    with django_assert_num_queries(4):
        assert client.get(f"/api/v1/runs/{run.pk}/").status_code == 200


def test_it_ends_a_run(api_for: Any, alice: Any, run: Any) -> None:
    response = _post(
        api_for(alice),
        f"/api/v1/runs/{run.pk}/end/",
        {"status": "failed", "ended_at": "2024-06-01T12:00:00Z"},
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["status"], response.json()["ended_at"]) == (
        "failed",
        "2024-06-01T12:00:00Z",
    )
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED


@pytest.mark.parametrize("body", [{"status": "running"}, {}, {"status": "finished", "x": 1}])
def test_it_refuses_to_end_a_run_as_running_or_without_a_status(
    api_for: Any, alice: Any, run: Any, body: dict[str, Any]
) -> None:
    assert _post(api_for(alice), f"/api/v1/runs/{run.pk}/end/", body).status_code == 400


def test_outsiders_viewers_and_read_tokens_may_not_end_a_run(
    api_for: Any, alice: Any, charlie: Any, victor: Any, run: Any
) -> None:
    url = f"/api/v1/runs/{run.pk}/end/"
    _, key = create_token(user=alice, name="ci", scope="read")
    read_token = APIClient()
    read_token.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert _post(api_for(charlie), url, {"status": "finished"}).status_code == 403
    assert _post(api_for(victor), url, {"status": "finished"}).status_code == 403
    assert _post(read_token, url, {"status": "finished"}).status_code == 403
    assert read_token.get(f"/api/v1/runs/{run.pk}/").status_code == 200
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING


def test_run_routes_answer_401_404_and_405(api_for: Any, alice: Any, run: Any) -> None:
    client = api_for(alice)

    assert APIClient().get("/api/v1/runs/").status_code == 401
    assert client.get("/api/v1/runs/999999/").status_code == 404
    assert _post(client, "/api/v1/runs/999999/end/", {"status": "finished"}).status_code == 404
    assert client.delete(f"/api/v1/runs/{run.pk}/").status_code == 405
    assert client.get(f"/api/v1/runs/{run.pk}/log-batch/").status_code == 405
    assert client.get(f"/api/v1/runs/{run.pk}/end/").status_code == 405


# Batches -------------------------------------------------------------------------------------


def test_a_batch_stores_points_with_their_millisecond_timestamps(
    api_for: Any, alice: Any, run: Any
) -> None:
    response = _post(
        api_for(alice),
        f"/api/v1/runs/{run.pk}/log-batch/",
        {
            "metrics": [
                {"key": "loss", "value": 0.5, "step": 1, "timestamp": 1718000000123},
                {"key": "loss", "value": 0.4, "step": 2},
            ],
            "params": [{"key": "lr", "value": 0.01}],
            "tags": [{"key": "stage", "value": "sweep"}],
        },
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {"metrics": 2, "params": 1, "tags": 1}
    logged = series.read([run.pk], ["loss"])[run.pk, "loss"]
    assert logged.steps.tolist() == [1, 2]
    assert logged.stamps[0] == milliseconds(datetime(2024, 6, 10, 6, 13, 20, 123000, tzinfo=UTC))
    assert Param.objects.get(run=run).value == "0.01"


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ([{"key": "a", "value": 1, "step": 0}, {"key": "a", "value": "x", "step": 1}], "[1] value"),
        ([{"key": "a", "value": 1, "step": -1}], "[0] step"),
        ([{"key": "a", "value": 1, "timestamp": "yesterday"}], "[0] timestamp"),
        ([{"key": "a", "value": 1, "timestamp": -5}], "[0] timestamp"),
        ([{"key": "a", "value": 1, "timestamp": 1.5}], "[0] timestamp"),
        ([{"key": "a", "value": 10**400}], "[0] value"),
        ([{"key": "a", "value": 1, "colour": "red"}], "[0] unknown field 'colour'"),
        ([{"key": "a/../b", "value": 1}], "[0] key"),
        ([1], "[0] must be an object"),
    ],
)
def test_a_bad_point_refuses_the_whole_batch_naming_its_index(
    api_for: Any, alice: Any, run: Any, metrics: list[Any], message: str
) -> None:
    response = _post(
        api_for(alice),
        f"/api/v1/runs/{run.pk}/log-batch/",
        {
            "metrics": [{"key": "ok", "value": 1.0}, *metrics],
            "params": [{"key": "lr", "value": "1"}],
        },
    )

    assert response.status_code == 400
    [problem] = response.json()["errors"]["metrics"]
    index = int(message[1]) + 1  # after the good point put first
    assert problem.startswith(f"[{index}]" + message[3:]), problem
    assert not MetricChunk.objects.filter(run=run).exists()
    assert not Param.objects.filter(run=run).exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "detail"),
        ({"metrics": {"key": "a"}}, "metrics"),
        ({"points": []}, "points"),
        ({"params": [{"key": "lr", "value": "1", "unit": "x"}]}, "params"),
        ({"tags": [{"key": "t", "value": "x" * 5001}]}, "tags"),
        ({"metrics": [{"key": "a", "value": 1}] * (MAX_POINTS + 1)}, "metrics"),
    ],
)
def test_a_batch_of_the_wrong_shape_is_a_400_naming_the_field(
    api_for: Any, alice: Any, run: Any, body: Any, field: str
) -> None:
    response = _post(api_for(alice), f"/api/v1/runs/{run.pk}/log-batch/", body)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_changed_param_is_a_409_naming_both_values_and_storing_nothing(
    api_for: Any, alice: Any, run: Any
) -> None:
    log_batch(actor=alice, run=run, params=[{"key": "lr", "value": "0.1"}])

    response = _post(
        api_for(alice),
        f"/api/v1/runs/{run.pk}/log-batch/",
        {"metrics": _points("loss", [0.3]), "params": [{"key": "lr", "value": "0.2"}]},
    )

    assert response.status_code == 409
    body = response.json()
    assert (body["key"], body["logged"], body["sent"]) == ("lr", "0.1", "0.2")
    assert "lr" in body["errors"]["params"][0]
    assert not MetricChunk.objects.filter(run=run).exists()


def test_only_the_team_s_authors_log_and_a_read_token_may_not(
    api_for: Any, alice: Any, bob: Any, charlie: Any, victor: Any, run: Any
) -> None:
    url = f"/api/v1/runs/{run.pk}/log-batch/"
    body = {"metrics": _points("loss", [0.3])}
    _, key = create_token(user=bob, name="ci", scope="read")
    read_token = APIClient()
    read_token.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert _post(api_for(charlie), url, body).status_code == 403
    assert _post(api_for(victor), url, body).status_code == 403
    assert _post(read_token, url, body).status_code == 403
    assert not MetricChunk.objects.exists()
    assert _post(api_for(bob), url, body).status_code == 200


def test_ten_thousand_points_fit_the_body_cap_and_are_stored(
    api_for: Any, alice: Any, run: Any
) -> None:
    """The largest batch is under the request body cap even with 250-character keys."""
    key = "validation/" + "k" * 49
    metrics = [
        {"key": key, "value": 0.123456789 * i, "step": i, "timestamp": 1718000000000 + i}
        for i in range(MAX_POINTS)
    ]
    body = json.dumps({"metrics": metrics})
    longest = {"key": "k" * 250, "value": -1.2345678901234567e-300, "step": 2**63 - 1}
    worst = json.dumps({"metrics": [{**longest, "timestamp": 253402300799999}] * MAX_POINTS})
    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 3
    assert len(worst) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = api_for(alice).post(
        f"/api/v1/runs/{run.pk}/log-batch/", body, content_type="application/json"
    )

    assert response.status_code == 200, response.json()
    assert MetricSummary.objects.get(run=run, key=key).count == MAX_POINTS


def test_the_view_reads_ten_thousand_points_in_milliseconds() -> None:
    """Plain code, not a serializer per point: the view's own check of the largest batch
    takes a few tens of milliseconds (a DRF serializer per point takes about a second)."""
    metrics = [
        {"key": "loss", "value": 0.5, "step": i, "timestamp": 1718000000000 + i}
        for i in range(MAX_POINTS)
    ]

    started = time.perf_counter()
    batch = batch_from_body({"metrics": metrics})
    elapsed = time.perf_counter() - started

    assert batch["metrics"][-1]["timestamp"] == datetime(2024, 6, 10, 6, 13, 29, 999000, tzinfo=UTC)
    assert metrics[-1]["timestamp"] == 1718000009999  # the request's data is left as sent
    assert elapsed < 0.4, elapsed


# History -------------------------------------------------------------------------------------


def test_a_short_history_comes_whole_in_step_order(api_for: Any, alice: Any, run: Any) -> None:
    log_batch(actor=alice, run=run, metrics=_points("train/loss", [0.9, 0.5], start=5))
    log_batch(actor=alice, run=run, metrics=_points("train/loss", [1.0], start=0))

    body = api_for(alice).get(f"/api/v1/runs/{run.pk}/metrics/train/loss/history/").json()

    assert [(p["step"], p["value"]) for p in body["points"]] == [(0, 1.0), (5, 0.9), (6, 0.5)]
    assert (body["key"], body["total"], body["downsampled"]) == ("train/loss", 3, False)
    assert all(isinstance(p["timestamp"], int) for p in body["points"])


def test_a_long_history_is_downsampled_keeping_its_extremes(
    api_for: Any, alice: Any, run: Any, django_assert_num_queries: Any
) -> None:
    values = [float(i % 7) for i in range(1000)]
    values[500] = 99.0
    log_batch(actor=alice, run=run, metrics=_points("loss", values))
    client = api_for(alice)

    with django_assert_num_queries(2):  # the run, then the series
        body = client.get(f"/api/v1/runs/{run.pk}/metrics/loss/history/?max_points=100").json()

    assert (body["total"], body["downsampled"]) == (1000, True)
    assert len(body["points"]) <= 100
    assert 99.0 in [p["value"] for p in body["points"]]
    assert body["points"][-1]["step"] == 999


@pytest.mark.parametrize("query", ["?max_points=3", "?max_points=10001", "?max_points=many"])
def test_history_refuses_a_bad_max_points(api_for: Any, alice: Any, run: Any, query: str) -> None:
    log_batch(actor=alice, run=run, metrics=_points("loss", [1.0]))

    response = api_for(alice).get(f"/api/v1/runs/{run.pk}/metrics/loss/history/{query}")

    assert response.status_code == 400
    assert "max_points" in response.json()["errors"]


def test_history_of_an_unlogged_metric_or_run_is_a_404(api_for: Any, alice: Any, run: Any) -> None:
    client = api_for(alice)

    assert client.get(f"/api/v1/runs/{run.pk}/metrics/loss/history/").status_code == 404
    assert client.get("/api/v1/runs/999999/metrics/loss/history/").status_code == 404


# Search and list -----------------------------------------------------------------------------


def _runs(alice: Any, sweep: Any, count: int) -> list[Run]:
    runs = []
    for n in range(count):
        run = create_run(actor=alice, experiment=sweep, name=f"run-{n}")
        log_batch(
            actor=alice,
            run=run,
            metrics=[{"key": "accuracy", "value": n / count, "step": 0}],
            params=[{"key": "lr", "value": 0.01 if n % 2 else 0.1}],
        )
        runs.append(run)
    return runs


def test_search_filters_and_orders_runs_by_a_metric(api_for: Any, alice: Any, sweep: Any) -> None:
    runs = _runs(alice, sweep, 6)
    search = "metrics.accuracy >= 0.3 and params.lr = 0.01"

    response = api_for(alice).get(
        "/api/v1/runs/",
        {"experiment": sweep.pk, "filter": search, "order_by": "metrics.accuracy DESC"},
    )

    assert response.status_code == 200, response.json()
    assert [row["name"] for row in response.json()["results"]] == ["run-5", "run-3"]
    assert response.json()["results"][0]["metrics"] == {"accuracy": 5 / 6}
    assert runs  # the six runs


def test_a_bad_filter_is_a_400_naming_the_position(api_for: Any, alice: Any, sweep: Any) -> None:
    response = api_for(alice).get("/api/v1/runs/", {"filter": "metrics.accuracy ~ 0.9"})

    assert response.status_code == 400
    assert response.json()["errors"]["filter"] == [
        "filter: at 17, expected a comparison operator (= != < <= > >=)"
    ]


@pytest.mark.parametrize("query", [{"order_by": "metrics.a sideways"}, {"experiment": "one"}])
def test_a_bad_order_or_experiment_is_a_400(
    api_for: Any, alice: Any, query: dict[str, str]
) -> None:
    response = api_for(alice).get("/api/v1/runs/", query)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == set(query)


@pytest.mark.parametrize("count", [5, 50])
def test_searching_runs_is_three_queries_however_many_runs(
    api_for: Any, alice: Any, sweep: Any, count: int, django_assert_num_queries: Any
) -> None:
    """Count, the page, and the page's metric summaries."""
    _runs(alice, sweep, count)
    client = api_for(alice)

    with django_assert_num_queries(3):
        response = client.get(
            "/api/v1/runs/",
            {
                "experiment": sweep.pk,
                "filter": "metrics.accuracy >= 0 and params.lr != 'x'",
                "order_by": "metrics.accuracy",
            },
        )
    assert len(response.json()["results"]) == count


def test_listing_experiments_is_two_queries(
    api_for: Any, alice: Any, risk_team: Any, django_assert_num_queries: Any
) -> None:
    from registry.experiments.services.experiments import create_experiment

    for n in range(5):
        create_experiment(actor=alice, team=risk_team, name=f"e{n}")
    client = api_for(alice)

    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/experiments/").json()["results"]) == 5
