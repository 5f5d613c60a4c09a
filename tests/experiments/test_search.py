"""The run search language: its grammar, its errors, what it finds, and how PostgreSQL finds it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.experiments.models import MetricSummary, Param, Run, RunStatus
from registry.experiments.queries import search_runs
from registry.experiments.search import Clause, Order, SearchError, parse_filter, parse_order
from registry.experiments.services.runs import create_run, end_run, log_batch

# The grammar ---------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_metrics_take_every_operator_and_a_number(op: str) -> None:
    assert parse_filter(f"metrics.acc {op} -1.5e-3") == [Clause("metric", "acc", op, -0.0015)]


def test_clauses_join_with_and_in_any_case_and_spacing() -> None:
    text = (
        "metrics.accuracy>0.9 AND params.lr = 0.01 and tags.stage='sweep'"
        '  and status = "finished"'
    )

    assert parse_filter(text) == [
        Clause("metric", "accuracy", ">", 0.9),
        Clause("param", "lr", "=", "0.01"),
        Clause("tag", "stage", "=", "sweep"),
        Clause("attribute", "status", "=", "finished"),
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("name = 'it''s'", "it's"),
        ('name = "say ""hi"""', 'say "hi"'),
        ('name = "it\'s"', "it's"),
        ("name != ''", ""),
    ],
)
def test_strings_take_either_quote_and_double_it_inside(text: str, value: str) -> None:
    assert parse_filter(text)[0].value == value


def test_a_param_s_bare_number_is_its_text_and_keys_may_be_backquoted() -> None:
    assert parse_filter("params.`batch size` != 1e3 and metrics.train/loss < 1") == [
        Clause("param", "batch size", "!=", "1e3"),
        Clause("metric", "train/loss", "<", 1.0),
    ]


def test_a_blank_filter_and_order_mean_none() -> None:
    assert parse_filter("  ") == []
    assert parse_order("") is None


def test_order_by_a_metric_or_an_attribute() -> None:
    assert parse_order("metrics.accuracy DESC") == Order("metric", "accuracy", True)
    assert parse_order("name asc") == Order("attribute", "name", False)
    assert parse_order("started_at") == Order("attribute", "started_at", False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.accuracy ~ 0.9", "at 17, expected a comparison operator (= != < <= > >=)"),
        ("metrics.accuracy", "at 16, expected a comparison operator (= != < <= > >=)"),
        ("accuracy > 1", "at 0, expected metrics.<key>, params.<key>, tags.<key>, status or name"),
        ("metrics. > 1", "at 8, expected a key after 'metrics.'"),
        ("metrics.a > 'x'", "at 12, expected a number"),
        ("metrics.a > nan", "at 12, expected a number"),
        ("params.lr > 1", "at 10, expected = or != (params compare as text)"),
        ("tags.stage < 'a'", "at 11, expected = or != (tags compare as text)"),
        ("tags.stage = sweep", "at 13, expected a quoted string"),
        ("params.lr = fast", "at 12, expected a quoted string or a number"),
        ("status = 'done'", "at 9, expected a status: one of running, finished, failed, killed"),
        ("name = 'open", "at 7, expected a closing ' for the string that starts here"),
        ("metrics.a > 1 or name = 'x'", "at 14, expected 'and' or the end of the filter"),
        (
            "metrics.a > 1 and",
            "at 17, expected metrics.<key>, params.<key>, tags.<key>, status or name",
        ),
    ],
)
def test_errors_name_the_position_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(SearchError) as raised:
        parse_filter(text)

    assert str(raised.value) == f"filter: {message}"


def test_a_filter_has_at_most_twenty_clauses_and_two_thousand_characters() -> None:
    with pytest.raises(SearchError, match="at most 20 clauses"):
        parse_filter(" and ".join(["metrics.a > 1"] * 21))
    with pytest.raises(SearchError, match="at most 2,000 characters"):
        parse_filter("name = '" + "x" * 2000 + "'")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.a sideways", "order_by: at 10, expected ASC, DESC or the end"),
        ("metrics.a desc x", "order_by: at 15, expected the end"),
        ("params.lr", "order_by: at 0, expected metrics.<key>, name, started_at, status"),
    ],
)
def test_order_errors_name_the_position(text: str, message: str) -> None:
    with pytest.raises(SearchError) as raised:
        parse_order(text)

    assert str(raised.value) == message


# What it finds -------------------------------------------------------------------------------


@pytest.fixture
def runs(alice: Any, sweep: Any) -> dict[str, Run]:
    """Four runs: accuracy, lr and stage differ; "b" has ended, "d" logged no accuracy."""
    made = {}
    for name, accuracy, lr, stage in [
        ("a", 0.95, "0.01", "sweep"),
        ("b", 0.92, "0.1", "sweep"),
        ("c", 0.80, "0.01", "final"),
        ("d", None, "0.01", "sweep"),
    ]:
        run = create_run(actor=alice, experiment=sweep, name=name)
        metrics = [] if accuracy is None else [{"key": "accuracy", "value": accuracy}]
        log_batch(
            actor=alice,
            run=run,
            metrics=metrics,
            params=[{"key": "lr", "value": lr}],
            tags=[{"key": "stage", "value": stage}],
        )
        made[name] = run
    end_run(actor=alice, run=made["b"], status=RunStatus.FINISHED)
    return made


def _found(text: str, order: str = "") -> list[str]:
    return [run.name for run in search_runs(Run.objects.all(), filter_text=text, order_text=order)]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("metrics.accuracy > 0.9", {"a", "b"}),
        ("metrics.accuracy >= 0.92", {"a", "b"}),
        ("metrics.accuracy < 0.92", {"c"}),
        ("metrics.accuracy <= 0.92", {"b", "c"}),
        ("metrics.accuracy = 0.8", {"c"}),
        ("metrics.accuracy != 0.8", {"a", "b"}),  # d has no accuracy: not "different"
        ("params.lr = 0.01", {"a", "c", "d"}),
        ("params.lr != '0.01'", {"b"}),
        ("tags.stage = 'sweep'", {"a", "b", "d"}),
        ("tags.stage != 'sweep'", {"c"}),
        ("status = 'finished'", {"b"}),
        ("status != 'finished'", {"a", "c", "d"}),
        ("name = 'c'", {"c"}),
        ("name != 'c'", {"a", "b", "d"}),
        ("metrics.accuracy > 0.9 and params.lr = 0.01 and tags.stage = 'sweep'", {"a"}),
        ("metrics.loss > 0", set()),
    ],
)
def test_it_finds_the_runs_each_clause_names(runs: Any, text: str, names: set[str]) -> None:
    assert set(_found(text)) == names


def test_it_orders_by_a_metric_with_runs_lacking_it_last(runs: Any) -> None:
    assert _found("", "metrics.accuracy DESC") == ["a", "b", "c", "d"]
    assert _found("", "metrics.accuracy") == ["c", "b", "a", "d"]
    assert _found("", "name desc") == ["d", "c", "b", "a"]


# How PostgreSQL finds it ---------------------------------------------------------------------


@pytest.mark.postgres
def test_a_metric_clause_reads_the_metric_search_index(alice: Any, sweep: Any) -> None:
    """Among 5,000 runs of four metrics, "accuracy > 0.99" is a range of the (key, last) index,
    not a look at every run's summaries; "params.lr = '7'" is a probe of (key, value)."""
    now = timezone.now()
    made = Run.objects.bulk_create(
        Run(experiment=sweep, user=alice, name=f"r{n}", started_at=now - timedelta(minutes=n))
        for n in range(5000)
    )
    MetricSummary.objects.bulk_create(
        MetricSummary(
            run=run,
            key=key,
            last=(n * 7919 % 5000) / 5000,
            last_step=0,
            last_timestamp=now,
            min=0,
            max=1,
            count=1,
        )
        for n, run in enumerate(made)
        for key in ("accuracy", "loss", "auc", "f1")
    )
    Param.objects.bulk_create(
        Param(run=run, key="lr", value=str(n % 50)) for n, run in enumerate(made)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE experiments_run")
        cursor.execute("ANALYZE experiments_metricsummary")
        cursor.execute("ANALYZE experiments_param")
    found = search_runs(Run.objects.filter(experiment=sweep), filter_text="metrics.accuracy > 0.99")

    with CaptureQueriesContext(connection):
        plan = found.explain()
        assert len(list(found)) == 49
    param_plan = search_runs(Run.objects.all(), filter_text="params.lr = '7'").explain()

    assert "metric_search" in plan, plan
    assert "Seq Scan on experiments_metricsummary" not in plan, plan
    assert "param_search" in param_plan, param_plan
