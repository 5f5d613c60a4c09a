"""Worst slices of a version's judged predictions by one input feature.

Numeric features are cut into quantile bins, anything else is sliced by value; each slice
shows how many judged predictions it holds and how many of them feedback called wrong (a
thumb down, or a corrected label other than the predicted one), worst first. The feature's
name comes from the page's own list (the contract's and the newest prediction's features)
and reaches SQL only as a bound parameter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast

from feedback.models import Feedback, FeedbackKind, PredictionLog
from portal.text import is_number
from registry.models import ModelVersion

if TYPE_CHECKING:
    from feedback.analysis import Window

JUDGING = (FeedbackKind.THUMBS, FeedbackKind.LABEL)  # the kinds that say right or wrong
UP, DOWN = 1.0, 0.0  # a thumb's score
MIN_COUNTS = (1, 5, 10, 20, 50, 100)  # the fewest judged predictions a slice needs
DEFAULT_MIN_COUNT = 10
QUANTILE_BINS = 5  # numeric features are cut into quintiles
MAX_SLICES = 20
MAX_FEATURES = 200  # features offered for slicing
MISSING = "(missing)"


@dataclass(frozen=True)
class Slice:
    label: str
    count: int
    incorrect: int

    @property
    def rate(self) -> float:
        return self.incorrect / self.count if self.count else 0.0


@dataclass(frozen=True)
class Slices:
    feature: str
    numeric: bool
    min_count: int
    rows: list[Slice]


def min_count_from(value: str | None) -> int:
    if value and is_number(value) and int(value) in MIN_COUNTS:
        return int(value)
    return DEFAULT_MIN_COUNT


def feature_choices(version: ModelVersion, window: Window) -> tuple[list[str], dict[str, Any]]:
    """The features a page may slice by (the input contract's, then the newest prediction's
    by name), and that prediction's features as a sample of their types."""
    newest = (
        PredictionLog.objects.filter(
            version=version, predicted_at__gte=window.start, predicted_at__lt=window.end
        )
        .order_by("-predicted_at")
        .values_list("features", flat=True)
        .first()
    )
    sample: dict[str, Any] = newest if isinstance(newest, dict) else {}
    properties = (version.input_schema or {}).get("properties")
    named = list(properties) if isinstance(properties, dict) else []
    names = list(dict.fromkeys([*named, *sorted(sample)]))
    return [str(name) for name in names][:MAX_FEATURES], sample


def is_numeric(version: ModelVersion, feature: str, sample: Mapping[str, Any]) -> bool:
    """Whether the contract (or, without one, the sample) says ``feature`` is a number."""
    properties = (version.input_schema or {}).get("properties")
    spec = properties.get(feature) if isinstance(properties, dict) else None
    if isinstance(spec, dict) and "type" in spec and "enum" not in spec:
        kinds = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
        return bool({"number", "integer"} & set(kinds))
    value = sample.get(feature)
    return isinstance(value, int | float) and not isinstance(value, bool)


def worst_slices(
    version: ModelVersion,
    window: Window,
    features: list[str],
    sample: Mapping[str, Any],
    feature: str = "",
    min_count: int = DEFAULT_MIN_COUNT,
) -> Slices | None:
    """The slices of judged predictions by ``feature`` (the first one when it is not one of
    ``features``), worst first, each of at least ``min_count``; None without features."""
    chosen = feature if feature in features else (features[0] if features else "")
    if not chosen:
        return None
    judged = _judged_predictions(version, window)
    numeric = is_numeric(version, chosen, sample)
    rows = (
        _numeric_slices(judged, chosen, min_count)
        if numeric
        else _categorical_slices(judged, chosen, min_count)
    )
    return Slices(feature=chosen, numeric=numeric, min_count=min_count, rows=rows)


def slice_table(
    version: ModelVersion, window: Window, *, feature: str = "", min_count: int = DEFAULT_MIN_COUNT
) -> tuple[list[str], Slices | None]:
    """The features on offer and the worst slices by the chosen one, in two queries."""
    features, sample = feature_choices(version, window)
    return features, worst_slices(version, window, features, sample, feature, min_count)


def _judged_predictions(version: ModelVersion, window: Window) -> QuerySet[PredictionLog]:
    """The version's predictions in the window that feedback judged, each with ``wrong``:
    1 when a thumb down or another label says it was wrong, else 0."""
    judging = Feedback.objects.filter(
        model_id=version.model_id, kind__in=JUDGING, created_at__gte=window.start
    )
    says_wrong = judging.filter(
        model_id=OuterRef("model_id"), prediction_id=OuterRef("prediction_id")
    ).filter(
        Q(kind=FeedbackKind.THUMBS, score=DOWN)
        | (Q(kind=FeedbackKind.LABEL) & ~Q(label=OuterRef("label")))
    )
    return PredictionLog.objects.filter(
        version=version,
        predicted_at__gte=window.start,
        predicted_at__lt=window.end,
        prediction_id__in=judging.values("prediction_id"),
    ).annotate(wrong=Case(When(Exists(says_wrong), then=Value(1)), default=Value(0)))


def _categorical_slices(
    judged: QuerySet[PredictionLog], feature: str, min_count: int
) -> list[Slice]:
    rows = (
        judged.annotate(slice=JsonText("features", feature))
        .values("slice")
        .annotate(n=Count("pk"), bad=Count("pk", filter=Q(wrong=1)))
        .filter(n__gte=min_count)
        .annotate(rate=Cast(F("bad"), FloatField()) / F("n"))
        .order_by("-rate", "-n", "slice")[:MAX_SLICES]
    )
    return [
        Slice(
            label=MISSING if row["slice"] is None else str(row["slice"]),
            count=row["n"],
            incorrect=row["bad"],
        )
        for row in rows
    ]


# Quantile bins in one statement: NTILE splits the judged values into equal-count tiles, each
# tile's highest value is a cut, and a value goes to the lowest cut at or above it, so equal
# values always share a bin. Values that are not numbers (or missing) form one more slice.
_QUANTILE_SLICES = """
WITH judged AS ({inner}),
tiles AS (SELECT x, NTILE(%s) OVER (ORDER BY x) AS tile FROM judged WHERE x IS NOT NULL),
cuts AS (SELECT MAX(x) AS upper FROM tiles GROUP BY tile),
binned AS (
    SELECT (SELECT MIN(c.upper) FROM cuts c WHERE c.upper >= j.x) AS upper, j.x, j.wrong
    FROM judged j
)
SELECT MIN(x), MAX(x), COUNT(*), SUM(wrong) FROM binned
GROUP BY upper
HAVING COUNT(*) >= %s
ORDER BY SUM(wrong) * 1.0 / COUNT(*) DESC, COUNT(*) DESC, MIN(x)
LIMIT %s
"""


def _numeric_slices(judged: QuerySet[PredictionLog], feature: str, min_count: int) -> list[Slice]:
    inner = judged.annotate(x=JsonNumber("features", feature)).values("x", "wrong")
    sql, params = inner.query.get_compiler(using=inner.db).as_sql()
    with connection.cursor() as cursor:
        # The inner statement is the ORM's, with its own placeholders; nothing is formatted
        # into SQL from the request.
        cursor.execute(
            _QUANTILE_SLICES.format(inner=sql),
            [*params, QUANTILE_BINS, min_count, MAX_SLICES],
        )
        found = cursor.fetchall()
    return [
        Slice(label=_range(low, high), count=int(n), incorrect=int(bad or 0))
        for low, high, n, bad in found
    ]


def _range(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return f"{MISSING} or not a number"
    if low == high:
        return f"{low:.4g}"
    return f"{low:.4g} to {high:.4g}"


# -- Reading a JSON feature on both databases ---------------------------------------------


class JsonNumber(Func):
    """``field[key]`` as a float when it is a JSON number, else NULL (never a cast error:
    a prediction that broke its contract may hold text where a number belongs)."""

    output_field = FloatField()

    def __init__(self, field: str, key: str) -> None:
        super().__init__(F(field))
        self.key = key

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        path = _sqlite_path(self.key)
        sql = (
            f"(CASE WHEN json_type({column}, %s) IN ('integer', 'real') "
            f"THEN json_extract({column}, %s) END)"
        )
        return sql, (*params, path, *params, path)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"(CASE WHEN jsonb_typeof({column} -> %s) = 'number' "
            f"THEN ({column} ->> %s)::double precision END)"
        )
        return sql, (*params, self.key, *params, self.key)


class JsonText(Func):
    """``field[key]`` as text (JSON ``true`` as ``true`` on both databases), NULL when the
    key is missing or null."""

    output_field = CharField()

    def __init__(self, field: str, key: str) -> None:
        super().__init__(F(field))
        self.key = key

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        path = _sqlite_path(self.key)
        sql = (
            f"(CASE json_type({column}, %s) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
            f"WHEN 'null' THEN NULL ELSE CAST(json_extract({column}, %s) AS TEXT) END)"
        )
        return sql, (*params, path, *params, path)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        column, params = compiler.compile(self.source_expressions[0])
        return f"({column} ->> %s)", (*params, self.key)


def _sqlite_path(key: str) -> str:
    # A key in a JSON path, quoted as Django quotes one; it is a bound parameter, never SQL.
    return "$." + json.dumps(key)
