"""Read paths of a version's error analysis: feedback-based accuracy and thumbs-up rate per
day, the confusion matrix of predicted and corrected labels, regression residuals and the
worst slices (``feedback.slices``).

Every figure is aggregated in the database (GROUP BY with conditional counts), so the page
runs the same handful of queries however many predictions and pieces of feedback there are,
and reads only the window it shows (predictions made in the last 7, 30 or 90 days).

Feedback is tied to what was predicted through its ``PredictionKey`` (the version and the
prediction's time) and the log row with the same (model, prediction id, time): the time
lets PostgreSQL look in one month's partition of the log only.

A piece of feedback *judges* its prediction when it is a thumb (up: correct, down: wrong)
or a corrected label (the same as the predicted label: correct, another: wrong).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import (
    Avg,
    Count,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Abs, Cast, Floor, Least, TruncDate
from django.utils import timezone

from feedback.models import Feedback, FeedbackKind, PredictionLog
from feedback.slices import (
    DEFAULT_MIN_COUNT,
    JUDGING,
    UP,
    Slices,
    slice_table,
)
from portal.text import is_number
from registry.choices import TaskType
from registry.models import ModelVersion, RegisteredModel

WINDOWS = (7, 30, 90)  # days a page may show; the query string picks one
DEFAULT_WINDOW = 30
MAX_LABELS = 20  # labels on each axis of the confusion matrix; the rest are "(other)"
MAX_LABEL_PAIRS = 2_000
HISTOGRAM_BINS = 30
SCATTER_POINTS = 2_000  # the newest residuals plotted one by one
OTHER = "(other)"


# -- The window ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Whole days up to today, in the site's time zone: ``start`` ≤ t < ``end``."""

    days: int
    start: datetime
    end: datetime

    @classmethod
    def last(cls, days: int, now: datetime) -> Window:
        today = timezone.localdate(now)
        first = today - timedelta(days=days - 1)
        zone = timezone.get_current_timezone()
        start = datetime.combine(first, time.min, tzinfo=zone)
        end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
        return cls(days=days, start=start, end=end)

    @property
    def dates(self) -> list[date]:
        first = timezone.localdate(self.start)
        return [first + timedelta(days=offset) for offset in range(self.days)]


def window_from(value: str | None, now: datetime) -> Window:
    """The window a query string asks for (``days=7``), the default for anything else."""
    days = int(value) if value and is_number(value) and int(value) in WINDOWS else DEFAULT_WINDOW
    return Window.last(days, now)


def rate_of(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# -- What was predicted, for a piece of feedback ------------------------------------------


def _logged(field: str) -> Subquery:
    """``field`` of the logged prediction a piece of feedback is about."""
    log = PredictionLog.objects.filter(
        model_id=OuterRef("model_id"),
        prediction_id=OuterRef("prediction_id"),
        predicted_at=OuterRef("prediction_key__predicted_at"),
    )
    return Subquery(log.values(field)[:1])


def _feedback_on(version: ModelVersion, window: Window) -> QuerySet[Feedback]:
    """Feedback on the version's predictions made in the window.

    Feedback comes after its prediction, so ``created_at`` bounds the rows read through the
    (model, -created_at) index as well.
    """
    return Feedback.objects.filter(
        model_id=version.model_id,
        created_at__gte=window.start,
        prediction_key__version=version,
        prediction_key__predicted_at__gte=window.start,
        prediction_key__predicted_at__lt=window.end,
    )


def _is_right() -> Q:
    """Feedback calling its prediction right (on a queryset annotated with ``predicted``)."""
    return Q(kind=FeedbackKind.THUMBS, score=UP) | Q(kind=FeedbackKind.LABEL, label=F("predicted"))


# -- A version's error analysis -----------------------------------------------------------


@dataclass(frozen=True)
class DayJudgement:
    day: date
    judged: int = 0
    correct: int = 0
    thumbs: int = 0
    thumbs_up: int = 0

    @property
    def accuracy(self) -> float | None:
        return rate_of(self.correct, self.judged)

    @property
    def thumbs_up_rate(self) -> float | None:
        return rate_of(self.thumbs_up, self.thumbs)


@dataclass(frozen=True)
class Confusion:
    """Counts of corrected labels by predicted label; both axes list the same labels."""

    labels: list[str]
    counts: list[list[int]]  # counts[predicted][corrected]

    @property
    def total(self) -> int:
        return sum(sum(row) for row in self.counts)

    @property
    def agreed(self) -> int:
        return sum(self.counts[i][i] for i in range(len(self.labels)) if self.labels[i] != OTHER)


@dataclass(frozen=True)
class Residuals:
    """Predicted minus corrected values: summary, a histogram and the newest points."""

    count: int
    mean: float
    mae: float
    rmse: float
    edges: list[float]  # HISTOGRAM_BINS + 1
    counts: list[int]
    points: list[tuple[float, float]]  # (predicted, residual), newest first


@dataclass(frozen=True)
class VersionAnalysis:
    version: ModelVersion
    window: Window
    days: list[DayJudgement]
    confusion: Confusion | None  # None for a regression model
    residuals: Residuals | None  # None for a classifier
    features: list[str]
    slices: Slices | None  # None when no feature is chosen or known

    @property
    def judged(self) -> int:
        return sum(day.judged for day in self.days)

    @property
    def accuracy(self) -> float | None:
        return rate_of(sum(day.correct for day in self.days), self.judged)

    @property
    def thumbs(self) -> int:
        return sum(day.thumbs for day in self.days)

    @property
    def thumbs_up_rate(self) -> float | None:
        return rate_of(sum(day.thumbs_up for day in self.days), self.thumbs)


def shows_labels(model: RegisteredModel) -> bool:
    return model.task_type != TaskType.REGRESSION


def shows_values(model: RegisteredModel) -> bool:
    return model.task_type in (TaskType.REGRESSION, TaskType.OTHER)


def analyse_version(
    version: ModelVersion, window: Window, *, feature: str = "", min_count: int = DEFAULT_MIN_COUNT
) -> VersionAnalysis:
    """Everything the analysis page shows, in at most seven queries."""
    model = version.model
    features, table = slice_table(version, window, feature=feature, min_count=min_count)
    return VersionAnalysis(
        version=version,
        window=window,
        days=daily_judgements(version, window),
        confusion=confusion(version, window) if shows_labels(model) else None,
        residuals=residuals(version, window) if shows_values(model) else None,
        features=features,
        slices=table,
    )


def daily_judgements(version: ModelVersion, window: Window) -> list[DayJudgement]:
    """Feedback-based accuracy and thumbs-up counts per day of prediction, every day of the
    window (days without feedback count zero)."""
    rows = (
        _feedback_on(version, window)
        .filter(kind__in=JUDGING)
        .annotate(predicted=_logged("label"), day=TruncDate("prediction_key__predicted_at"))
        .values("day")
        .annotate(
            judged=Count(
                "pk",
                filter=Q(kind=FeedbackKind.THUMBS)
                | Q(kind=FeedbackKind.LABEL, predicted__isnull=False),
            ),
            correct=Count("pk", filter=_is_right()),
            thumbs=Count("pk", filter=Q(kind=FeedbackKind.THUMBS)),
            thumbs_up=Count("pk", filter=Q(kind=FeedbackKind.THUMBS, score=UP)),
        )
        .order_by("day")
    )
    found = {}
    for row in rows:
        day = row.pop("day")
        found[day] = DayJudgement(day=day, **row)
    return [found.get(day) or DayJudgement(day=day) for day in window.dates]


def confusion(version: ModelVersion, window: Window) -> Confusion:
    """Predicted label against corrected label, one cell per pair seen."""
    pairs = (
        _feedback_on(version, window)
        .filter(kind=FeedbackKind.LABEL)
        .annotate(predicted=_logged("label"))
        .filter(predicted__isnull=False)
        .values("predicted", "label")
        .annotate(n=Count("pk"))
        .order_by("-n", "predicted", "label")[:MAX_LABEL_PAIRS]
    )
    return confusion_of([(row["predicted"], row["label"], row["n"]) for row in pairs])


def confusion_of(pairs: Iterable[tuple[str, str, int]]) -> Confusion:
    """The matrix of (predicted, corrected, count) triples; the most frequent labels by name,
    the rest together as "(other)"."""
    pairs = list(pairs)
    seen: dict[str, int] = defaultdict(int)
    for predicted, corrected, n in pairs:
        seen[predicted] += n
        seen[corrected] += n
    kept = sorted(sorted(seen, key=lambda label: (-seen[label], label))[:MAX_LABELS])
    labels = kept + ([OTHER] if len(seen) > len(kept) else [])
    place = {label: index for index, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for predicted, corrected, n in pairs:
        row, column = place.get(predicted, len(kept)), place.get(corrected, len(kept))
        counts[row][column] += n
    return Confusion(labels=labels, counts=counts)


def residuals(version: ModelVersion, window: Window) -> Residuals | None:
    """Predicted minus corrected value of each value correction; None when there is none."""
    corrected = (
        _feedback_on(version, window)
        .filter(kind=FeedbackKind.VALUE, score__isnull=False)
        .annotate(predicted=_logged("value"))
        .filter(predicted__isnull=False)
        .annotate(residual=F("predicted") - F("score"))
    )
    stats = corrected.aggregate(
        n=Count("pk"),
        low=Min("residual"),
        high=Max("residual"),
        mean=Avg("residual"),
        mae=Avg(Abs("residual")),
        mse=Avg(F("residual") * F("residual")),
    )
    if not stats["n"]:
        return None
    low, high = float(stats["low"]), float(stats["high"])
    edges, counts = _histogram(corrected, low, high)
    points = corrected.order_by("-created_at", "-pk").values_list("predicted", "residual")
    return Residuals(
        count=stats["n"],
        mean=float(stats["mean"]),
        mae=float(stats["mae"]),
        rmse=math.sqrt(max(float(stats["mse"]), 0.0)),
        edges=edges,
        counts=counts,
        points=[(float(p), float(r)) for p, r in points[:SCATTER_POINTS]],
    )


def _histogram(
    corrected: QuerySet[Feedback], low: float, high: float
) -> tuple[list[float], list[int]]:
    """Equal-width bins from ``low`` to ``high`` (a unit around a single value), counted
    in the database."""
    if high <= low:
        low, high = low - 0.5, high + 0.5
    width = (high - low) / HISTOGRAM_BINS
    bins = (
        corrected.annotate(
            bin=Least(
                Cast(Floor((F("residual") - Value(low)) / Value(width)), IntegerField()),
                Value(HISTOGRAM_BINS - 1),
            )
        )
        .values("bin")
        .annotate(n=Count("pk"))
        .order_by("bin")
    )
    counts = [0] * HISTOGRAM_BINS
    for row in bins:
        counts[min(max(int(row["bin"]), 0), HISTOGRAM_BINS - 1)] += row["n"]
    return [low + width * index for index in range(HISTOGRAM_BINS + 1)], counts
