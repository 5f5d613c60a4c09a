"""Read path of a model's feedback tab: predictions, contract violations and feedback per
day, each business outcome's daily mean per version, and the keys a product page may use
for the widget.

Five queries whatever the volume, each grouped in the database and bounded by the window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.db.models import Avg, Count, F, Q
from django.db.models.functions import TruncDate

from feedback.analysis import Window, rate_of
from feedback.models import ApiKey, Feedback, FeedbackKind, Outcome, PredictionLog, Scope
from feedback.slices import UP
from registry.models import ModelVersion, RegisteredModel

MAX_VERSIONS = 50  # versions listed, newest first
MAX_OUTCOME_ROWS = 5_000  # (name, version, day) means


@dataclass(frozen=True)
class VersionRow:
    version: str
    status: str
    status_label: str
    predictions: int
    violations: int


@dataclass(frozen=True)
class DayActivity:
    day: date
    predictions: int = 0
    violations: int = 0
    feedback: int = 0
    thumbs: int = 0
    thumbs_up: int = 0

    @property
    def thumbs_up_rate(self) -> float | None:
        return rate_of(self.thumbs_up, self.thumbs)


@dataclass(frozen=True)
class OutcomeLine:
    version: str
    days: list[date]
    means: list[float]
    counts: list[int]


@dataclass(frozen=True)
class OutcomeTrend:
    name: str
    lines: list[OutcomeLine]


@dataclass(frozen=True)
class BrowserKey:
    name: str
    prefix: str
    origins: list[str]
    for_every_model: bool


@dataclass(frozen=True)
class ModelFeedback:
    model: RegisteredModel
    window: Window
    versions: list[VersionRow]
    days: list[DayActivity]
    feedback_by_kind: list[tuple[str, str, int]]  # (kind, its label, count)
    outcomes: list[OutcomeTrend]
    keys: list[BrowserKey]

    @property
    def predictions(self) -> int:
        return sum(day.predictions for day in self.days)

    @property
    def violations(self) -> int:
        return sum(day.violations for day in self.days)

    @property
    def feedback(self) -> int:
        return sum(day.feedback for day in self.days)

    @property
    def thumbs(self) -> int:
        return sum(day.thumbs for day in self.days)

    @property
    def thumbs_up_rate(self) -> float | None:
        return rate_of(sum(day.thumbs_up for day in self.days), self.thumbs)


def model_feedback(model: RegisteredModel, window: Window) -> ModelFeedback:
    """Everything the feedback tab shows, in five queries."""
    logged = _predictions_by_version_and_day(model, window)
    given = _feedback_by_day(model, window)
    days = []
    for day in window.dates:
        predictions = [row for (_, d), row in logged.items() if d == day]
        kinds = given.get(day, {})
        days.append(
            DayActivity(
                day=day,
                predictions=sum(row["n"] for row in predictions),
                violations=sum(row["violations"] for row in predictions),
                feedback=kinds.get("total", 0),
                thumbs=kinds.get(FeedbackKind.THUMBS, 0),
                thumbs_up=kinds.get("up", 0),
            )
        )
    by_kind = [
        (kind, str(label), sum(day.get(kind, 0) for day in given.values()))
        for kind, label in FeedbackKind.choices
    ]
    return ModelFeedback(
        model=model,
        window=window,
        versions=_versions(model, logged),
        days=days,
        feedback_by_kind=by_kind,
        outcomes=outcome_trends(model, window),
        keys=browser_keys(model),
    )


def _predictions_by_version_and_day(
    model: RegisteredModel, window: Window
) -> dict[tuple[int, date], dict[str, int]]:
    rows = (
        PredictionLog.objects.filter(
            model=model, predicted_at__gte=window.start, predicted_at__lt=window.end
        )
        .annotate(day=TruncDate("predicted_at"))
        .values("version_id", "day")
        .annotate(n=Count("pk"), violations=Count("pk", filter=Q(contract_violation=True)))
        .order_by()
    )
    return {(row["version_id"], row["day"]): row for row in rows}


def _feedback_by_day(model: RegisteredModel, window: Window) -> dict[date, dict[str, int]]:
    """Feedback given in the window, per day: the total, each kind, and thumbs up."""
    kinds = {kind: Count("pk", filter=Q(kind=kind)) for kind in FeedbackKind.values}
    rows = (
        Feedback.objects.filter(
            model=model, created_at__gte=window.start, created_at__lt=window.end
        )
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            total=Count("pk"),
            up=Count("pk", filter=Q(kind=FeedbackKind.THUMBS, score=UP)),
            **kinds,
        )
        .order_by()
    )
    return {row.pop("day"): row for row in rows}


def _versions(
    model: RegisteredModel, logged: Mapping[tuple[int, date], Mapping[str, int]]
) -> list[VersionRow]:
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for (version_id, _), row in logged.items():
        totals[version_id][0] += row["n"]
        totals[version_id][1] += row["violations"]
    versions = ModelVersion.objects.filter(model=model).order_by("-sort_key")
    return [
        VersionRow(
            version=v.version,
            status=v.status,
            status_label=v.get_status_display(),
            predictions=totals[v.pk][0],
            violations=totals[v.pk][1],
        )
        for v in versions.only("version", "status", "sort_key")[:MAX_VERSIONS]
    ]


def outcome_trends(model: RegisteredModel, window: Window) -> list[OutcomeTrend]:
    """Each outcome's daily mean per version (by the day it happened), versions in semver
    order; outcomes of predictions not logged yet have no version and are left out."""
    rows = (
        Outcome.objects.filter(
            model=model,
            happened_at__gte=window.start,
            happened_at__lt=window.end,
            prediction_key__isnull=False,
        )
        .annotate(
            day=TruncDate("happened_at"),
            version=F("prediction_key__version__version"),
            sort_key=F("prediction_key__version__sort_key"),
        )
        .values("name", "sort_key", "version", "day")
        .annotate(mean=Avg("value"), n=Count("pk"))
        .order_by("name", "sort_key", "day")[:MAX_OUTCOME_ROWS]
    )
    lines: dict[str, dict[str, OutcomeLine]] = defaultdict(dict)
    for row in rows:
        line = lines[row["name"]].setdefault(
            row["version"], OutcomeLine(version=row["version"], days=[], means=[], counts=[])
        )
        line.days.append(row["day"])
        line.means.append(float(row["mean"]))
        line.counts.append(row["n"])
    return [
        OutcomeTrend(name=name, lines=list(by_version.values()))
        for name, by_version in lines.items()
    ]


def browser_keys(model: RegisteredModel) -> list[BrowserKey]:
    """Active keys a product page may use for the model's widget: feedback scope and at
    least one allowed origin. Prefixes only; the secret was shown once, at creation."""
    keys = (
        ApiKey.objects.filter(team_id=model.team_id, revoked_at__isnull=True)
        .filter(Q(model=model) | Q(model__isnull=True))
        .exclude(allowed_origins=[])
        .only("name", "prefix", "scopes", "allowed_origins", "model_id")
    )
    return [
        BrowserKey(
            name=key.name,
            prefix=key.prefix,
            origins=list(key.allowed_origins),
            for_every_model=key.model_id is None,
        )
        for key in keys
        if Scope.FEEDBACK in key.scopes and key.allowed_origins
    ]
