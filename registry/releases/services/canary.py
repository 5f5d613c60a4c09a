"""The canary analysis: a canary (or shadow) release's version against the version it
replaces, on the live data of the feedback app, over the same window.

The window runs from ``release.deployed_at`` until now, or until the canary took all traffic
or the release ended, whichever came first: the time both versions served side by side.
Each comparison is a two-sample test (``registry.releases.canary_stats``), new against old:

* ``accuracy``: feedback-based accuracy, as the error analysis counts it
  (``feedback.analysis``): a thumb up or a corrected label equal to the predicted one is
  right, a thumb down or another label wrong; two proportions. ``thumbs_up``: the thumbs-up
  rate alone, shown when either side has thumbs.
* ``kpi:<name>``: each business outcome (``Outcome``) reported for the window's
  predictions; Welch on the mean per prediction. Higher counts as better (conversions,
  order value): the feedback app records no direction for an outcome.
* ``error_rate``: the share of logged predictions whose inputs broke the version's input
  contract (``PredictionLog.contract_violation``). The log has no field for a failed
  prediction (a service that failed logs none), so a request the version was not built for
  is the error it can show; two proportions, lower is better.
* ``latency``: mean ``latency_ms`` of the predictions that report it; Welch, lower is better.
* ``drift``: whether the inputs of the two populations differ, feature by feature of the new
  version's contract (``registry.monitoring.stats.column_drift``), on the newest
  ``MAX_DRIFT_ROWS`` predictions of each side; "worse" when the dataset drifts by the
  monitoring rule (at least half the features). Traffic is split at random, so drift says
  the comparison is not like for like, not that the model is worse.

A comparison *guards* when the environment lists its key (or a KPI's bare name) in
``guarding_metrics``; one that guards and finds the new version worse blocks the next traffic
step (``services.deployments.promote``) until an approver overrides it with a reason.

Every figure is aggregated in the database: five queries (feedback, outcomes, logs, and the
two drift samples; a sixth finds when a finished canary took all traffic), however many
predictions there are. The caller should have read the release's version and environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from feedback.models import Feedback, FeedbackKind, Outcome, PredictionLog
from feedback.slices import JUDGING, UP
from registry.evaluation.mapping import contract_paths, is_numeric
from registry.monitoring.results import ColumnResult, DatasetResult
from registry.monitoring.stats import ColumnKind, column_drift, dataset_drift
from registry.releases.canary_stats import (
    MIN_SAMPLES,
    NOT_ENOUGH,
    MeanComparison,
    ProportionComparison,
    compare_mean_stats,
    compare_proportions,
)
from registry.releases.choices import State, Strategy
from registry.releases.models import CanaryStep, ReleaseRequest

MAX_DRIFT_ROWS = 50_000  # the newest predictions of each side that the drift check reads
MAX_DRIFT_COLUMNS = 50  # contract features compared, in the contract's order
MAX_KPIS = 20  # business outcomes compared, by name


class NoBaseline(LookupError):
    """Nothing ran in the environment before the release: nothing to compare with."""


@dataclass(frozen=True)
class InputDrift:
    """Drift of each contract feature between the old (reference) and new populations."""

    columns: dict[str, ColumnResult]  # feature (keys joined by ".") → its test
    dataset: DatasetResult | None  # None with too few rows on a side
    n_new: int
    n_old: int
    worse: bool
    verdict: str

    @property
    def values_text(self) -> str:
        return f"{self.n_new:,} predictions (new) vs {self.n_old:,} (old)"

    @property
    def difference_text(self) -> str:
        if self.dataset is None:
            return "-"
        drifted = ", ".join(self.dataset.drifted_columns) or "none"
        return f"{self.dataset.n_drifted} of {self.dataset.n_columns} features differ: {drifted}"

    @property
    def test_text(self) -> str:
        tests = sorted({str(result.test) for result in self.columns.values()})
        return "per feature: " + ", ".join(tests) if tests else "-"


Result = ProportionComparison | MeanComparison | InputDrift


@dataclass(frozen=True)
class Comparison:
    key: str  # "accuracy", "thumbs_up", "kpi:<name>", "error_rate", "latency", "drift"
    label: str
    result: Result
    guarding: bool  # the environment lists it in ``guarding_metrics``

    @property
    def worse(self) -> bool:
        return self.result.worse

    @property
    def blocks(self) -> bool:
        return self.guarding and self.worse

    @property
    def verdict(self) -> str:
        return self.result.verdict

    @property
    def values_text(self) -> str:
        return self.result.values_text

    @property
    def difference_text(self) -> str:
        return self.result.difference_text

    @property
    def test_text(self) -> str:
        return self.result.test_text


@dataclass(frozen=True)
class Window:
    new: int  # the release's version id
    old: int  # the replaced version's id
    model: int
    start: datetime
    end: datetime


def compare(release: ReleaseRequest, *, now: datetime | None = None) -> list[Comparison]:
    """Every comparison of a deployed canary or shadow release with the version it replaces;
    ValueError for another release, NoBaseline when it replaces nothing."""
    window = comparison_window(release, now or timezone.now())
    guarded = set(release.environment.guarding_metrics or [])
    found: list[tuple[str, str, Result]] = []
    found += _feedback_comparisons(window)
    found += _kpi_comparisons(window)
    found += _log_comparisons(window)
    drift = _input_drift(window, release.version.input_schema)
    if drift is not None:
        found.append(("drift", "Input drift", drift))
    return [
        Comparison(key=key, label=label, result=result, guarding=_guards(key, guarded))
        for key, label, result in found
    ]


def blocking_comparisons(
    release: ReleaseRequest, *, now: datetime | None = None
) -> list[Comparison]:
    """The comparisons that hold the next traffic step: guarding, and the canary worse."""
    try:
        return [c for c in compare(release, now=now) if c.blocks]
    except NoBaseline:
        return []  # a first release has nothing to be worse than


def comparison_window(release: ReleaseRequest, now: datetime) -> Window:
    """Since the release was deployed until now, or until it took all traffic or ended."""
    if release.strategy == Strategy.FULL:
        raise ValueError("A full release takes all traffic at once: there is no canary.")
    if release.deployed_at is None or release.state not in (State.DEPLOYED, State.ROLLED_BACK):
        raise ValueError("The release is not deployed yet: there is no live data.")
    if release.replaces_id is None:
        raise NoBaseline(
            f"Nothing ran in {release.environment} before this release: no version to compare with."
        )
    ends = [now]
    if release.finished_at is not None:
        ends.append(release.finished_at)
    if release.traffic_percent == 100:
        took_over = (
            CanaryStep.objects.filter(request=release, traffic_percent=100)
            .values_list("at", flat=True)
            .first()
        )
        ends += [took_over] if took_over else []
    return Window(
        new=release.version_id,
        old=release.replaces_id,
        model=release.version.model_id,
        start=release.deployed_at,
        end=min(ends),
    )


def _guards(key: str, guarded: set[str]) -> bool:
    return key in guarded or (key.startswith("kpi:") and key.removeprefix("kpi:") in guarded)


# Feedback -----------------------------------------------------------------------------------


def _feedback_comparisons(window: Window) -> list[tuple[str, str, Result]]:
    counts = _judgements(window)
    new, old = counts.get(window.new, {}), counts.get(window.old, {})
    found: list[tuple[str, str, Result]] = [
        (
            "accuracy",
            "Accuracy (feedback)",
            compare_proportions(
                successes_new=new.get("correct", 0),
                n_new=new.get("judged", 0),
                successes_old=old.get("correct", 0),
                n_old=old.get("judged", 0),
            ),
        )
    ]
    if new.get("thumbs") or old.get("thumbs"):
        found.append(
            (
                "thumbs_up",
                "Thumbs-up rate",
                compare_proportions(
                    successes_new=new.get("thumbs_up", 0),
                    n_new=new.get("thumbs", 0),
                    successes_old=old.get("thumbs_up", 0),
                    n_old=old.get("thumbs", 0),
                ),
            )
        )
    return found


def _judgements(window: Window) -> dict[int, dict[str, int]]:
    """Per version: feedback that judges a prediction of the window, and how much says right.

    A corrected label is compared with the label the logged prediction gave (found by model,
    prediction id and time, so PostgreSQL reads one month's partition)."""
    predicted = PredictionLog.objects.filter(
        model_id=OuterRef("model_id"),
        prediction_id=OuterRef("prediction_id"),
        predicted_at=OuterRef("prediction_key__predicted_at"),
    ).values("label")[:1]
    thumb, label = Q(kind=FeedbackKind.THUMBS), Q(kind=FeedbackKind.LABEL)
    rows = (
        Feedback.objects.filter(
            model_id=window.model,
            kind__in=JUDGING,
            # Feedback follows its prediction: this bounds the rows read by the inbox index.
            created_at__gte=window.start,
            prediction_key__version_id__in=(window.new, window.old),
            prediction_key__predicted_at__gte=window.start,
            prediction_key__predicted_at__lt=window.end,
        )
        .annotate(predicted=Subquery(predicted))
        .values(version=F("prediction_key__version_id"))
        .annotate(
            judged=Count("pk", filter=thumb | (label & Q(predicted__isnull=False))),
            correct=Count("pk", filter=(thumb & Q(score=UP)) | (label & Q(label=F("predicted")))),
            thumbs=Count("pk", filter=thumb),
            thumbs_up=Count("pk", filter=thumb & Q(score=UP)),
        )
        .order_by()
    )
    return {row.pop("version"): row for row in rows}


# Business outcomes --------------------------------------------------------------------------


def _kpi_comparisons(window: Window) -> list[tuple[str, str, Result]]:
    rows = (
        Outcome.objects.filter(
            model_id=window.model,
            prediction_key__version_id__in=(window.new, window.old),
            prediction_key__predicted_at__gte=window.start,
            prediction_key__predicted_at__lt=window.end,
        )
        .values("name", version=F("prediction_key__version_id"))
        .annotate(**_moments("value"))
        .order_by("name", "version")[: 2 * MAX_KPIS]
    )
    by_name: dict[str, dict[int, dict[str, Any]]] = {}
    for row in rows:
        by_name.setdefault(row["name"], {})[row["version"]] = _summary(row)
    return [
        (f"kpi:{name}", f"{name} (mean per prediction)", _means(sides, window))
        for name, sides in by_name.items()
    ]


def _moments(field: str) -> dict[str, Any]:
    """Count, sum and sum of squares of ``field`` (its non-null values). Not the database's
    VAR_SAMP: SQLite's (Django's Python aggregate) fails on a group of fewer than two."""
    value = F(field)
    return {"n": Count(field), "total": Sum(value), "squares": Sum(value * value)}


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with the mean and sample variance of its moments (None below two values)."""
    n, total, squares = row["n"], row["total"], row["squares"]
    mean = total / n if n else None
    var = max(squares - total * total / n, 0.0) / (n - 1) if n > 1 else None
    return {**row, "mean": mean, "var": var}


def _means(
    sides: dict[int, dict[str, Any]],
    window: Window,
    *,
    higher_is_better: bool = True,
    unit: str = "",
) -> MeanComparison:
    new, old = sides.get(window.new, {}), sides.get(window.old, {})
    return compare_mean_stats(
        mean_new=new.get("mean"),
        var_new=new.get("var"),
        n_new=new.get("n", 0),
        mean_old=old.get("mean"),
        var_old=old.get("var"),
        n_old=old.get("n", 0),
        higher_is_better=higher_is_better,
        unit=unit,
    )


# Prediction logs ----------------------------------------------------------------------------


def _log_comparisons(window: Window) -> list[tuple[str, str, Result]]:
    rows = (
        PredictionLog.objects.filter(
            version_id__in=(window.new, window.old),
            predicted_at__gte=window.start,
            predicted_at__lt=window.end,
        )
        .values("version_id")
        .annotate(
            logged=Count("pk"),
            violations=Count("pk", filter=Q(contract_violation=True)),
            **_moments("latency_ms"),
        )
        .order_by()
    )
    sides = {row["version_id"]: _summary(row) for row in rows}
    new, old = sides.get(window.new, {}), sides.get(window.old, {})
    errors = compare_proportions(
        successes_new=new.get("violations", 0),
        n_new=new.get("logged", 0),
        successes_old=old.get("violations", 0),
        n_old=old.get("logged", 0),
        higher_is_better=False,
    )
    latency = _means(sides, window, higher_is_better=False, unit="ms")
    return [
        ("error_rate", "Error rate (inputs breaking the contract)", errors),
        ("latency", "Latency (mean)", latency),
    ]


# Input drift --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    name: str
    path: tuple[str, ...]
    kind: ColumnKind


def _input_drift(window: Window, input_schema: Any) -> InputDrift | None:
    """None when the contract names no feature to compare."""
    features = [
        Feature(".".join(path), path, _kind(schema))
        for path, schema in contract_paths(input_schema)
    ][:MAX_DRIFT_COLUMNS]
    if not features:
        return None
    new = _sample(window, window.new, features)
    old = _sample(window, window.old, features)
    n_new, n_old = len(new), len(old)
    if min(n_new, n_old) < MIN_SAMPLES:
        verdict = f"{NOT_ENOUGH} at n = {n_new:,} / {n_old:,} (at least {MIN_SAMPLES} a side)"
        return InputDrift({}, None, n_new, n_old, worse=False, verdict=verdict)
    columns = {
        feature.name: column_drift(
            _values([row[i] for row in old], feature.kind),
            _values([row[i] for row in new], feature.kind),
            kind=feature.kind,
        )
        for i, feature in enumerate(features)
    }
    dataset = dataset_drift(columns)
    sizes = f"n = {n_new:,} / {n_old:,}"
    if dataset.drifted:
        names = ", ".join(dataset.drifted_columns)
        verdict = (
            f"drifted: {dataset.n_drifted} of {dataset.n_columns} features differ ({names}) "
            f"at {sizes}"
        )
    else:
        verdict = (
            f"no evidence of drift at {sizes} "
            f"({dataset.n_drifted} of {dataset.n_columns} features differ)"
        )
    return InputDrift(columns, dataset, n_new, n_old, worse=dataset.drifted, verdict=verdict)


def _kind(schema: Any) -> ColumnKind:
    return ColumnKind.NUMERIC if is_numeric(schema, booleans=False) else ColumnKind.CATEGORICAL


def _sample(window: Window, version_id: int, features: Sequence[Feature]) -> list[tuple[Any, ...]]:
    """The features of the version's newest predictions in the window, pulled out of the
    JSON by the database (one query, at most MAX_DRIFT_ROWS rows)."""
    aliases = {f"f{i}": _json_path(feature.path) for i, feature in enumerate(features)}
    rows = (
        PredictionLog.objects.filter(
            version_id=version_id, predicted_at__gte=window.start, predicted_at__lt=window.end
        )
        .order_by("-predicted_at")
        .annotate(**aliases)
        .values_list(*aliases)[:MAX_DRIFT_ROWS]
    )
    return list(rows)


def _json_path(path: tuple[str, ...]) -> KeyTransform:
    expression = KeyTransform(path[0], "features")
    for key in path[1:]:
        expression = KeyTransform(key, expression)
    return expression


def _values(values: list[Any], kind: ColumnKind) -> np.ndarray:
    """As the drift reports read logs: only JSON numbers count for a numeric feature, and a
    category is the value's text (``true`` / ``false`` for booleans)."""
    if kind == ColumnKind.NUMERIC:
        return np.array(
            [
                float(v) if isinstance(v, int | float) and not isinstance(v, bool) else np.nan
                for v in values
            ],
            dtype=np.float64,
        )
    return np.array([None if v is None else _text(v) for v in values], dtype=object)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
