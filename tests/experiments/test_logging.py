"""Logging runs: batches are all or nothing, params never change, summaries stay right."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from registry.experiments import series
from registry.experiments.models import MetricChunk, MetricSummary, Param, RunStatus
from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.runs import (
    MAX_POINTS,
    ParamChanged,
    create_run,
    end_run,
    log_batch,
)


def _points(key: str, values: list[float], start: int = 0) -> list[dict[str, Any]]:
    return [{"key": key, "value": v, "step": start + i} for i, v in enumerate(values)]


def test_a_batch_stores_points_params_tags_and_a_summary(alice: Any, run: Any) -> None:
    counts = log_batch(
        actor=alice,
        run=run,
        metrics=_points("loss", [0.9, 0.5, 0.7]),
        params=[{"key": "lr", "value": 0.1}, {"key": "depth", "value": "6"}],
        tags=[{"key": "stage", "value": "sweep"}],
    )

    assert counts == {"metrics": 3, "params": 2, "tags": 1}
    summary = MetricSummary.objects.get(run=run, key="loss")
    assert (summary.last, summary.min, summary.max, summary.count) == (0.7, 0.5, 0.9, 3)
    assert dict(Param.objects.filter(run=run).values_list("key", "value")) == {
        "lr": "0.1",
        "depth": "6",
    }


def test_later_batches_fold_into_the_summary_by_step(alice: Any, run: Any) -> None:
    log_batch(actor=alice, run=run, metrics=_points("loss", [0.9, 0.4], start=10))
    log_batch(actor=alice, run=run, metrics=_points("loss", [1.5, 0.2], start=0))  # older steps

    summary = MetricSummary.objects.get(run=run, key="loss")
    assert (summary.last, summary.last_step) == (0.4, 11)
    assert (summary.min, summary.max, summary.count) == (0.2, 1.5, 4)


@pytest.mark.parametrize(
    ("point", "reason"),
    [
        ({"key": "loss", "value": math.nan, "step": 1}, "finite"),
        ({"key": "loss", "value": math.inf, "step": 1}, "finite"),
        ({"key": "loss", "value": "0.5", "step": 1}, "finite"),
        ({"key": "loss", "value": True, "step": 1}, "finite"),
        ({"key": "loss", "value": 2**1024, "step": 1}, "finite"),
        ({"key": "loss", "value": 0.5, "step": -1}, "step"),
        ({"key": "loss", "value": 0.5, "step": 1.5}, "step"),
        ({"key": "bad key!", "value": 0.5, "step": 1}, "key"),
        ({"key": "../etc", "value": 0.5, "step": 1}, "key"),
        ({"key": "", "value": 0.5, "step": 1}, "key"),
        ("loss=0.5", "object"),
        ({"key": "loss", "value": None, "step": 1}, "finite"),
        ({"key": "loss", "value": 0.5, "step": True}, "step"),
        ({"key": "loss", "value": 0.5, "step": 2**63}, "step"),
        ({"key": ["loss"], "value": 0.5, "step": 1}, "key"),
        ({"key": "loss", "value": 0.5, "step": 1, "timestamp": "today"}, "timestamp"),
    ],
)
def test_one_bad_point_refuses_the_whole_batch_naming_its_index(
    alice: Any, run: Any, point: Any, reason: str
) -> None:
    metrics = [*_points("loss", [0.1, 0.2]), point]

    with pytest.raises(ValidationError) as refused:
        log_batch(actor=alice, run=run, metrics=metrics, params=[{"key": "lr", "value": "1"}])

    message = refused.value.message_dict["metrics"][0]
    assert message.startswith("[2] ") and reason in message
    assert not MetricChunk.objects.exists()
    assert not MetricSummary.objects.exists()
    assert not Param.objects.exists()


def test_a_batch_is_capped(alice: Any, run: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        log_batch(actor=alice, run=run, metrics=_points("x", [0.0] * (MAX_POINTS + 1)))

    assert "10,000" in refused.value.message_dict["metrics"][0]


def test_a_param_never_changes(alice: Any, run: Any) -> None:
    log_batch(actor=alice, run=run, params=[{"key": "lr", "value": "0.1"}])
    log_batch(actor=alice, run=run, params=[{"key": "lr", "value": "0.1"}])  # the same: fine

    with pytest.raises(ParamChanged) as changed:
        log_batch(
            actor=alice,
            run=run,
            params=[{"key": "lr", "value": "0.2"}],
            metrics=_points("loss", [0.3]),
        )

    assert (changed.value.logged, changed.value.sent) == ("0.1", "0.2")
    assert Param.objects.get(run=run, key="lr").value == "0.1"
    assert not MetricChunk.objects.exists()  # the batch's points went with it


def test_a_param_given_twice_differently_in_one_batch_is_refused(alice: Any, run: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        log_batch(
            actor=alice,
            run=run,
            params=[{"key": "lr", "value": "0.1"}, {"key": "lr", "value": "0.2"}],
        )

    assert refused.value.message_dict["params"][0].startswith("[1] ")


def test_only_the_team_logs(victor: Any, charlie: Any, run: Any, sweep: Any) -> None:
    with pytest.raises(PermissionDenied):
        log_batch(actor=charlie, run=run, metrics=_points("loss", [0.1]))
    with pytest.raises(PermissionDenied):
        create_run(actor=victor, experiment=sweep)


def test_ending_a_run_records_how_it_ended(alice: Any, run: Any) -> None:
    ended = end_run(actor=alice, run=run, status=RunStatus.FAILED)

    assert ended.status == RunStatus.FAILED
    assert timezone.now() - ended.ended_at < timedelta(minutes=1)
    with pytest.raises(ValidationError):
        end_run(actor=alice, run=run, status=RunStatus.RUNNING)


def test_experiment_names_and_directions_are_checked(
    alice: Any, risk_team: Any, sweep: Any
) -> None:
    with pytest.raises(ValidationError) as taken:
        create_experiment(actor=alice, team=risk_team, name="churn-sweep")
    with pytest.raises(ValidationError) as direction:
        create_experiment(
            actor=alice, team=risk_team, name="other", metric_directions={"loss": "down"}
        )

    assert "name" in taken.value.message_dict
    assert "metric_directions" in direction.value.message_dict
    assert sweep.direction("loss") == "min" and sweep.direction("auc") == "max"


def test_datasets_need_a_name_and_a_sha256(alice: Any, sweep: Any) -> None:
    good = {"name": "train.parquet", "sha256": "A" * 64, "role": "training"}
    run = create_run(actor=alice, experiment=sweep, datasets=[good])
    assert run.datasets == [{"name": "train.parquet", "sha256": "a" * 64, "role": "training"}]

    with pytest.raises(ValidationError):
        create_run(actor=alice, experiment=sweep, datasets=[{"name": "x", "sha256": "nothex"}])


def test_an_experiment_serves_a_model_of_its_own_team(
    alice: Any, risk_team: Any, search_team: Any, charlie: Any
) -> None:
    from registry.services.models import create_model

    other = create_model(actor=charlie, name="query-intent", title="Query intent", team=search_team)

    with pytest.raises(ValidationError) as refused:
        create_experiment(actor=alice, team=risk_team, name="borrowed", model=other)

    assert "another team" in refused.value.message_dict["model"][0]


def test_points_logged_out_of_order_read_back_in_step_then_time_order(alice: Any, run: Any) -> None:
    """Each batch is one packed chunk per key; reading joins them by step, then time, and
    points equal in both keep the order they were sent in."""
    now = timezone.now()
    later = now + timedelta(seconds=1)
    log_batch(actor=alice, run=run, metrics=_points("loss", [0.5, 0.4], start=10))
    log_batch(
        actor=alice,
        run=run,
        metrics=[
            {"key": "loss", "value": 0.9, "step": 0, "timestamp": later},
            {"key": "loss", "value": 0.8, "step": 0, "timestamp": now},
            {"key": "loss", "value": 0.7, "step": 5, "timestamp": now},
            {"key": "loss", "value": 0.6, "step": 5, "timestamp": now},
        ],
    )

    assert MetricChunk.objects.filter(run=run, key="loss").count() == 2
    logged = series.read([run.pk], ["loss"])[run.pk, "loss"]
    assert logged.steps.tolist() == [0, 0, 5, 5, 10, 11]
    assert logged.values.tolist() == [0.8, 0.9, 0.7, 0.6, 0.5, 0.4]
