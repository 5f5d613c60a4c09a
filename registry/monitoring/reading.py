"""The columns a drift report compares, read a chunk at a time: from a dataset file, or from
the prediction logs of a version's window.

On PostgreSQL the window leaves the database as CSV through ``COPY (SELECT …) TO STDOUT``,
each feature pulled out of the jsonb in SQL, and pyarrow parses it: no row becomes a Python
object. The window is read in time slices of about SLICE_ROWS rows, so memory holds one
slice, not the window. Elsewhere (SQLite in
the demo and the default tests) the rows are read through the ORM in batches.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import connection
from psycopg import sql

from feedback.models import Feedback, FeedbackKind, PredictionLog
from portal.stored_files import local_path
from registry.evaluation import datafiles
from registry.evaluation.models import Dataset
from registry.models import ModelVersion
from registry.monitoring.selection import ColumnKind

Chunk = dict[str, np.ndarray]  # column name → its values in this chunk
CHUNK_ROWS = 100_000
CSV_BLOCK_BYTES = 8 << 20
SLICE_ROWS = 500_000  # rows of the window one COPY reads, about (PostgreSQL)
SLICE_BUCKETS = 256  # a window's rows are counted per 1/SLICE_BUCKETS of it to cut slices
SLICE_FINEST = timedelta(milliseconds=1)  # rows logged within one are never cut apart
PREDICTION = "prediction"  # the output compared for prediction drift


@dataclass(frozen=True)
class Column:
    """One monitored feature: where it is in a logged request, and how it is compared."""

    name: str
    kind: ColumnKind
    path: tuple[str, ...]  # keys down the logged features, e.g. ("measurements", "height")
    test: str = ""  # "" for the default choice
    threshold: float | None = None
    critical: bool = False

    @classmethod
    def from_config(cls, entry: dict[str, Any]) -> Column:
        return cls(
            name=entry["name"],
            kind=ColumnKind(entry["kind"]),
            path=tuple(entry.get("path") or [entry["name"]]),
            test=entry.get("test") or "",
            threshold=entry.get("threshold"),
            critical=bool(entry.get("critical")),
        )


@dataclass(frozen=True)
class Window:
    version: ModelVersion
    start: datetime
    end: datetime


# Datasets -------------------------------------------------------------------------------


def dataset_chunks(dataset: Dataset, names: Mapping[str, str]) -> Iterator[Chunk]:
    """Columns of ``dataset`` (``names``: file column → name in the chunk), a batch at a
    time, as numpy arrays."""
    with local_path(dataset.file) as path:
        for batch in datafiles.batches(path, dataset.file_format, columns=list(names)):
            yield {name: _numpy(batch.column(column)) for column, name in names.items()}


def _numpy(array: pa.Array) -> np.ndarray:
    if pa.types.is_floating(array.type):
        return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)
    if pa.types.is_integer(array.type) and array.null_count:
        # Not floats: a label 1 must stay "1" when it is compared as a category.
        return np.asarray(array.to_pylist(), dtype=object)
    if pa.types.is_string(array.type) and not array.null_count:
        # Fixed-width text through the few distinct values: a Python string per row would
        # cost ~55 bytes and the time to make it.
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        encoded = array.dictionary_encode()
        distinct = np.array(encoded.dictionary.to_pylist(), dtype=str)
        return distinct[encoded.indices.to_numpy()]
    return np.asarray(array.to_numpy(zero_copy_only=False))


# Prediction logs ------------------------------------------------------------------------


def logged_rows(window: Window) -> int:
    return _logs(window).count()


def log_chunks(window: Window, columns: Sequence[Column], *, outputs: bool) -> Iterator[Chunk]:
    """The features of ``columns`` (and the output, when ``outputs``) of every prediction the
    version logged in the window; a feature the request lacks, or of the wrong JSON type for
    a numeric column, is missing."""
    if connection.vendor == "postgresql":
        yield from _copied_chunks(window, columns, outputs)
    else:
        yield from _orm_chunks(window, columns, outputs)


def output_kind(version: ModelVersion) -> ColumnKind:
    """Regression outputs compare as numbers, labels as categories."""
    return ColumnKind.NUMERIC if version.model.task_type == "regression" else ColumnKind.CATEGORICAL


def _logs(window: Window) -> Any:
    return PredictionLog.objects.filter(
        version=window.version, predicted_at__gte=window.start, predicted_at__lt=window.end
    )


def _orm_chunks(window: Window, columns: Sequence[Column], outputs: bool) -> Iterator[Chunk]:
    regression = output_kind(window.version) == ColumnKind.NUMERIC
    rows = _logs(window).values_list("features", "label", "value").iterator(chunk_size=5_000)
    batch: list[tuple[Any, str, float | None]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK_ROWS:
            yield _as_chunk(batch, columns, outputs, regression)
            batch = []
    if batch:
        yield _as_chunk(batch, columns, outputs, regression)


def _as_chunk(
    rows: list[tuple[Any, str, float | None]],
    columns: Sequence[Column],
    outputs: bool,
    regression: bool,
) -> Chunk:
    chunk = {
        column.name: _values([_dig(features, column.path) for features, _, _ in rows], column)
        for column in columns
    }
    if outputs:
        if regression:
            chunk[PREDICTION] = np.array([v for _, _, v in rows], dtype=np.float64)
        else:
            chunk[PREDICTION] = np.array([label or None for _, label, _ in rows], dtype=object)
    return chunk


def _dig(features: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(features, dict):
            return None
        features = features.get(key)
    return features


def _values(values: list[Any], column: Column) -> np.ndarray:
    if column.kind == ColumnKind.NUMERIC:
        # As in SQL: only JSON numbers count (True is no measurement).
        numbers = [
            float(v) if isinstance(v, int | float) and not isinstance(v, bool) else np.nan
            for v in values
        ]
        return np.array(numbers, dtype=np.float64)
    return np.array([None if v is None else _text(v) for v in values], dtype=object)


def _text(value: Any) -> str:
    # jsonb's ->> spelling, so the two backends give the same categories.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _copied_chunks(window: Window, columns: Sequence[Column], outputs: bool) -> Iterator[Chunk]:
    if not columns and not outputs:
        return
    names = [f"c{i}" for i in range(len(columns))]
    types: dict[str, pa.DataType] = {
        alias: pa.float64() if column.kind == ColumnKind.NUMERIC else pa.string()
        for alias, column in zip(names, columns, strict=True)
    }
    selected = [_feature_sql(column) for column in columns]
    if outputs:
        regression = output_kind(window.version) == ColumnKind.NUMERIC
        selected.append(sql.SQL("value") if regression else sql.SQL("NULLIF(label, '')"))
        names.append(PREDICTION)
        types[PREDICTION] = pa.float64() if regression else pa.string()
    read = pa_csv.ReadOptions(column_names=names, use_threads=False)
    convert = pa_csv.ConvertOptions(
        column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
    )
    by_alias = dict(zip(names, [c.name for c in columns] + [PREDICTION], strict=False))
    connection.ensure_connection()
    for start, end in itertools.pairwise(_cuts(window.version.pk, window.start, window.end)):
        query = sql.SQL(
            "COPY (SELECT {} FROM {} WHERE version_id = {} AND predicted_at >= {} "
            "AND predicted_at < {}) TO STDOUT (FORMAT csv)"
        ).format(
            sql.SQL(", ").join(selected),
            sql.Identifier(PredictionLog._meta.db_table),
            sql.Literal(window.version.pk),
            sql.Literal(start),
            sql.Literal(end),
        )
        # A slice is parsed whole once its COPY has ended: between chunks the job reports
        # progress on this same connection, which the COPY holds until then.
        with connection.connection.cursor() as cursor, cursor.copy(query) as copy:
            # COPY hands over one row per message, so a block of them never splits a row
            # (a quoted category may hold a newline).
            parsed = [
                pa_csv.read_csv(io.BytesIO(block), read_options=read, convert_options=convert)
                for block in _blocks(copy)
            ]
        for batch in parsed:
            yield {by_alias[alias]: _numpy(batch.column(alias)) for alias in names}


def _cuts(version_id: int, start: datetime, end: datetime) -> list[datetime]:
    """Instants that cut [start, end) into slices of at most about SLICE_ROWS logged rows,
    from a count of the rows in each 1/SLICE_BUCKETS of the range (an index-only scan). A
    bucket holding more is cut finer, down to SLICE_FINEST. The cuts always cover the
    whole range, so rows logged after the count are read too."""
    step = (end - start) / SLICE_BUCKETS
    if step < SLICE_FINEST:
        return [start, end]
    query = sql.SQL(
        "SELECT LEAST(FLOOR(EXTRACT(EPOCH FROM predicted_at - %s) / %s)::int, %s), COUNT(*) "
        "FROM {} WHERE version_id = %s AND predicted_at >= %s AND predicted_at < %s GROUP BY 1"
    ).format(sql.Identifier(PredictionLog._meta.db_table))
    with connection.connection.cursor() as cursor:
        cursor.execute(
            query, [start, step.total_seconds(), SLICE_BUCKETS - 1, version_id, start, end]
        )
        counts = sorted(cursor.fetchall())
    cuts, rows = [start], 0
    for bucket, count in counts:
        low = start + step * bucket
        if rows and rows + count > SLICE_ROWS:
            cuts.append(low)
            rows = 0
        if count > SLICE_ROWS:
            high = end if bucket == SLICE_BUCKETS - 1 else low + step
            finer = _cuts(version_id, low, high)
            cuts.extend(finer[1:] if cuts[-1] == low else finer)
        else:
            rows += count
    if cuts[-1] != end:
        cuts.append(end)
    return cuts


def _blocks(copy: Any) -> Iterator[bytes]:
    rows: list[bytes] = []
    size = 0
    for row in copy:
        rows.append(bytes(row))
        size += len(row)
        if size >= CSV_BLOCK_BYTES:
            yield b"".join(rows)
            rows, size = [], 0
    if rows:
        yield b"".join(rows)


def _feature_sql(column: Column) -> sql.Composable:
    """The feature as text in SQL; a numeric column keeps JSON numbers only."""
    path = sql.SQL("#>").join([sql.SQL("features"), sql.Literal("{" + _path_text(column) + "}")])
    if column.kind == ColumnKind.NUMERIC:
        return sql.SQL("CASE WHEN jsonb_typeof({0}) = 'number' THEN ({0})::text END").format(path)
    return sql.SQL("({0}) #>> '{{}}'").format(path)


def _path_text(column: Column) -> str:
    # A text[] literal: each key double-quoted, with its quotes and backslashes escaped.
    keys = ['"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"' for key in column.path]
    return ",".join(keys)


# Feedback -------------------------------------------------------------------------------


def corrected_labels(window: Window, limit: int) -> list[str]:
    """True labels people gave on the window's predictions (the newest ``limit``)."""
    rows = Feedback.objects.filter(
        model_id=window.version.model_id,
        kind=FeedbackKind.LABEL,
        created_at__gte=window.start,
        prediction_key__version=window.version,
        prediction_key__predicted_at__gte=window.start,
        prediction_key__predicted_at__lt=window.end,
    ).exclude(label="")
    return list(rows.order_by("-created_at").values_list("label", flat=True)[:limit])
