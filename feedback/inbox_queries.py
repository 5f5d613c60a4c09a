"""Read paths of the feedback inbox: a constant number of queries however much feedback there is.

- a page is one keyset query over (created_at, id), newest first, so no query counts or
  skips the whole table; the predictions its rows are about come in one more query, found
  through their ``PredictionKey`` (model, prediction id and time: on PostgreSQL only the
  partitions of those times are read); the backlog items filed about the rows in one more;
- the CSV export streams the filtered rows, up to a cap, in chunks: a query per chunk for
  the feedback and one for its predictions.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from itertools import islice
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from feedback.models import Feedback, FeedbackKind, PredictionLog
from portal.backlog.models import BacklogItem, ItemLink
from portal.spreadsheets import csv_safe
from portal.text import is_number

PAGE_SIZE = 50
FEATURES_SHOWN = 4  # a row shows this many features; the prediction's page shows them all
VALUE_SHOWN = 60  # characters of a feature's value in a row
CSV_CHUNK = 500
CSV_MAX_ROWS = 50_000  # an export stops here; a narrower filter gets the rest
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PREDICTION_FIELDS = (
    *("id", "model_id", "prediction_id", "predicted_at", "features", "output"),
    *("label", "value", "latency_ms", "contract_violation"),
)


def inbox_queryset(feedback: QuerySet[Feedback]) -> QuerySet[Feedback]:
    """Feedback with what a row shows beside it: its model, version and people."""
    return feedback.select_related(
        "model", "prediction_key__version", "given_by", "reviewed_by"
    ).order_by("-created_at", "-pk")


# Keyset pagination --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A row's place in the newest-first order, as ``<microseconds since 1970>.<id>``."""

    created_at: datetime
    pk: int

    @classmethod
    def of(cls, feedback: Feedback) -> Cursor:
        return cls(feedback.created_at, feedback.pk)

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        """The cursor ``text`` names; None for anything else (the newest page is shown)."""
        micros, _, pk = text.partition(".")
        if not (is_number(micros) and is_number(pk)):
            return None
        try:
            return cls(EPOCH + timedelta(microseconds=int(micros)), int(pk))
        except OverflowError:
            return None

    def __str__(self) -> str:
        return f"{(self.created_at - EPOCH) // timedelta(microseconds=1)}.{self.pk}"


# A row --------------------------------------------------------------------------------------


def shown_value(value: Any, longest: int | None = None) -> str:
    """A feature or output value as text: strings as they are, anything else as JSON."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if longest is not None and len(text) > longest:
        return text[: longest - 1] + "…"
    return text


def flat_features(features: Any, depth: int = 3) -> Iterator[tuple[str, Any]]:
    """(dotted name, value) of each feature, objects opened up to ``depth`` levels deep:
    ``{"chemistry": {"ash": 1.8}}`` gives ``("chemistry.ash", 1.8)``."""
    if not isinstance(features, dict):
        return
    for name, value in features.items():
        if isinstance(value, dict) and value and depth > 1:
            for inner, leaf in flat_features(value, depth - 1):
                yield f"{name}.{inner}", leaf
        else:
            yield str(name), value


def number(value: float) -> str:
    """A number as people read it: 4, 42.5, 0.125 (up to ten significant digits)."""
    return f"{value:.10g}"


def predicted(log: PredictionLog) -> str:
    """What the model said: its label (with the label's probability) or its value."""
    if log.label:
        probabilities = log.output.get("probabilities")
        chance = probabilities.get(log.label) if isinstance(probabilities, dict) else None
        if isinstance(chance, int | float) and not isinstance(chance, bool):
            return f"{log.label} ({chance:.0%})"
        return log.label
    if log.value is not None:
        return number(log.value)
    return shown_value(log.output, VALUE_SHOWN)


def said(feedback: Feedback) -> str:
    """What the feedback says, in a few words: 👍, "rated 4/5", "should be churn"."""
    if feedback.kind == FeedbackKind.THUMBS:
        return "Thumbs up" if feedback.score == 1 else "Thumbs down"
    if feedback.kind == FeedbackKind.RATING and feedback.score is not None:
        return f"Rated {number(feedback.score)} of 5"
    if feedback.kind == FeedbackKind.LABEL:
        return f"Should be “{feedback.label}”"
    if feedback.kind == FeedbackKind.VALUE and feedback.score is not None:
        return f"Should be {number(feedback.score)}"
    return "Comment"


@dataclass(frozen=True)
class FiledItem:
    pk: int
    title: str
    url: str


@dataclass(frozen=True)
class Row:
    feedback: Feedback
    prediction: PredictionLog | None
    items: list[FiledItem] = field(default_factory=list)

    @property
    def said(self) -> str:
        return said(self.feedback)

    @property
    def features(self) -> list[tuple[str, str]]:
        """The first few features (all of them on the prediction's page)."""
        shown = islice(self._all_features, FEATURES_SHOWN)
        return [(name, shown_value(value, VALUE_SHOWN)) for name, value in shown]

    @property
    def more_features(self) -> int:
        return max(0, len(self._all_features) - FEATURES_SHOWN)

    @cached_property
    def _all_features(self) -> list[tuple[str, Any]]:
        return list(flat_features(self.prediction.features)) if self.prediction else []

    @property
    def predicted(self) -> str:
        return predicted(self.prediction) if self.prediction is not None else ""

    @property
    def agrees(self) -> bool | None:
        """Whether a corrected label is what the model said; None for any other feedback."""
        if self.feedback.kind != FeedbackKind.LABEL or self.prediction is None:
            return None
        return self.feedback.label == self.prediction.label


def predictions_of(feedback: Iterable[Feedback]) -> dict[int, PredictionLog]:
    """The logged prediction of each piece of feedback (by feedback id), in one query."""
    keyed = [f for f in feedback if f.prediction_key is not None]
    if not keyed:
        return {}
    keys = [f.prediction_key for f in keyed if f.prediction_key is not None]
    logs = PredictionLog.objects.filter(
        model_id__in={k.model_id for k in keys},
        prediction_id__in={k.prediction_id for k in keys},
        predicted_at__in={k.predicted_at for k in keys},
    ).only(*PREDICTION_FIELDS)
    by_identity = {(log.model_id, log.prediction_id): log for log in logs}
    found = {}
    for f in keyed:
        key = f.prediction_key
        log = by_identity.get((f.model_id, f.prediction_id))
        if key is not None and log is not None and log.predicted_at == key.predicted_at:
            found[f.pk] = log
    return found


def items_about(feedback: Iterable[Feedback]) -> dict[int, list[FiledItem]]:
    """The backlog items filed about each piece of feedback (by feedback id), in one query."""
    ids = [str(f.pk) for f in feedback]
    if not ids:
        return {}
    links = (
        ItemLink.objects.filter(
            target_type=ContentType.objects.get_for_model(Feedback), target_id__in=ids
        )
        .select_related("item")
        .only("target_id", "item__id", "item__title")
        .order_by("item_id")
    )
    found: dict[int, list[FiledItem]] = defaultdict(list)
    for link in links:
        item: BacklogItem = link.item
        found[int(link.target_id)].append(
            FiledItem(pk=item.pk, title=item.title, url=item.get_absolute_url())
        )
    return found


def rows_of(feedback: list[Feedback]) -> list[Row]:
    logs = predictions_of(feedback)
    items = items_about(feedback)
    return [Row(f, logs.get(f.pk), items.get(f.pk, [])) for f in feedback]


# A page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxPage:
    rows: list[Row]
    newer: str = ""  # the cursor of the page before (newer feedback); "" on the newest page
    older: str = ""  # the cursor of the page after; "" on the oldest page
    paged: bool = False  # a cursor was asked for: the page may be past the newest


def inbox_page(feedback: QuerySet[Feedback], *, after: str = "", before: str = "") -> InboxPage:
    """A page of (filtered) ``feedback``, newest first: after the row ``after`` names, or just
    before the row ``before`` names. Three queries at most, whatever the table's size."""
    rows = inbox_queryset(feedback)
    newer_than, older_than = Cursor.parse(before), Cursor.parse(after)
    if newer_than is not None:
        found = list(
            rows.filter(
                Q(created_at__gt=newer_than.created_at)
                | Q(created_at=newer_than.created_at, pk__gt=newer_than.pk)
            ).order_by("created_at", "pk")[: PAGE_SIZE + 1]
        )
        shown = found[:PAGE_SIZE][::-1]
        more_newer, more_older = len(found) > PAGE_SIZE, True
    else:
        if older_than is not None:
            rows = rows.filter(
                Q(created_at__lt=older_than.created_at)
                | Q(created_at=older_than.created_at, pk__lt=older_than.pk)
            )
        found = list(rows[: PAGE_SIZE + 1])
        shown = found[:PAGE_SIZE]
        more_newer, more_older = older_than is not None, len(found) > PAGE_SIZE
    return InboxPage(
        rows=rows_of(shown),
        newer=str(Cursor.of(shown[0])) if shown and more_newer else "",
        older=str(Cursor.of(shown[-1])) if shown and more_older else "",
        paged=newer_than is not None or older_than is not None,
    )


# The CSV export -----------------------------------------------------------------------------

CSV_COLUMNS = (
    *("feedback id", "given at", "model", "version", "prediction id", "kind", "score"),
    *("corrected label", "comment", "source", "given by", "reviewed at", "reviewed by"),
    *("predicted at", "predicted label", "predicted value", "features"),
)


def csv_rows(feedback: QuerySet[Feedback], limit: int = CSV_MAX_ROWS) -> Iterator[list[str]]:
    """The header, then a row per piece of (filtered) ``feedback``, at most ``limit``."""
    yield list(CSV_COLUMNS)
    rows = inbox_queryset(feedback)[:limit].iterator(chunk_size=CSV_CHUNK)
    while chunk := list(islice(rows, CSV_CHUNK)):
        logs = predictions_of(chunk)
        for f in chunk:
            yield _csv_cells(f, logs.get(f.pk))


def _csv_cells(f: Feedback, log: PredictionLog | None) -> list[str]:
    """A row; text that people or clients wrote starts with a quote where a spreadsheet
    would run it as a formula (numbers and times are ours, and stay numbers)."""
    key = f.prediction_key
    return [
        str(f.pk),
        f.created_at.isoformat(timespec="seconds"),
        f.model.name,
        csv_safe(key.version.version) if key is not None else "",
        csv_safe(f.prediction_id),
        f.kind,
        _number(f.score),
        csv_safe(f.label),
        csv_safe(f.comment),
        f.source,
        csv_safe(f.given_by.username) if f.given_by else "",
        f.reviewed_at.isoformat(timespec="seconds") if f.reviewed_at else "",
        csv_safe(f.reviewed_by.username) if f.reviewed_by else "",
        log.predicted_at.isoformat(timespec="seconds") if log else "",
        csv_safe(log.label) if log else "",
        _number(log.value if log else None),
        json.dumps(log.features, ensure_ascii=False, sort_keys=True) if log else "",
    ]


def _number(value: float | None) -> str:
    return "" if value is None else repr(value)
