"""The experiments list, an experiment's run table and a run's page."""

from __future__ import annotations

import re
from typing import Any

from registry.experiments.services.runs import create_run, log_batch

LIST_QUERIES = 5
EXPERIMENT_QUERIES = 12
RUN_QUERIES = 10  # … and the versions promoted from the run


def _run_names(response: Any) -> list[str]:
    return [row.run.name for row in response.context["read"].rows]


def test_the_list_shows_each_experiment_with_its_team_run_count_and_last_run(
    client_for: Any, victor: Any, sweep: Any, make_runs: Any
) -> None:
    """Anyone signed in sees experiments, their team, how many runs and when the last ran."""
    make_runs(2)
    response = client_for(victor).get("/experiments/")
    assert response.status_code == 200
    [row] = list(response.context["experiments"])
    assert (row.name, row.team.name, row.run_count) == ("churn-sweep", "Risk Modelling", 2)
    assert row.last_run is not None
    assert b'href="/experiments/' in response.content


def test_the_nav_links_to_the_experiments_list(client_for: Any, victor: Any) -> None:
    content = client_for(victor).get("/").content.decode()
    assert re.search(r'<a href="/experiments/"[^>]*>Experiments</a>', content)


def test_pages_send_anonymous_people_to_sign_in(client: Any, run: Any) -> None:
    for url in (
        "/experiments/",
        f"/experiments/{run.experiment_id}/",
        f"/experiments/runs/{run.pk}/",
    ):
        assert client.get(url).status_code == 302


def test_pages_answer_404_for_unknown_ids_and_405_for_posts(
    client_for: Any, alice: Any, run: Any
) -> None:
    client = client_for(alice)
    assert client.get("/experiments/999/").status_code == 404
    assert client.get("/experiments/runs/999/").status_code == 404
    assert client.get("/experiments/999/compare/?runs=1,2").status_code == 404
    assert client.post("/experiments/").status_code == 405
    assert client.post(f"/experiments/{run.experiment_id}/").status_code == 405


def test_the_run_table_shows_the_first_params_and_metrics_by_default(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    """Without ?columns the table shows up to three param and three metric columns."""
    make_runs(3)
    response = client_for(alice).get(f"/experiments/{sweep.pk}/")
    read = response.context["read"]
    assert [c.name for c in read.columns] == [
        "params.depth",
        "params.lr",
        "metrics.accuracy",
        "metrics.loss",
    ]
    row = next(r for r in read.rows if r.run.name == "lr-0")
    assert row.cells[:2] == ["6", "0.1"]
    assert ("stage", "baseline") in row.tags
    # Each run has a checkbox of the compare form, a GET form to the compare page.
    content = response.content.decode()
    assert f'action="/experiments/{sweep.pk}/compare/"' in content
    assert content.count('name="runs"') == 3


def test_chosen_columns_sort_the_runs_either_way(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    make_runs(3)
    client = client_for(alice)
    url = f"/experiments/{sweep.pk}/?columns=params.lr,metrics.loss"
    ascending = client.get(f"{url}&sort=metrics.loss")
    descending = client.get(f"{url}&sort=-metrics.loss")
    assert [c.name for c in ascending.context["read"].columns] == ["params.lr", "metrics.loss"]
    assert _run_names(ascending) == ["lr-2", "lr-1", "lr-0"]  # smaller lr, lower loss
    assert _run_names(descending) == ["lr-0", "lr-1", "lr-2"]
    assert 'aria-sort="ascending"' in ascending.content.decode()


def test_an_unknown_sort_falls_back_to_the_newest_first(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    make_runs(2)
    response = client_for(alice).get(f"/experiments/{sweep.pk}/?sort=params.nope")
    assert response.context["read"].sort == "-started"
    assert response.status_code == 200


def test_the_run_table_filters_by_status_tag_and_param(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    make_runs(4)
    create_run(actor=alice, experiment=sweep, name="still-running")
    client = client_for(alice)
    base = f"/experiments/{sweep.pk}/"
    assert _run_names(client.get(f"{base}?status=running")) == ["still-running"]
    assert sorted(_run_names(client.get(f"{base}?tag=stage=sweep"))) == ["lr-1", "lr-3"]
    assert sorted(_run_names(client.get(f"{base}?tag=stage"))) == ["lr-0", "lr-1", "lr-2", "lr-3"]
    assert _run_names(client.get(f"{base}?param=lr=0.01")) == ["lr-1"]
    empty = client.get(f"{base}?param=lr=7")
    assert b"No run matches these filters." in empty.content


def test_the_run_table_pages_by_25(client_for: Any, alice: Any, sweep: Any, make_runs: Any) -> None:
    make_runs(27, steps=1)
    client = client_for(alice)
    first = client.get(f"/experiments/{sweep.pk}/")
    second = client.get(f"/experiments/{sweep.pk}/?page=2")
    assert len(first.context["read"].rows) == 25
    assert len(second.context["read"].rows) == 2
    assert b"Page 1 of 2" in first.content


def test_the_experiment_page_runs_the_same_queries_for_3_or_30_runs(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any, django_assert_num_queries: Any
) -> None:
    """Columns, tags and users of a page of runs are read once, not per run."""
    client = client_for(alice)
    make_runs(3)
    url = f"/experiments/{sweep.pk}/?columns=params.lr,metrics.loss&sort=-params.lr&tag=stage"
    client.get(url)  # warm the content-type cache
    with django_assert_num_queries(EXPERIMENT_QUERIES):
        client.get(url)
    make_runs(27, start=3, steps=1)
    with django_assert_num_queries(EXPERIMENT_QUERIES):
        response = client.get(url)
    assert len(response.context["read"].rows) == 25


def test_the_list_runs_the_same_queries_for_1_or_5_experiments(
    client_for: Any,
    alice: Any,
    risk_team: Any,
    sweep: Any,
    make_runs: Any,
    django_assert_num_queries: Any,
) -> None:
    from registry.experiments.services.experiments import create_experiment

    client = client_for(alice)
    make_runs(2)
    client.get("/experiments/")
    with django_assert_num_queries(LIST_QUERIES):
        client.get("/experiments/")
    for number in range(4):
        other = create_experiment(actor=alice, team=risk_team, name=f"other-{number}")
        make_runs(1, experiment=other, steps=1)
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get("/experiments/")
    assert len(response.context["experiments"]) == 5


def test_the_run_page_shows_params_tags_summaries_datasets_environment_and_notes(
    client_for: Any, alice: Any, victor: Any, sweep: Any
) -> None:
    run = create_run(
        actor=alice,
        experiment=sweep,
        name="full",
        notes="Tried **warm restarts**.",
        datasets=[{"name": "train.parquet", "sha256": "ab" * 32, "role": "training"}],
        python_version="3.11.9",
        packages="numpy==1.26.4\n",
    )
    log_batch(
        actor=alice,
        run=run,
        params=[{"key": "lr", "value": "0.01"}],
        tags=[{"key": "stage", "value": "final"}],
        metrics=[{"key": "loss", "value": 1 / (s + 1), "step": s} for s in range(10)],
    )
    response = client_for(victor).get(f"/experiments/runs/{run.pk}/")
    content = response.content.decode()
    assert response.status_code == 200
    for text in (
        "lr",
        "0.01",
        "stage",
        "final",
        "train.parquet",
        "ab" * 32,
        "3.11.9",
        "numpy==1.26.4",
        "<strong>warm restarts</strong>",
        "vendor/plotly.min.js",
    ):
        assert text in content, text
    [chart] = response.context["read"].charts
    assert (chart.key, chart.points, chart.downsampled) == ("loss", 10, False)
    assert 'data-plotly="metric-chart-0-data"' in content
    assert "downsampled" not in content


def test_a_long_series_is_downsampled_to_2000_points_and_says_so(
    client_for: Any, alice: Any, run: Any
) -> None:
    log_batch(
        actor=alice,
        run=run,
        metrics=[{"key": "loss", "value": (s % 97) / 97, "step": s} for s in range(5_000)],
    )
    response = client_for(alice).get(f"/experiments/runs/{run.pk}/")
    [chart] = response.context["read"].charts
    assert chart.points == 5_000
    assert chart.shown <= 2_000
    assert "downsampled on the server: " in response.content.decode()
    figure = response.context["figures"][0]["figure"]
    assert len(figure["data"][0]["x"]) == chart.shown


def test_the_run_page_runs_the_same_queries_for_1_or_3_metrics(
    client_for: Any, alice: Any, run: Any, django_assert_num_queries: Any
) -> None:
    client = client_for(alice)
    log_batch(actor=alice, run=run, metrics=[{"key": "loss", "value": 1.0, "step": 0}])
    client.get(f"/experiments/runs/{run.pk}/")
    with django_assert_num_queries(RUN_QUERIES):
        client.get(f"/experiments/runs/{run.pk}/")
    log_batch(
        actor=alice,
        run=run,
        metrics=[{"key": k, "value": 1.0, "step": s} for k in ("a", "b") for s in range(50)],
        params=[{"key": f"p{n}", "value": n} for n in range(5)],
    )
    with django_assert_num_queries(RUN_QUERIES):
        client.get(f"/experiments/runs/{run.pk}/")
