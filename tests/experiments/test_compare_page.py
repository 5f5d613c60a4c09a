"""The compare page: runs side by side, with their differing params, best metrics and charts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from registry.experiments import page_queries
from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.runs import log_batch

COMPARE_QUERIES = 10  # … with whether I may flip a metric's direction


def _url(experiment: Any, runs: list[Any], extra: str = "") -> str:
    return f"/experiments/{experiment.pk}/compare/?runs={','.join(str(r.pk) for r in runs)}{extra}"


def test_it_shows_only_the_differing_params_highlighted(
    client_for: Any, victor: Any, sweep: Any, make_runs: Any
) -> None:
    runs = make_runs(3)
    response = client_for(victor).get(_url(sweep, runs))
    content = response.content.decode()
    assert response.status_code == 200
    assert [(r.key, r.values) for r in response.context["param_rows"]] == [
        ("lr", ["0.1", "0.01", "0.001"])
    ]
    assert content.count('class="differs"') == 3
    assert "Show all params (1 the same)" in content


def test_show_all_params_lists_the_same_ones_unhighlighted(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    runs = make_runs(3)
    response = client_for(alice).get(_url(sweep, runs, "&params=all"))
    rows = {row.key: row.differs for row in response.context["param_rows"]}
    assert rows == {"depth": False, "lr": True}
    assert "Show only differing params" in response.content.decode()


def test_the_best_run_of_each_metric_follows_the_experiments_direction(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    """loss is "min" for the sweep; accuracy is "max" by default."""
    runs = make_runs(3)
    response = client_for(alice).get(_url(sweep, runs))
    best = {
        row.key: [runs[i].name for i, (_, is_best) in enumerate(row.cells) if is_best]
        for row in response.context["metric_rows"]
    }
    assert best == {"accuracy": ["lr-2"], "loss": ["lr-2"]}
    assert response.content.decode().count('class="num best"') == 2


def test_each_metric_gets_a_chart_with_a_run_in_the_same_colour_on_each(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    runs = make_runs(3)
    response = client_for(alice).get(_url(sweep, runs))
    charts = response.context["charts"]
    assert [item["chart"].key for item in charts] == ["accuracy", "loss"]
    colours = [
        {trace["name"]: trace["line"]["color"] for trace in item["figure"]["data"]}
        for item in charts
    ]
    assert colours[0] == colours[1]
    assert len(set(colours[0].values())) == 3
    loss = charts[1]["figure"]["data"][0]
    assert (loss["x"], loss["name"]) == ([0, 1, 2, 3, 4], "lr-0")
    content = response.content.decode()
    assert 'data-plotly="metric-chart-1-data"' in content
    assert "vendor/plotly.min.js" in content


def test_long_series_are_downsampled_per_trace_and_the_chart_says_so(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    runs = make_runs(2, steps=1)
    for run in runs:
        log_batch(
            actor=alice,
            run=run,
            metrics=[{"key": "loss", "value": (s % 89) / 89, "step": s + 1} for s in range(4_500)],
        )
    response = client_for(alice).get(_url(sweep, runs, "&metrics=loss"))
    [item] = response.context["charts"]
    assert all(len(trace["x"]) <= 2_000 for trace in item["figure"]["data"])
    assert item["chart"].points == 9_002
    assert "downsampled on the server to at most 2000 points per run" in response.content.decode()


def test_the_parallel_plot_defaults_to_differing_numeric_params_and_the_first_metric(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    runs = make_runs(3)
    client = client_for(alice)
    default = client.get(_url(sweep, runs))
    assert default.context["parallel"] == ["params.lr", "metrics.accuracy"]
    [trace] = default.context["parallel_figure"]["data"]
    assert [d["label"] for d in trace["dimensions"]] == ["params.lr", "metrics.accuracy"]
    assert trace["dimensions"][0]["values"] == [0.1, 0.01, 0.001]

    chosen = client.get(_url(sweep, runs, "&parallel=params.depth,params.lr,metrics.loss,params.x"))
    assert chosen.context["parallel"] == ["params.depth", "params.lr", "metrics.loss"]


def test_the_scatter_plots_any_param_or_metric_against_another(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    runs = make_runs(3)
    client = client_for(alice)
    default = client.get(_url(sweep, runs))
    assert (default.context["x"].name, default.context["y"].name) == (
        "params.lr",
        "metrics.accuracy",
    )
    chosen = client.get(_url(sweep, runs, "&x=metrics.accuracy&y=metrics.loss"))
    [trace] = chosen.context["scatter_figure"]["data"]
    assert trace["x"] == [0.5, 0.51, 0.52]
    assert trace["text"] == ["lr-0", "lr-1", "lr-2"]


def test_it_lists_the_packages_whose_versions_differ(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    runs = make_runs(2)
    response = client_for(alice).get(_url(sweep, runs))
    assert [(p.name, p.versions) for p in response.context["packages"]] == [
        ("numpy", ("1.0.0", "1.1.0"))
    ]


def test_ticked_boxes_go_to_the_shareable_comma_separated_url(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    a, b, c = make_runs(3)
    response = client_for(alice).get(
        f"/experiments/{sweep.pk}/compare/?runs={a.pk}&runs={b.pk}&runs={c.pk}"
    )
    assert response.status_code == 302
    assert response["Location"].endswith(
        f"/experiments/{sweep.pk}/compare/?runs={a.pk},{b.pk},{c.pk}"
    )


def test_fewer_than_2_or_more_than_100_runs_get_a_clear_message(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    [run] = make_runs(1)
    client = client_for(alice)
    one = client.get(_url(sweep, [run]))
    many = client.get(f"/experiments/{sweep.pk}/compare/?runs={','.join(map(str, range(1, 102)))}")
    nothing = client.get(f"/experiments/{sweep.pk}/compare/")
    for response, count in ((one, 1), (many, 101), (nothing, 0)):
        assert response.status_code == 400
        assert f"Pick from 2 to 100 runs to compare; {count} picked." in response.content.decode()


def test_runs_of_another_experiment_or_not_numbers_are_refused(
    client_for: Any, alice: Any, risk_team: Any, sweep: Any, make_runs: Any
) -> None:
    other = create_experiment(actor=alice, team=risk_team, name="other")
    [mine] = make_runs(1)
    [theirs] = make_runs(1, experiment=other, start=1)
    client = client_for(alice)
    foreign = client.get(_url(sweep, [mine, theirs]))
    garbage = client.get(f"/experiments/{sweep.pk}/compare/?runs={mine.pk},abc")
    assert foreign.status_code == garbage.status_code == 400
    assert f"churn-sweep has no run {theirs.pk}" in foreign.content.decode()
    assert "“abc” is not a run number." in garbage.content.decode()


def test_the_compare_page_runs_the_same_queries_for_2_or_50_runs(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any, django_assert_num_queries: Any
) -> None:
    """Runs, params, summaries and every charted series are one query each."""
    client = client_for(alice)
    few = make_runs(2, steps=3)
    client.get(_url(sweep, few))  # warm the content-type cache
    with django_assert_num_queries(COMPARE_QUERIES):
        client.get(_url(sweep, few))
    many = few + make_runs(48, start=2, steps=3)
    with django_assert_num_queries(COMPARE_QUERIES):
        response = client.get(_url(sweep, many))
    assert len(response.context["runs"]) == 50
    assert len(response.context["charts"][1]["figure"]["data"]) == 50


def test_beyond_the_raw_budget_charts_come_from_the_sketches_with_every_extreme(
    client_for: Any,
    alice: Any,
    sweep: Any,
    make_runs: Any,
    monkeypatch: Any,
    django_assert_num_queries: Any,
) -> None:
    """Past RAW_POINTS logged points the page reads no series at all: each line is the
    run's sketch, which still holds its lowest and highest point and its last."""
    monkeypatch.setattr(page_queries, "RAW_POINTS", 1_000)
    runs = make_runs(3, steps=1)
    for number, run in enumerate(runs):
        spikes = [{"key": "loss", "value": 5.0 + number, "step": 777}]
        curve = [
            {"key": "loss", "value": (s % 89) / 89, "step": s} for s in range(3_000) if s != 777
        ]
        log_batch(actor=alice, run=run, metrics=curve + spikes)
    client = client_for(alice)
    client.get(_url(sweep, runs, "&metrics=loss"))

    with django_assert_num_queries(COMPARE_QUERIES - 1):  # no series read
        response = client.get(_url(sweep, runs, "&metrics=loss"))

    [item] = response.context["charts"]
    for number, trace in enumerate(item["figure"]["data"]):
        assert len(trace["x"]) <= 202
        assert max(trace["y"]) == 5.0 + number and 777 in trace["x"]
        assert min(trace["y"]) == 0.0 and trace["x"][-1] == 2_999
    assert item["chart"].points == 3 * 3_001  # and the point make_runs logged
    assert "downsampled on the server" in response.content.decode()


def test_curves_can_be_drawn_over_time_and_the_picker_lists_every_metric(
    client_for: Any, alice: Any, sweep: Any, make_runs: Any
) -> None:
    runs = make_runs(2, steps=3)
    start = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    log_batch(
        actor=alice,
        run=runs[0],
        metrics=[
            {
                "key": "auc",
                "value": 0.7 + s / 100,
                "step": s,
                "timestamp": start + timedelta(minutes=s),
            }
            for s in range(3)
        ],
    )

    response = client_for(alice).get(_url(sweep, runs, "&metrics=auc&over=time"))

    [item] = response.context["charts"]
    assert item["figure"]["layout"]["xaxis"]["type"] == "date"
    first = int(start.timestamp() * 1000)
    assert item["figure"]["data"][0]["x"] == [first, first + 60_000, first + 120_000]
    html = response.content.decode()
    assert "<code>auc</code> over time" in html
    assert 'name="metrics" value="auc" checked' in html
    assert 'name="metrics" value="loss">' in html  # offered, not charted
    assert 'name="over" value="time" checked' in html
