"""compare_data, the one read path of the compare page and API, and the compare endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from registry.experiments.queries import compare_data
from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.runs import create_run, log_batch


def _run(alice: Any, sweep: Any, name: str, lr: str, losses: list[float], **extra: Any) -> Any:
    run = create_run(actor=alice, experiment=sweep, name=name)
    log_batch(
        actor=alice,
        run=run,
        metrics=[{"key": "loss", "value": v, "step": i} for i, v in enumerate(losses)],
        params=[
            {"key": "lr", "value": lr},
            {"key": "depth", "value": "6"},
            *extra.get("params", []),
        ],
    )
    return run


def test_it_reads_params_differences_summaries_series_and_the_best_run(
    alice: Any, sweep: Any
) -> None:
    """Runs in the order asked; depth is the same everywhere, lr and seed differ; loss is
    "min" in the sweep, so the run with the lowest last loss is best."""
    a = _run(alice, sweep, "a", "0.1", [0.9, 0.5])
    b = _run(alice, sweep, "b", "0.01", [0.8, 0.3, 0.2], params=[{"key": "seed", "value": "1"}])

    data = compare_data(sweep, [b.pk, a.pk], ["loss", "auc"], 500)

    assert [run.name for run in data.runs] == ["b", "a"]
    assert data.params[a.pk] == {"lr": "0.1", "depth": "6"}
    assert data.param_keys == ["depth", "lr", "seed"]
    assert data.differing_params == ["lr", "seed"]
    assert data.summaries[b.pk]["loss"].last == 0.2
    assert data.metric_keys == ["loss"]
    assert list(data.series["loss"]) == [b.pk, a.pk]
    assert [p[:2] for p in data.series["loss"][b.pk].points] == [(0, 0.8), (1, 0.3), (2, 0.2)]
    assert data.series["auc"] == {}
    assert data.best == {"loss": b.pk}


def test_each_series_is_downsampled_to_max_points(alice: Any, sweep: Any) -> None:
    values = [float(i % 10) for i in range(300)]
    values[150] = -50.0
    a = _run(alice, sweep, "a", "0.1", values)
    b = _run(alice, sweep, "b", "0.2", [1.0, 2.0])

    data = compare_data(sweep, [a.pk, b.pk], ["loss"], 40)

    long, short = data.series["loss"][a.pk], data.series["loss"][b.pk]
    assert (long.total, long.downsampled) == (300, True)
    assert len(long.points) <= 40 and -50.0 in [p[1] for p in long.points]
    assert (short.total, short.downsampled, len(short.points)) == (2, False, 2)


@pytest.mark.parametrize("count", [1, 101])
def test_it_compares_two_to_a_hundred_runs(alice: Any, sweep: Any, count: int) -> None:
    with pytest.raises(ValidationError) as raised:
        compare_data(sweep, list(range(1, count + 1)), [], 500)

    assert "runs" in raised.value.message_dict


def test_it_refuses_runs_of_another_experiment_and_bad_keys(
    alice: Any, sweep: Any, risk_team: Any
) -> None:
    other = create_experiment(actor=alice, team=risk_team, name="other")
    mine = _run(alice, sweep, "a", "0.1", [1.0])
    theirs = create_run(actor=alice, experiment=other)

    with pytest.raises(ValidationError) as wrong_run:
        compare_data(sweep, [mine.pk, theirs.pk], [], 500)
    with pytest.raises(ValidationError) as wrong_key:
        compare_data(sweep, [mine.pk, mine.pk + 1000], ["a/../b"], 500)
    with pytest.raises(ValidationError) as wrong_points:
        compare_data(sweep, [mine.pk, theirs.pk], [], 3)

    assert str(theirs.pk) in wrong_run.value.message_dict["runs"][0]
    assert "metrics" in wrong_key.value.message_dict
    assert "max_points" in wrong_points.value.message_dict


# The endpoint --------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 50])
def test_the_compare_endpoint_is_five_queries_however_many_runs(
    api_for: Any, alice: Any, sweep: Any, count: int, django_assert_num_queries: Any
) -> None:
    """The experiment, then the runs, their params, their summaries and every series."""
    runs = [_run(alice, sweep, f"r{n}", str(n), [1.0, 0.5, float(n)]) for n in range(count)]
    client = api_for(alice)
    ids = ",".join(str(run.pk) for run in runs)

    with django_assert_num_queries(5):
        response = client.get(
            f"/api/v1/experiments/{sweep.pk}/compare/",
            {"runs": ids, "metrics": "loss, auc", "max_points": 500},
        )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert [run["id"] for run in body["runs"]] == [run.pk for run in runs]
    assert body["differing_params"] == ["lr"]
    assert body["runs"][0]["params"] == {"lr": "0", "depth": "6"}
    assert body["runs"][0]["metrics"]["loss"]["last"] == 0.0
    assert len(body["series"]["loss"]) == count and body["series"]["auc"] == []
    first = body["series"]["loss"][0]
    assert (first["run"], first["total"], first["downsampled"]) == (runs[0].pk, 3, False)
    assert [p["step"] for p in first["points"]] == [0, 1, 2]
    assert body["best"] == {"loss": runs[0].pk}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"runs": "1"}, "runs"),
        ({"runs": "1,x"}, "runs"),
        ({"runs": ""}, "runs"),
        ({"runs": "1,2", "max_points": "2"}, "max_points"),
    ],
)
def test_the_compare_endpoint_refuses_bad_queries(
    api_for: Any, alice: Any, sweep: Any, query: dict[str, str], field: str
) -> None:
    response = api_for(alice).get(f"/api/v1/experiments/{sweep.pk}/compare/", query)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_everyone_signed_in_may_compare_and_an_unknown_experiment_is_a_404(
    api_for: Any, alice: Any, victor: Any, sweep: Any
) -> None:
    a = _run(alice, sweep, "a", "0.1", [1.0])
    b = _run(alice, sweep, "b", "0.2", [1.0])
    query = {"runs": f"{a.pk},{b.pk}"}

    assert api_for(victor).get(f"/api/v1/experiments/{sweep.pk}/compare/", query).status_code == 200
    assert api_for(victor).get("/api/v1/experiments/999999/compare/", query).status_code == 404
