"""Error analysis and the feedback tab: what the aggregations count, how many queries the
pages run, and who may read them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import analysis, slices, trends
from feedback.models import Scope
from feedback.services.access import Caller
from feedback.services.feedback import give_feedback
from feedback.services.keys import create_key, revoke_key
from feedback.services.outcomes import report_outcomes
from feedback.services.predictions import log_predictions
from registry.choices import TaskType
from registry.models import ModelVersion
from registry.services.models import create_model
from registry.services.versions import create_version

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
WINDOW = analysis.Window.last(30, NOW)
INPUT = {
    "type": "object",
    "properties": {"age": {"type": "integer"}, "plan": {"enum": ["basic", "pro"]}},
}


@pytest.fixture
def churn(alice: Any, risk_team: Any) -> Any:
    """A classifier with two versions and a contract naming ``age`` and ``plan``."""
    model = create_model(
        actor=alice,
        name="churn",
        title="Churn",
        team=risk_team,
        task_type=TaskType.BINARY_CLASSIFICATION,
    )
    create_version(actor=alice, model=model, version="1.0.0", input_schema=INPUT)
    create_version(actor=alice, model=model, version="1.1.0", input_schema=INPUT)
    return model


@pytest.fixture
def price(alice: Any, risk_team: Any) -> Any:
    model = create_model(
        actor=alice, name="price", title="Price", team=risk_team, task_type=TaskType.REGRESSION
    )
    create_version(actor=alice, model=model, version="1.0.0")
    return model


def version_of(model: Any, number: str = "1.0.0") -> ModelVersion:
    return ModelVersion.objects.select_related("model").get(model=model, version=number)


def log(actor: Any, model: Any, *rows: dict[str, Any], version: str = "1.0.0") -> None:
    """Log predictions ``{"id", "at", "label" | "value", "features"}`` as a service would."""
    records = [
        {
            "model": model.name,
            "prediction_id": row["id"],
            "version": row.get("version", version),
            "timestamp": row.get("at", NOW - timedelta(hours=1)).isoformat(),
            "features": row.get("features", {"age": 30, "plan": "basic"}),
            "output": {"value": row["value"]} if "value" in row else {"label": row["label"]},
        }
        for row in rows
    ]
    result = log_predictions(caller=Caller(person=actor), records=records, now=NOW)
    assert result.accepted == len(rows), result.as_json()


def say(actor: Any, model: Any, *records: dict[str, Any], now: datetime = NOW) -> None:
    """Give feedback ``{"prediction_id", "kind", "value"}`` from the portal."""
    records_ = [{"model": model.name, **record} for record in records]
    result = give_feedback(caller=Caller(person=actor), records=records_, now=now)
    assert result.accepted == len(records), result.as_json()


def thumb(prediction: str, up: bool) -> dict[str, Any]:
    return {"prediction_id": prediction, "kind": "thumbs", "value": "up" if up else "down"}


def label(prediction: str, value: str) -> dict[str, Any]:
    return {"prediction_id": prediction, "kind": "label", "value": value}


def day(offset: int) -> datetime:
    """``offset`` days before NOW, at 09:00."""
    return (NOW - timedelta(days=offset)).replace(hour=9)


# -- The window -----------------------------------------------------------------------------


def test_the_window_is_whole_days_up_to_today_and_only_listed_lengths() -> None:
    window = analysis.window_from("7", NOW)

    assert (window.start, window.end) == (
        datetime(2026, 11, 24, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert window.dates[0] == date(2026, 11, 24) and len(window.dates) == 7
    assert analysis.window_from("8", NOW).days == analysis.DEFAULT_WINDOW
    assert analysis.window_from("-7", NOW).days == analysis.DEFAULT_WINDOW
    assert slices.min_count_from("3") == slices.DEFAULT_MIN_COUNT
    assert slices.min_count_from("5") == 5


# -- Confusion matrix -----------------------------------------------------------------------


def test_the_confusion_matrix_counts_corrected_labels_by_predicted_label(
    alice: Any, churn: Any
) -> None:
    log(
        alice,
        churn,
        {"id": "a", "label": "stay"},
        {"id": "b", "label": "stay"},
        {"id": "c", "label": "churn"},
        {"id": "d", "label": "churn"},
        {"id": "e", "label": "stay"},
    )
    log(alice, churn, {"id": "f", "label": "stay"}, version="1.1.0")  # another version
    say(
        alice,
        churn,
        label("a", "stay"),
        label("b", "churn"),
        label("c", "churn"),
        label("d", "stay"),
        label("e", "churn"),
        label("f", "churn"),
        thumb("a", True),  # thumbs are not in the matrix
        label("unlogged", "churn"),  # no prediction to compare with
    )

    matrix = analysis.confusion(version_of(churn), WINDOW)

    assert matrix.labels == ["churn", "stay"]
    # rows: predicted churn, stay; columns: corrected churn, stay
    assert matrix.counts == [[1, 1], [2, 1]]
    assert (matrix.total, matrix.agreed) == (5, 2)


def test_labels_past_the_limit_are_counted_together_as_other() -> None:
    pairs = [(f"l{n:02d}", f"l{n:02d}", 100 - n) for n in range(analysis.MAX_LABELS + 3)]

    matrix = analysis.confusion_of([*pairs, ("l00", "l22", 1)])

    assert len(matrix.labels) == analysis.MAX_LABELS + 1
    assert matrix.labels[-1] == analysis.OTHER
    assert matrix.counts[-1][-1] == sum(n for label, _, n in pairs[analysis.MAX_LABELS :])
    assert matrix.counts[0][-1] == 1  # l00 corrected to a lumped label
    assert matrix.total == sum(n for *_, n in pairs) + 1


def test_predictions_outside_the_window_are_not_read(alice: Any, churn: Any) -> None:
    log(alice, churn, {"id": "old", "label": "stay", "at": day(40)})
    log(alice, churn, {"id": "new", "label": "stay", "at": day(1)})
    say(alice, churn, label("old", "churn"), label("new", "churn"))

    assert analysis.confusion(version_of(churn), WINDOW).total == 1
    assert analysis.confusion(version_of(churn), analysis.Window.last(90, NOW)).total == 2


# -- Accuracy and thumbs-up rate per day ------------------------------------------------------


def test_accuracy_per_day_counts_thumbs_and_corrected_labels(alice: Any, churn: Any) -> None:
    # given: two days of predictions
    log(
        alice,
        churn,
        {"id": "a", "label": "stay", "at": day(2)},
        {"id": "b", "label": "stay", "at": day(2)},
        {"id": "c", "label": "stay", "at": day(2)},
        {"id": "d", "label": "churn", "at": day(1)},
        {"id": "e", "label": "churn", "at": day(1)},
    )
    # when: day 2 gets up, down, and a label equal to the prediction; day 1 a wrong label
    say(
        alice,
        churn,
        thumb("a", True),
        thumb("b", False),
        label("c", "stay"),
        label("d", "stay"),
        {"prediction_id": "e", "kind": "rating", "value": 5},  # a rating judges nothing
    )

    days = {d.day: d for d in analysis.daily_judgements(version_of(churn), WINDOW)}

    # then
    assert len(days) == 30
    two, one = days[date(2026, 11, 28)], days[date(2026, 11, 29)]
    assert (two.judged, two.correct, two.thumbs, two.thumbs_up) == (3, 2, 2, 1)
    assert two.accuracy == pytest.approx(2 / 3)
    assert two.thumbs_up_rate == 0.5
    assert (one.judged, one.correct, one.accuracy, one.thumbs_up_rate) == (1, 0, 0.0, None)
    assert days[date(2026, 11, 27)].accuracy is None


# -- Worst slices ---------------------------------------------------------------------------


def test_categorical_slices_are_sorted_worst_first_with_a_minimum_count(
    alice: Any, churn: Any
) -> None:
    plans = {"basic": (6, 1), "pro": (4, 3), "gold": (2, 2)}  # plan: (judged, wrong)
    rows, votes, number = [], [], 0
    for plan, (judged, wrong) in plans.items():
        for index in range(judged):
            number += 1
            rows.append({"id": f"p{number}", "label": "stay", "features": {"plan": plan}})
            votes.append(thumb(f"p{number}", up=index >= wrong))
    rows.append({"id": "silent", "label": "stay", "features": {"plan": "pro"}})  # no feedback
    log(alice, churn, *rows)
    say(alice, churn, *votes)
    version = version_of(churn)

    found = slices.worst_slices(version, WINDOW, ["age", "plan"], {}, "plan", min_count=3)

    assert found is not None and not found.numeric
    assert [(s.label, s.count, s.incorrect) for s in found.rows] == [("pro", 4, 3), ("basic", 6, 1)]
    everything = slices.worst_slices(version, WINDOW, ["plan"], {}, "plan", min_count=1)
    assert everything is not None and everything.rows[0].label == "gold"


def test_a_wrong_label_makes_its_prediction_incorrect_in_its_slice(alice: Any, churn: Any) -> None:
    log(
        alice,
        churn,
        {"id": "a", "label": "stay", "features": {"plan": "pro"}},
        {"id": "b", "label": "stay", "features": {"plan": "pro"}},
    )
    say(alice, churn, label("a", "churn"), label("b", "stay"))

    found = slices.worst_slices(version_of(churn), WINDOW, ["plan"], {}, "plan", min_count=1)

    assert found is not None
    assert [(s.label, s.count, s.incorrect) for s in found.rows] == [("pro", 2, 1)]


def test_numeric_features_are_cut_into_quantile_bins_that_keep_equal_values_together(
    alice: Any, churn: Any
) -> None:
    # given: ages 1..19 and a second 16 (quintiles of 4: the second 16 falls in the last
    # tile), the oldest three all wrong, and an age that is not a number
    rows = [{"id": f"p{age}", "label": "stay", "features": {"age": age}} for age in range(1, 20)]
    rows.append({"id": "tie", "label": "stay", "features": {"age": 16}})
    rows.append({"id": "bad", "label": "stay", "features": {"age": "forty"}})
    log(alice, churn, *rows)
    say(alice, churn, *[thumb(f"p{age}", up=age <= 16) for age in range(1, 20)])
    say(alice, churn, thumb("tie", True), thumb("bad", False))

    found = slices.worst_slices(version_of(churn), WINDOW, ["age"], {}, "age", min_count=1)

    assert found is not None and found.numeric
    shown = [(s.label, s.count, s.incorrect) for s in found.rows]
    # all wrong in both: the bigger slice first
    assert shown[:2] == [("17 to 19", 3, 3), ("(missing) or not a number", 1, 1)]
    # the second 16 joins its equal instead of the last tile
    assert sorted(shown[2:]) == [
        ("1 to 4", 4, 0),
        ("13 to 16", 5, 0),
        ("5 to 8", 4, 0),
        ("9 to 12", 4, 0),
    ]
    fewer = slices.worst_slices(version_of(churn), WINDOW, ["age"], {}, "age", min_count=5)
    assert fewer is not None and [s.label for s in fewer.rows] == ["13 to 16"]


def test_only_features_the_page_offers_may_be_sliced_by(alice: Any, churn: Any) -> None:
    log(alice, churn, {"id": "a", "label": "stay", "features": {"age": 3, "plan": "pro"}})
    version = version_of(churn)

    features, sample = slices.feature_choices(version, WINDOW)
    chosen = slices.worst_slices(version, WINDOW, features, sample, "x' OR 1=1 --", 1)

    assert features == ["age", "plan"]
    assert sample == {"age": 3, "plan": "pro"}
    assert chosen is not None and chosen.feature == "age"  # an unknown name falls back


def test_without_a_contract_the_newest_prediction_names_and_types_the_features(
    alice: Any, price: Any
) -> None:
    log(alice, price, {"id": "a", "value": 1.0, "features": {"rooms": 3, "city": "Oslo"}})
    version = version_of(price)

    features, sample = slices.feature_choices(version, WINDOW)

    assert features == ["city", "rooms"]
    assert slices.is_numeric(version, "rooms", sample)
    assert not slices.is_numeric(version, "city", sample)


# -- Regression residuals -------------------------------------------------------------------


def test_residuals_are_predicted_minus_corrected_values(alice: Any, price: Any) -> None:
    log(
        alice,
        price,
        {"id": "a", "value": 10.0},
        {"id": "b", "value": 20.0},
        {"id": "c", "value": 30.0},
    )
    say(
        alice,
        price,
        {"prediction_id": "a", "kind": "value", "value": 12.0},
        {"prediction_id": "b", "kind": "value", "value": 20.0},
        {"prediction_id": "c", "kind": "value", "value": 26.0},
    )

    found = analysis.residuals(version_of(price), WINDOW)

    assert found is not None
    assert sorted(found.points) == [(10.0, -2.0), (20.0, 0.0), (30.0, 4.0)]
    assert found.count == 3
    assert found.mean == pytest.approx(2 / 3)
    assert found.mae == pytest.approx(2.0)
    assert found.rmse == pytest.approx((20 / 3) ** 0.5)
    assert (found.edges[0], found.edges[-1]) == (-2.0, pytest.approx(4.0))
    assert sum(found.counts) == 3
    assert (found.counts[0], found.counts[10], found.counts[-1]) == (1, 1, 1)


def test_without_value_corrections_there_are_no_residuals(alice: Any, price: Any) -> None:
    log(alice, price, {"id": "a", "value": 10.0})
    say(alice, price, thumb("a", True))

    assert analysis.residuals(version_of(price), WINDOW) is None


def test_equal_residuals_fill_one_bin(alice: Any, price: Any) -> None:
    log(alice, price, {"id": "a", "value": 10.0}, {"id": "b", "value": 5.0})
    say(
        alice,
        price,
        {"prediction_id": "a", "kind": "value", "value": 9.0},
        {"prediction_id": "b", "kind": "value", "value": 4.0},
    )

    found = analysis.residuals(version_of(price), WINDOW)

    assert found is not None
    assert (found.edges[0], found.edges[-1]) == (0.5, pytest.approx(1.5))
    assert found.counts[analysis.HISTOGRAM_BINS // 2] == sum(found.counts) == 2


# -- The feedback tab -----------------------------------------------------------------------


def test_outcomes_are_a_daily_mean_per_version(alice: Any, churn: Any) -> None:
    log(alice, churn, *[{"id": f"a{n}", "label": "stay"} for n in range(3)])
    log(alice, churn, *[{"id": f"b{n}", "label": "stay"} for n in range(2)], version="1.1.0")
    outcomes = [
        ("a0", 1, day(2)),
        ("a1", 0, day(2)),
        ("a2", 1, day(1)),
        ("b0", 1, day(2)),
        ("b1", 1, day(2)),
        ("never-logged", 0, day(2)),
    ]
    report_outcomes(
        caller=Caller(person=alice),
        records=[
            {"model": "churn", "prediction_id": p, "name": "converted", "value": v}
            | {"timestamp": at.isoformat()}
            for p, v, at in outcomes
        ],
        now=NOW,
    )

    (trend,) = trends.outcome_trends(churn, WINDOW)

    assert trend.name == "converted"
    assert [line.version for line in trend.lines] == ["1.0.0", "1.1.0"]
    first, second = trend.lines
    assert (first.days, first.means, first.counts) == (
        [date(2026, 11, 28), date(2026, 11, 29)],
        [0.5, 1.0],
        [2, 1],
    )
    assert (second.days, second.means) == ([date(2026, 11, 28)], [1.0])


def test_the_tab_counts_predictions_violations_and_feedback_by_kind(alice: Any, churn: Any) -> None:
    log(
        alice,
        churn,
        {"id": "a", "label": "stay"},
        {"id": "b", "label": "stay", "features": {"age": "old"}},  # breaks the contract
    )
    log(alice, churn, {"id": "c", "label": "churn"}, version="1.1.0")
    say(alice, churn, thumb("a", True), thumb("b", False), thumb("c", True), label("c", "stay"))

    read = trends.model_feedback(churn, WINDOW)

    assert (read.predictions, read.violations, read.feedback) == (3, 1, 4)
    assert read.thumbs_up_rate == pytest.approx(2 / 3)
    kinds = {kind: n for kind, _, n in read.feedback_by_kind}
    assert kinds == {"thumbs": 3, "rating": 0, "label": 1, "value": 0, "comment": 0}
    rows = {row.version: (row.predictions, row.violations) for row in read.versions}
    assert rows == {"1.1.0": (1, 0), "1.0.0": (2, 1)}
    assert [row.version for row in read.versions] == ["1.1.0", "1.0.0"]


def test_the_tab_names_only_active_browser_keys_for_feedback_by_prefix(
    alice: Any, churn: Any, risk_team: Any
) -> None:
    def key(name: str, scopes: list[str], origins: list[str], model: Any = churn) -> Any:
        return create_key(
            actor=alice,
            team=risk_team,
            name=name,
            scopes=scopes,
            model=model,
            allowed_origins=origins,
        )

    shop, _ = key("shop", [Scope.FEEDBACK], ["https://shop.example"])
    key("team-wide", [Scope.FEEDBACK], ["https://app.example"], model=None)
    key("server", [Scope.FEEDBACK], [])
    key("logger", [Scope.PREDICTIONS], ["https://shop.example"])
    revoked, _ = key("old", [Scope.FEEDBACK], ["https://old.example"])
    revoke_key(actor=alice, key=revoked)

    found = trends.browser_keys(churn)

    assert sorted((k.name, k.for_every_model) for k in found) == [
        ("shop", False),
        ("team-wide", True),
    ]
    assert {k.prefix for k in found} >= {shop.prefix}
    assert all(k.prefix.startswith("hfk_") and len(k.prefix) == 12 for k in found)


# -- Pages ----------------------------------------------------------------------------------


def analysis_url(model: Any, version: str = "1.0.0", query: str = "") -> str:
    return f"/feedback/models/{model.name}/versions/{version}/analysis/{query}"


def overview_url(model: Any, query: str = "") -> str:
    return f"/feedback/models/{model.name}/{query}"


def fill(actor: Any, model: Any, start: int, count: int) -> None:
    """Predictions ``start`` .. ``start + count - 1`` of the last hours, each with a thumb, a
    label, a value and an outcome."""
    now = timezone.now()
    rows = [
        {
            "model": model.name,
            "prediction_id": f"q{n}",
            "version": "1.0.0" if n % 5 else "1.1.0",
            "timestamp": (now - timedelta(minutes=n)).isoformat(),
            "features": {"age": n % 70, "plan": "pro" if n % 3 else "basic"},
            "output": {"label": "stay" if n % 2 else "churn", "value": float(n)},
        }
        for n in range(start, start + count)
    ]
    log_predictions(caller=Caller(person=actor), records=rows, now=now)
    feedback = [
        {"model": model.name, **record}
        for n in range(start, start + count)
        for record in (
            thumb(f"q{n}", up=n % 4 > 0),
            label(f"q{n}", "stay" if n % 3 else "churn"),
            {"prediction_id": f"q{n}", "kind": "value", "value": n * 0.9},
        )
    ]
    give_feedback(caller=Caller(person=actor), records=feedback, now=now)
    outcomes = [
        {"model": model.name, "prediction_id": f"q{n}", "name": name, "value": n % 2}
        for n in range(start, start + count)
        for name in ("converted", "retained")
    ]
    report_outcomes(caller=Caller(person=actor), records=outcomes, now=now)


def query_count(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# session, user, the version, the newest features, the slices, the days, the confusion
# matrix, the viewer's roles and the bell; a model that may be a regression adds the
# residuals' summary, histogram and points
ANALYSIS_QUERIES = 9
RESIDUAL_QUERIES = 3
# session, user, the model, predictions, feedback, versions, outcomes, keys, roles, bell
OVERVIEW_QUERIES = 10


@pytest.mark.parametrize(
    ("task_type", "expected"),
    [
        (TaskType.BINARY_CLASSIFICATION, ANALYSIS_QUERIES),
        (TaskType.OTHER, ANALYSIS_QUERIES + RESIDUAL_QUERIES),
    ],
)
def test_the_analysis_page_runs_the_same_queries_for_few_or_many_rows(
    client_for: Any, alice: Any, victor: Any, churn: Any, task_type: str, expected: int
) -> None:
    churn.task_type = task_type
    churn.save(update_fields=["task_type"])
    client = client_for(victor)
    fill(alice, churn, 0, 4)
    client.get(analysis_url(churn))  # warm the caches
    few = [
        query_count(client, analysis_url(churn, query=q))
        for q in ("?feature=age&min=1", "?feature=plan&min=1")
    ]

    fill(alice, churn, 4, 300)

    many = [
        query_count(client, analysis_url(churn, query=q))
        for q in ("?feature=age&min=1", "?feature=plan&min=1")
    ]
    assert few == many == [expected, expected]


def test_the_overview_runs_the_same_queries_for_few_or_many_rows(
    client_for: Any, alice: Any, victor: Any, churn: Any, risk_team: Any
) -> None:
    client = client_for(victor)
    fill(alice, churn, 0, 4)
    client.get(overview_url(churn))  # warm the caches
    few = query_count(client, overview_url(churn))

    fill(alice, churn, 4, 300)
    for number in range(3):
        create_version(actor=alice, model=churn, version=f"2.{number}.0")
        create_key(
            actor=alice,
            team=risk_team,
            name=f"shop {number}",
            scopes=[Scope.FEEDBACK],
            model=churn,
            allowed_origins=[f"https://shop{number}.example"],
        )

    assert few == query_count(client, overview_url(churn)) == OVERVIEW_QUERIES


def test_anyone_signed_in_may_read_the_pages_and_anonymous_people_sign_in_first(
    client: Any, client_for: Any, victor: Any, dana: Any, churn: Any
) -> None:
    for url in (overview_url(churn), analysis_url(churn)):
        anonymous = client.get(url)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/accounts/login/?next=")
        assert client_for(victor).get(url).status_code == 200
        assert client_for(dana).get(url).status_code == 200


def test_unknown_models_and_versions_are_not_found_and_posts_are_refused(
    client_for: Any, victor: Any, churn: Any
) -> None:
    client = client_for(victor)

    assert client.get("/feedback/models/nope/").status_code == 404
    assert client.get(analysis_url(churn, version="9.9.9")).status_code == 404
    assert client.get("/feedback/models/nope/versions/1.0.0/analysis/").status_code == 404
    assert client.post(overview_url(churn)).status_code == 405
    assert client.post(analysis_url(churn)).status_code == 405


def test_without_data_the_pages_say_so(client_for: Any, victor: Any, churn: Any) -> None:
    client = client_for(victor)

    overview = client.get(overview_url(churn)).content.decode()
    analysed = client.get(analysis_url(churn)).content.decode()

    assert "No predictions or feedback in the last 30 days" in overview
    assert "No outcomes reported" in overview
    assert "No active key" in overview
    assert "No thumbs or corrected labels" in analysed
    assert "No corrected labels" in analysed
    assert "data-plotly" not in overview + analysed
    assert "plotly.min.js" not in overview + analysed


def test_the_pages_draw_their_charts_from_data_islands(
    client_for: Any, alice: Any, victor: Any, churn: Any
) -> None:
    churn.task_type = TaskType.OTHER
    churn.save(update_fields=["task_type"])
    fill(alice, churn, 0, 12)
    client = client_for(victor)

    overview = client.get(overview_url(churn, "?days=7")).content.decode()
    analysed = client.get(analysis_url(churn, query="?feature=plan&min=1")).content.decode()

    for chart in ("activity-chart", "outcome-chart-0", "outcome-chart-1"):
        assert f'data-plotly="{chart}-data"' in overview
    for chart in ("accuracy-chart", "confusion-chart", "residual-histogram", "residual-scatter"):
        assert f'data-plotly="{chart}-data"' in analysed
    assert "plotly.min.js" in overview and "plotly.min.js" in analysed
    assert "/feedback/models/churn/versions/1.1.0/analysis/?days=7" in overview
    assert "<script>" not in overview.replace("<script src=", "")  # data islands only


def test_labels_from_clients_are_escaped_in_tables_and_charts(
    client_for: Any, alice: Any, victor: Any, churn: Any
) -> None:
    evil = "<img src=x onerror=alert(1)>"
    # On the module's clock (NOW), as every other test here: the real clock drifts past the
    # ingestion's window for NOW.
    log(alice, churn, {"id": "a", "label": "stay", "at": NOW, "features": {"plan": evil}})
    say(alice, churn, label("a", evil))

    page = client_for(victor).get(analysis_url(churn, query="?feature=plan&min=1"))

    html = page.content.decode()
    assert evil not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the table cells
    assert "\\u003Cimg" not in html and "\u0026lt;img" in html  # the chart text, as entities


def test_the_slice_form_swaps_only_the_slices_for_htmx(
    client_for: Any, alice: Any, victor: Any, churn: Any, django_assert_num_queries: Any
) -> None:
    fill(alice, churn, 0, 12)
    client = client_for(victor)
    client.get(analysis_url(churn))

    # session, user, version, the newest features, the slices, the viewer's roles
    with django_assert_num_queries(6):
        response = client.get(
            analysis_url(churn, query="?feature=plan&min=1"),
            headers={"HX-Request": "true", "HX-Target": "slices"},
        )

    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card" id="slices"')
    assert "<table" in html and "pro</td>" in html and "basic</td>" in html
    assert "<html" not in html
