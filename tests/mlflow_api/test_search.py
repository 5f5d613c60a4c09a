"""MLflow's run search dialect: what each filter clause finds, how order_by sorts, and the
errors, which name the offset and what was expected there."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from registry.experiments.models import MetricSummary, Run, RunStatus
from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.runs import create_run, end_run, log_batch
from registry.mlflow_api.search import FilterError, filtered_runs, ordered_runs

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T0_MS = 1_704_067_200_000  # T0 in milliseconds since the epoch
A_START_MS = T0_MS + 123  # run "sweep-1" starts 123.456 ms after T0: MLflow reports ...123


@pytest.fixture
def experiment(alice: Any, risk_team: Any) -> Any:
    return create_experiment(actor=alice, team=risk_team, name="mlflow-search")


def _run(actor: Any, experiment: Any, name: str, **logged: Any) -> Run:
    started_at = logged.pop("started_at", None)
    run = create_run(actor=actor, experiment=experiment, name=name, started_at=started_at)
    log_batch(
        actor=actor,
        run=run,
        metrics=[{"key": k, "value": v, "step": 0} for k, v in logged.get("metrics", {}).items()],
        params=[{"key": k, "value": v} for k, v in logged.get("params", {}).items()],
        tags=[{"key": k, "value": v} for k, v in logged.get("tags", {}).items()],
    )
    return run


@pytest.fixture
def runs(alice: Any, bob: Any, experiment: Any) -> dict[str, Run]:
    """Four runs, a minute apart, newest last:

    ============  =====  ========  =====  ========  ==========  =====  =====  =======  =====
    name          user   status    acc    val loss  model       lr     depth  stage    team
    ============  =====  ========  =====  ========  ==========  =====  =====  =======  =====
    sweep-1       alice  finished  0.95   0.3       xgb         0.01   3      sweep    blue
    sweep-10      bob    failed    0.92   0.5       lgbm        0.1    1      Sweep    red
    Sweep_2       alice  running   0.80             XGB-large   0.01   2
    base          alice  killed                     rf          0.01          final    green
    ============  =====  ========  =====  ========  ==========  =====  =====  =======  =====

    "base" also has the tag mlflow.runName = "renamed"; "sweep-1" the param data/set.v1.
    """
    made = {
        "sweep-1": _run(
            alice,
            experiment,
            "sweep-1",
            started_at=T0 + timedelta(microseconds=123_456),
            metrics={"acc": 0.95, "val loss": 0.3},
            params={"model": "xgb", "lr": "0.01", "depth": "3", "data/set.v1": "train.csv"},
            tags={"stage": "sweep", "team": "blue"},
        ),
        "sweep-10": _run(
            bob,
            experiment,
            "sweep-10",
            started_at=T0 + timedelta(minutes=1),
            metrics={"acc": 0.92, "val loss": 0.5},
            params={"model": "lgbm", "lr": "0.1", "depth": "1"},
            tags={"stage": "Sweep", "team": "red"},
        ),
        "Sweep_2": _run(
            alice,
            experiment,
            "Sweep_2",
            started_at=T0 + timedelta(minutes=2),
            metrics={"acc": 0.80},
            params={"model": "XGB-large", "lr": "0.01", "depth": "2"},
        ),
        "base": _run(
            alice,
            experiment,
            "base",
            started_at=T0 + timedelta(minutes=3),
            params={"model": "rf", "lr": "0.01"},
            tags={"stage": "final", "team": "green", "mlflow.runName": "renamed"},
        ),
    }
    end_run(actor=alice, run=made["sweep-1"], ended_at=T0 + timedelta(hours=1))
    end_run(
        actor=bob, run=made["sweep-10"], status=RunStatus.FAILED, ended_at=T0 + timedelta(hours=2)
    )
    end_run(
        actor=alice, run=made["base"], status=RunStatus.KILLED, ended_at=T0 + timedelta(hours=3)
    )
    return made


def _found(text: str) -> set[str]:
    return {run.name for run in filtered_runs(Run.objects.all(), text)}


def _ordered(*order_by: str) -> list[str]:
    return [run.name for run in ordered_runs(Run.objects.all(), order_by)]


ALL = {"sweep-1", "sweep-10", "Sweep_2", "base"}


# What each clause finds ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("metrics.acc > 0.92", {"sweep-1"}),
        ("metrics.acc >= 0.92", {"sweep-1", "sweep-10"}),
        ("metric.acc < 0.92", {"Sweep_2"}),
        ("metrics.acc <= 0.92", {"sweep-10", "Sweep_2"}),
        ("metrics.acc = 0.8", {"Sweep_2"}),
        ("metrics.acc != 0.8", {"sweep-1", "sweep-10"}),  # base has no acc: not "different"
        ("metrics.acc > -1e3", {"sweep-1", "sweep-10", "Sweep_2"}),
        ("metrics.missing < 1", set()),
    ],
)
def test_a_metric_clause_compares_the_last_value(runs: Any, text: str, names: set[str]) -> None:
    assert _found(text) == names


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("params.model = 'xgb'", {"sweep-1"}),
        ('param.model = "xgb"', {"sweep-1"}),
        ("parameters.model != 'xgb'", {"sweep-10", "Sweep_2", "base"}),
        ("params.depth != '3'", {"sweep-10", "Sweep_2"}),  # base has no depth
        ("params.model LIKE 'xgb%'", {"sweep-1"}),  # LIKE keeps case
        ("params.model ILIKE 'xgb%'", {"sweep-1", "Sweep_2"}),
        ("params.model like '%b%'", {"sweep-1", "sweep-10"}),  # not XGB-large
        ("params.model LIKE 'x_b'", {"sweep-1"}),
        ("params.model LIKE 'x_'", set()),  # the pattern is the whole value
        ("params.model LIKE 'xg'", set()),
        ("params.model ILIKE '%-LARGE'", {"Sweep_2"}),
        ("params.model IN ('xgb', 'rf')", {"sweep-1", "base"}),
        ("params.model in ('xgb')", {"sweep-1"}),
        ("params.model NOT IN ('xgb', 'rf')", {"sweep-10", "Sweep_2"}),
        ("params.depth not  in ('3')", {"sweep-10", "Sweep_2"}),  # base has no depth
        ("params.depth IS NULL", {"base"}),
        ("params.depth is not null", {"sweep-1", "sweep-10", "Sweep_2"}),
        ("tags.stage = 'sweep'", {"sweep-1"}),
        ("tag.stage != 'sweep'", {"sweep-10", "base"}),  # Sweep_2 has no stage
        ("tags.stage LIKE 'S%'", {"sweep-10"}),
        ("tags.stage ILIKE 's%'", {"sweep-1", "sweep-10"}),
        ("tags.stage IN ('Sweep', 'final')", {"sweep-10", "base"}),
        ("tags.stage NOT IN ('sweep')", {"sweep-10", "base"}),
        ("tags.stage IS NULL", {"Sweep_2"}),
        ("tags.stage IS NOT NULL", {"sweep-1", "sweep-10", "base"}),
    ],
)
def test_a_param_or_tag_clause_compares_the_text(runs: Any, text: str, names: set[str]) -> None:
    assert _found(text) == names


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("attributes.status = 'FINISHED'", {"sweep-1"}),
        ("status = 'RUNNING'", {"Sweep_2"}),
        ("run.status != 'RUNNING'", {"sweep-1", "sweep-10", "base"}),
        ("attr.status IN ('FAILED', 'KILLED')", {"sweep-10", "base"}),
        ("status NOT IN ('FINISHED')", {"sweep-10", "Sweep_2", "base"}),
        ("status = 'SCHEDULED'", set()),
        ("status != 'SCHEDULED'", ALL),
        ("status = 'finished'", set()),  # MLflow's statuses are upper case
        ("status LIKE 'F%'", {"sweep-1", "sweep-10"}),
        ("status LIKE 'f%'", set()),
        ("status ILIKE 'f%'", {"sweep-1", "sweep-10"}),
        ("status LIKE 'SCHED%'", set()),
        ("attributes.run_name = 'sweep-1'", {"sweep-1"}),
        ("run_name != 'sweep-1'", {"sweep-10", "Sweep_2", "base"}),
        ("run_name LIKE 'sweep-1%'", {"sweep-1", "sweep-10"}),
        ("run_name LIKE 'Sweep_2'", {"Sweep_2"}),
        ("run_name ILIKE 'SWEEP%'", {"sweep-1", "sweep-10", "Sweep_2"}),
        ("run_name IN ('base', 'sweep-10')", {"sweep-10", "base"}),
        ("run_name NOT IN ('base', 'sweep-10')", {"sweep-1", "Sweep_2"}),
        ("attributes.`run name` = 'base'", {"base"}),
        ("attributes.user_id = 'bob'", {"sweep-10"}),
        ("user_id != 'bob'", {"sweep-1", "Sweep_2", "base"}),
        ("user_id LIKE 'al%'", {"sweep-1", "Sweep_2", "base"}),
        ("user_id ILIKE 'BOB'", {"sweep-10"}),
        ("user_id IN ('bob', 'nobody')", {"sweep-10"}),
        ("user_id NOT IN ('alice')", {"sweep-10"}),
    ],
)
def test_an_attribute_clause_reads_the_run(runs: Any, text: str, names: set[str]) -> None:
    assert _found(text) == names


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("tags.mlflow.runName = 'sweep-1'", {"sweep-1"}),  # the run's name
        ("tags.`mlflow.runName` = 'renamed'", {"base"}),  # or a tag of that key
        ("tags.\"mlflow.runName\" != 'sweep-1'", {"sweep-10", "Sweep_2", "base"}),
        ("tags.mlflow.runName != 'renamed'", {"sweep-1", "sweep-10", "Sweep_2"}),
        ("tags.mlflow.runName LIKE 'ren%'", {"base"}),
        ("tags.mlflow.runName ILIKE 'SWEEP-1%'", {"sweep-1", "sweep-10"}),
        ("tags.mlflow.runName IN ('Sweep_2', 'renamed')", {"Sweep_2", "base"}),
        ("tags.mlflow.runName NOT IN ('Sweep_2', 'renamed')", {"sweep-1", "sweep-10"}),
        ("tags.mlflow.runName IS NOT NULL", ALL),
        ("tags.mlflow.runName IS NULL", set()),
    ],
)
def test_the_run_name_tag_is_the_run_name(runs: Any, text: str, names: set[str]) -> None:
    assert _found(text) == names


@pytest.mark.django_db
def test_a_run_id_is_the_pk_and_any_other_text_matches_nothing(runs: Any) -> None:
    first, second = runs["sweep-1"].pk, runs["Sweep_2"].pk

    assert _found(f"attributes.run_id = '{first}'") == {"sweep-1"}
    assert _found(f"run_id != '{first}'") == ALL - {"sweep-1"}
    assert _found(f"run_id IN ('{first}', '{second}', 'abc')") == {"sweep-1", "Sweep_2"}
    assert _found(f"run_id NOT IN ('{first}', 'abc')") == ALL - {"sweep-1"}
    assert _found("run_id = 'abc'") == set()
    assert _found(f"run_id = '0{first}'") == set()
    assert _found("run_id = '123456789012345678901234567890'") == set()  # no overflow
    assert _found("run_id != 'abc'") == ALL
    assert _found("run_id IN ('abc', '')") == set()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "names"),
    [
        (f"attributes.start_time = {A_START_MS}", {"sweep-1"}),  # truncated to the ms
        (f"start_time = {A_START_MS + 1}", set()),
        (f"start_time = {A_START_MS}.5", set()),
        (f"start_time != {A_START_MS}", ALL - {"sweep-1"}),
        (f"start_time > {A_START_MS}", ALL - {"sweep-1"}),
        (f"start_time > {A_START_MS - 1}", ALL),
        (f"start_time >= {A_START_MS}", ALL),
        (f"start_time >= {A_START_MS + 1}", ALL - {"sweep-1"}),
        (f"start_time > {A_START_MS - 1}.6", ALL),  # m > x.6 means m >= x + 1
        (f"start_time >= {A_START_MS}.4", ALL - {"sweep-1"}),  # m >= x.4 means m >= x + 1
        (f"start_time < {A_START_MS}", set()),
        (f"start_time < {A_START_MS}.5", {"sweep-1"}),
        (f"start_time <= {A_START_MS}", {"sweep-1"}),
        (f"start_time <= {T0_MS + 60_000}", {"sweep-1", "sweep-10"}),
        (f"created < {T0_MS + 60_000}", {"sweep-1"}),
        ("start_time > 1e30", set()),
        ("start_time < 1e30", ALL),
        ("start_time != -1e30", ALL),
        (f"end_time > {T0_MS}", {"sweep-1", "sweep-10", "base"}),  # Sweep_2 has not ended
        ("end_time != 0", {"sweep-1", "sweep-10", "base"}),
        (f"end_time = {T0_MS + 3_600_000}", {"sweep-1"}),
        (f"end_time >= {T0_MS + 7_200_000}", {"sweep-10", "base"}),
    ],
)
def test_start_and_end_time_are_milliseconds(runs: Any, text: str, names: set[str]) -> None:
    assert _found(text) == names


@pytest.mark.django_db
def test_quoted_keys_hold_dots_spaces_and_slashes(runs: Any) -> None:
    assert _found('metrics."val loss" < 0.4') == {"sweep-1"}
    assert _found("metrics.`val loss` >= 0.3") == {"sweep-1", "sweep-10"}
    assert _found("params.data/set.v1 = 'train.csv'") == {"sweep-1"}
    assert _found("params.`data/set.v1` LIKE '%.csv'") == {"sweep-1"}


@pytest.mark.django_db
def test_clauses_join_with_and_in_any_case(runs: Any) -> None:
    text = (
        "metrics.acc > 0.9 AND params.lr = '0.01' and tags.stage = 'sweep'"
        " aNd attributes.status = 'FINISHED'"
    )

    assert _found(text) == {"sweep-1"}
    assert _found("params.lr = '0.01' AND status != 'KILLED'") == {"sweep-1", "Sweep_2"}
    assert _found("metrics.acc > 0.9 AND metrics.acc < 0.93") == {"sweep-10"}
    assert _found("   ") == ALL


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("'it''s'", "it's"),
        ("'it\\'s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'C:\\\\data'", "C:\\data"),  # \\ is one backslash
        ("'C:\\data'", "C:\\data"),  # any other backslash stands for itself
    ],
)
def test_a_quote_is_doubled_or_backslashed_inside_a_string(
    alice: Any, experiment: Any, text: str, value: str
) -> None:
    _run(alice, experiment, "quoted", params={"path": value})
    _run(alice, experiment, "other", params={"path": value + "x"})

    assert _found(f"params.path = {text}") == {"quoted"}


# LIKE: % and _ are the only wildcards ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("written", "char"),
    [(c, c) for c in ".*?[]()+$^|{}#-"] + [("\\\\", "\\"), ("''", "'"), ("\\'", "'")],
)
def test_like_takes_every_other_character_as_itself(
    alice: Any, experiment: Any, written: str, char: str
) -> None:
    """A regex or GLOB character in a LIKE pattern is that character, not a wildcard: the
    decoys are what the pattern would match if it leaked through."""
    values = [f"x{char}y", "xZy", "xy", "xZZy", f"x{char}{char}y", f"X{char}Y"]
    for value in values:
        _run(alice, experiment, value, tags={"note": value})

    assert _found(f"tags.note LIKE 'x{written}y'") == {f"x{char}y"}
    assert _found(f"tags.note ILIKE 'x{written}y'") == {f"x{char}y", f"X{char}Y"}


@pytest.mark.django_db
def test_like_wildcards_are_percent_for_any_run_and_underscore_for_one(
    alice: Any, experiment: Any
) -> None:
    values = ["xy", "x_y", "x%y", "xZy", "xZZy", "XZY", "ax%yb", "x\ny", "x\\y", "x\\%y"]
    for value in values:
        _run(alice, experiment, value, tags={"note": value})

    assert _found("tags.note LIKE 'x%y'") == set(values) - {"XZY", "ax%yb"}
    assert _found("tags.note LIKE 'x_y'") == {"x_y", "x%y", "xZy", "x\ny", "x\\y"}
    assert _found("tags.note ILIKE 'x_y'") == {"x_y", "x%y", "xZy", "XZY", "x\ny", "x\\y"}
    assert _found("tags.note LIKE 'x__y'") == {"xZZy", "x\\%y"}
    assert _found("tags.note LIKE '%'") == set(values)
    # No escape character: a backslash is itself and the % after it a wildcard.
    assert _found("tags.note LIKE 'x\\%'") == {"x\\y", "x\\%y"}


@pytest.mark.django_db
def test_like_does_not_backtrack_exponentially(alice: Any, experiment: Any) -> None:
    """'%a%a…%b' against a long run of a's: hopeless for a backtracking regex (Python's re,
    which runs SQLite's REGEXP), quick for LIKE."""
    _run(alice, experiment, "long", tags={"note": "a" * 3000})
    pattern = "%a" * 40 + "%b"
    started = time.monotonic()

    assert _found(f"tags.note LIKE '{pattern}'") == set()
    assert _found(f"tags.note ILIKE '{pattern}'") == set()
    assert time.monotonic() - started < 5


# Ordering -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_order_is_newest_first(runs: Any) -> None:
    assert _ordered() == ["base", "Sweep_2", "sweep-10", "sweep-1"]


@pytest.mark.django_db
def test_it_orders_by_a_metric_with_runs_lacking_it_last(runs: Any) -> None:
    assert _ordered("metrics.acc DESC") == ["sweep-1", "sweep-10", "Sweep_2", "base"]
    assert _ordered("metrics.acc") == ["Sweep_2", "sweep-10", "sweep-1", "base"]
    assert _ordered("metrics.acc asc") == ["Sweep_2", "sweep-10", "sweep-1", "base"]
    # Runs without the metric: newest first.
    assert _ordered("metrics.`val loss` DESC") == ["sweep-10", "sweep-1", "base", "Sweep_2"]


@pytest.mark.django_db
def test_it_orders_by_a_param_or_a_tag_with_runs_lacking_it_last(runs: Any) -> None:
    assert _ordered("params.depth") == ["sweep-10", "Sweep_2", "sweep-1", "base"]
    assert _ordered("params.depth DESC") == ["sweep-1", "Sweep_2", "sweep-10", "base"]
    assert _ordered("tags.team") == ["sweep-1", "base", "sweep-10", "Sweep_2"]
    assert _ordered("tags.team DESC") == ["sweep-10", "base", "sweep-1", "Sweep_2"]


@pytest.mark.django_db
def test_it_orders_by_attributes(runs: Any) -> None:
    assert _ordered("start_time") == ["sweep-1", "sweep-10", "Sweep_2", "base"]
    assert _ordered("attributes.start_time DESC") == ["base", "Sweep_2", "sweep-10", "sweep-1"]
    assert _ordered("attribute.end_time DESC") == ["base", "sweep-10", "sweep-1", "Sweep_2"]
    assert _ordered("end_time") == ["sweep-1", "sweep-10", "base", "Sweep_2"]
    assert _ordered("status") == ["sweep-10", "sweep-1", "base", "Sweep_2"]
    # By the run name in the database's collation; for the run-name tag too, not by the tag
    # (which only "base" has, so would put it first).
    by_name = list(Run.objects.order_by("name").values_list("name", flat=True))
    assert _ordered("run_name") == by_name
    assert _ordered("tags.mlflow.runName DESC") == by_name[::-1]


@pytest.mark.django_db
def test_several_items_apply_in_turn_then_newest_first(runs: Any) -> None:
    assert _ordered("params.lr", "metrics.acc DESC") == ["sweep-1", "Sweep_2", "base", "sweep-10"]
    assert _ordered("params.lr DESC", "metrics.acc") == ["sweep-10", "Sweep_2", "sweep-1", "base"]
    # Equal lr: the tie falls to newest first.
    assert _ordered("params.lr") == ["base", "Sweep_2", "sweep-1", "sweep-10"]


# Errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "metrics.a > 1 OR params.b = 'x'",
            "at 14, expected AND or the end of the filter (OR is not supported)",
        ),
        ("metrics.a > 1 params.b = 'x'", "at 14, expected AND or the end of the filter"),
        (
            "foo.bar = 'x'",
            "at 0, expected an entity: metrics, params, tags or attributes, not 'foo'",
        ),
        (
            "Metrics.a > 1",
            "at 0, expected an entity: metrics, params, tags or attributes, not 'Metrics'",
        ),
        (
            "accuracy > 1",
            "at 0, expected an identifier: metrics.<key>, params.<key>, tags.<key> or "
            "attributes.<name> (status, run_name, run_id, user_id, start_time, end_time)",
        ),
        (
            "attributes.artifact_uri = 'x'",
            "at 11, expected an identifier: metrics.<key>, params.<key>, tags.<key> or "
            "attributes.<name> (status, run_name, run_id, user_id, start_time, end_time)",
        ),
        ("metrics. > 1", "at 8, expected a key after 'metrics.'"),
        ("tags.`` = 'x'", "at 5, expected a key after 'tags.'"),
        ("tags.`open = 'x'", "at 5, expected a closing ` for the string that starts here"),
        ("metrics.a LIKE '1'", "at 10, expected an operator for metrics: = != > >= < <="),
        ("metrics.a", "at 9, expected an operator for metrics: = != > >= < <="),
        ("metrics.a > 'x'", "at 12, expected a number"),
        ("metrics.a > nan", "at 12, expected a number"),
        ("metrics.a >", "at 11, expected a number"),
        (
            "params.lr > '1'",
            "at 10, expected an operator for params: = != LIKE ILIKE IN NOT IN IS NULL IS NOT NULL",
        ),
        ("params.lr = 0.01", "at 12, expected a quoted string"),
        ("params.lr =", "at 11, expected a quoted string"),
        ("tags.stage = sweep", "at 13, expected a quoted string"),
        ("tags.stage = 'sweep", "at 13, expected a closing ' for the string that starts here"),
        ('tags.stage = "it""s', 'at 13, expected a closing " for the string that starts here'),
        ("tags.stage IN 'a'", "at 14, expected a parenthesised list of quoted strings: ('a', 'b')"),
        ("tags.stage IN ()", "at 15, expected a quoted string"),
        ("tags.stage IN ('a' 'b')", "at 19, expected ',' or ')'"),
        ("tags.stage IN ('a',)", "at 19, expected a quoted string"),
        ("tags.stage IN ('a'", "at 18, expected ',' or ')'"),
        ("status > 'RUNNING'", "at 7, expected an operator for status: = != LIKE ILIKE IN NOT IN"),
        ("run_id LIKE '1%'", "at 7, expected an operator for run_id: = != IN NOT IN"),
        ("start_time LIKE '1'", "at 11, expected an operator for start_time: = != > >= < <="),
        ("start_time > '2024'", "at 13, expected a number"),
        ("metrics.acc IS NULL", "at 12, expected an operator for metrics: = != > >= < <="),
        (
            "metrics.a > 1 and",
            "at 17, expected an identifier: metrics.<key>, params.<key>, tags.<key> or "
            "attributes.<name>",
        ),
        (
            "(metrics.a > 1)",
            "at 0, expected an identifier: metrics.<key>, params.<key>, "
            "tags.<key> or attributes.<name>",
        ),
        ("tags.a = 'x\x00'", "at 11, expected a character other than NUL"),
    ],
)
def test_filter_errors_name_the_offset_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(FilterError) as raised:
        filtered_runs(Run.objects.all(), text)

    assert str(raised.value) == f"filter: {message}"
    assert raised.value.position == int(message.split(",")[0].removeprefix("at "))


def test_a_filter_has_at_most_twenty_clauses_and_two_thousand_characters() -> None:
    filtered_runs(Run.objects.all(), " AND ".join(["metrics.a > 1"] * 20))
    filtered_runs(Run.objects.all(), "tags.a = '" + "x" * 1989 + "'")

    with pytest.raises(
        FilterError, match=r"^filter: at 360, expected the end: a filter has at most 20 clauses$"
    ):
        filtered_runs(Run.objects.all(), " AND ".join(["metrics.a > 1"] * 21))
    with pytest.raises(
        FilterError, match=r"^filter: at 2000, expected the end: at most 2,000 characters$"
    ):
        filtered_runs(Run.objects.all(), "tags.a = '" + "x" * 1990 + "'")


@pytest.mark.parametrize(
    ("order_by", "message"),
    [
        (["metrics.a sideways"], "order_by[0]: at 10, expected ASC, DESC or the end"),
        (["start_time", "metrics.a desc x"], "order_by[1]: at 15, expected the end"),
        (
            ["params.`a DESC"],
            "order_by[0]: at 7, expected a closing ` for the string that starts here",
        ),
        (
            ["status", "bogus.a"],
            "order_by[1]: at 0, expected an entity: metrics, params, tags or attributes, "
            "not 'bogus'",
        ),
        (
            ["artifact_uri"],
            "order_by[0]: at 0, expected an identifier: metrics.<key>, params.<key>, "
            "tags.<key> or attributes.<name> "
            "(status, run_name, run_id, user_id, start_time, end_time)",
        ),
        (
            [""],
            "order_by[0]: at 0, expected an identifier: metrics.<key>, params.<key>, tags.<key> "
            "or attributes.<name>",
        ),
        (
            ["metrics.a", "metrics.a DESC"],
            "order_by[1]: at 0, expected a field not already in order_by",
        ),
        (
            ["start_time", "attributes.created"],
            "order_by[1]: at 0, expected a field not already in order_by",
        ),
        (["run_name", 3], "order_by[1]: at 0, expected a string"),
        (["metrics.a"] * 11, "order_by[10]: at 0, expected no more items: at most 10"),
    ],
)
def test_order_errors_name_the_item_and_the_offset(order_by: list[Any], message: str) -> None:
    with pytest.raises(FilterError) as raised:
        ordered_runs(Run.objects.all(), order_by)

    assert str(raised.value) == message


def test_a_filter_error_is_a_value_error_with_its_parts() -> None:
    with pytest.raises(ValueError, match="OR is not supported") as raised:
        filtered_runs(Run.objects.all(), "metrics.a > 1 or metrics.b > 1")

    assert isinstance(raised.value, FilterError)
    assert (raised.value.field, raised.value.position) == ("filter", 14)
    assert raised.value.expected == "AND or the end of the filter (OR is not supported)"


# Never loading runs -------------------------------------------------------------------------


@pytest.mark.django_db
def test_search_and_order_are_one_query_whatever_the_clauses(
    runs: Any, django_assert_num_queries: Any
) -> None:
    """Every clause and order item is a subquery or a condition of the one query."""
    text = (
        "metrics.acc > 0.5 AND params.model ILIKE '%g%' AND tags.team IN ('blue', 'red')"
        " AND tags.mlflow.runName LIKE 'sweep%' AND status != 'KILLED' AND user_id = 'alice'"
        f" AND start_time >= {T0_MS} AND end_time != 0"
    )
    found = ordered_runs(filtered_runs(Run.objects.all(), text), ["metrics.acc", "params.lr"])

    with django_assert_num_queries(1):
        assert [run.name for run in found] == ["sweep-1"]
    assert MetricSummary.objects.filter(run__in=found).count() == 2
