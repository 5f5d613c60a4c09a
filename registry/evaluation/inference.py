"""Running a version's ONNX graph over dataset batches through its input mapping. Pure.

A ``Runner`` turns a pyarrow batch into the graph's input tensors (``columns`` then
``feeds``, so permutation importance can shuffle a column in between), runs onnxruntime and
reads the mapped outputs: the predicted labels (or values, for a regression) and the class
scores, with the seconds the graph took.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from registry.evaluation.mapping import FLOAT_DTYPES


class InferenceError(Exception):
    """The data or the model cannot be run as mapped; the message says what to fix."""


class MissingValues(InferenceError):
    """A mapped column holds nulls: the graph has no way to take them."""

    def __init__(self, column: str, count: int, first_row: int) -> None:
        self.column, self.count, self.first_row = column, count, first_row
        super().__init__(f"column {column} has {count} nulls, first at row {first_row}")


@dataclass(frozen=True)
class Prediction:
    """What the graph said for a batch: labels (or values) and scores in mapping order."""

    labels: np.ndarray | None
    scores: np.ndarray | None  # float32 [n, classes]
    seconds: float


class Runner:
    """One onnxruntime session and the mapping that feeds it."""

    def __init__(
        self,
        model: bytes | str | Path,
        inputs: Sequence[Mapping[str, Any]],
        outputs: Mapping[str, Any],
    ) -> None:
        # Imported here so web processes don't pay for onnxruntime; only workers run models.
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # The artifact loaded during validation with optimisations off; running the graph
        # executes the same operators, so optimising it here adds no exposure.
        try:
            self.session = onnxruntime.InferenceSession(
                str(model) if isinstance(model, Path) else model,
                sess_options=options,
                providers=["CPUExecutionProvider"],
            )
        except Exception as exc:
            # The loader's words, minus the server's storage path (people read this).
            text = _first_line(exc)
            if not isinstance(model, bytes):
                text = text.replace(str(model), "the artifact")
            raise InferenceError(f"the artifact cannot be loaded: {text}") from exc
        self.inputs = [dict(entry) for entry in inputs]
        self.label_output = str(outputs.get("label") or "")
        self.score_output = str(outputs.get("scores") or "")
        self._ranks = {arg.name: len(arg.shape or []) for arg in self.session.get_inputs()}
        self._fetch = [name for name in (self.label_output, self.score_output) if name]

    @property
    def columns(self) -> list[str]:
        """Every dataset column the graph reads, in mapping order."""
        return [column for entry in self.inputs for column in entry["columns"]]

    def column_arrays(self, batch: pa.RecordBatch, *, first_row: int = 1) -> dict[str, np.ndarray]:
        """Each mapped column as a numpy array of its input's dtype.

        ``first_row`` numbers the batch's first row in the file (1 for the first data row),
        so an error can point at the row.
        """
        arrays = {}
        for entry in self.inputs:
            for column in entry["columns"]:
                arrays[column] = _as_numpy(batch.column(column), column, entry, first_row)
        return arrays

    def feeds(self, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The graph's input tensors from column arrays."""
        feeds = {}
        for entry in self.inputs:
            columns = [arrays[column] for column in entry["columns"]]
            rank = self._ranks.get(entry["name"], 2)
            if rank <= 1:
                feeds[entry["name"]] = columns[0]
            elif len(columns) == 1:
                feeds[entry["name"]] = columns[0].reshape(-1, 1)
            else:
                feeds[entry["name"]] = np.column_stack(columns)
        return feeds

    def predict(self, feeds: Mapping[str, np.ndarray]) -> Prediction:
        started = time.perf_counter()
        try:
            results = self.session.run(self._fetch, dict(feeds))
        except Exception as exc:
            raise InferenceError(f"the model failed on this data: {_first_line(exc)}") from exc
        seconds = time.perf_counter() - started
        found = dict(zip(self._fetch, results, strict=True))
        labels = found.get(self.label_output) if self.label_output else None
        scores = found.get(self.score_output) if self.score_output else None
        return Prediction(
            labels=None if labels is None else _flat(labels, self.label_output),
            scores=None if scores is None else _scores(scores),
            seconds=seconds,
        )

    def run(self, batch: pa.RecordBatch, *, first_row: int = 1) -> Prediction:
        return self.predict(self.feeds(self.column_arrays(batch, first_row=first_row)))


def require_values(array: pa.Array | pa.ChunkedArray, column: str, first_row: int) -> None:
    """Raise MissingValues when ``array`` (rows from ``first_row`` on) holds a null."""
    if array.null_count:
        first = int(pc.index(pc.is_null(array), True).as_py())
        raise MissingValues(column, array.null_count, first_row + first)


def _as_numpy(
    array: pa.Array | pa.ChunkedArray, column: str, entry: Mapping[str, Any], first_row: int
) -> np.ndarray:
    require_values(array, column, first_row)
    dtype = str(entry["dtype"])
    try:
        if dtype == "string":
            return np.asarray(pc.cast(array, pa.string()).to_numpy(zero_copy_only=False))
        if pa.types.is_boolean(array.type) and dtype not in ("bool",):
            array = pc.cast(array, pa.int8())
        if not (_is_number(array.type) or dtype == "bool"):
            raise InferenceError(
                f"column {column} holds {array.type} values; {entry['name']} takes {dtype}"
            )
        values = array.to_numpy(zero_copy_only=False)
        # Integer inputs take whole numbers only: 2.5 must not become 2 silently.
        fractional = dtype not in FLOAT_DTYPES and values.dtype.kind == "f"
        if fractional and not np.all(np.mod(values, 1) == 0):
            raise InferenceError(
                f"column {column} has fractions; {entry['name']} takes {dtype} (whole numbers)"
            )
        return values.astype(dtype, copy=False)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise InferenceError(
            f"column {column} cannot be read as {dtype}: {_first_line(exc)}"
        ) from exc


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _flat(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InferenceError(f"output {name} gives {array.shape[1:]} values per row, not one")
    return array


def _scores(values: Any) -> np.ndarray:
    scores = np.asarray(values, dtype=np.float32)
    if scores.ndim == 1:
        scores = scores.reshape(-1, 1)
    if scores.shape[1] == 1:
        # One probability column is the positive class's: give both, as a two-class model does.
        scores = np.column_stack([1 - scores[:, 0], scores[:, 0]])
    return scores


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]
