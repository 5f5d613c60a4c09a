"""What an evaluation keeps of its rows while it streams them: text values as small
integer codes, and a bounded uniform sample of rows for permutation importance. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

OTHER = "(other)"
SAMPLE_ROWS = 20_000  # rows kept for permutation importance
SEED = 0


# Text values as small integer codes --------------------------------------------------------


def as_text(values: pa.Array | pa.ChunkedArray | np.ndarray) -> pa.Array:
    """Values as text the way classes are named: 1, 1.0 and True are all "1"."""
    array = pa.array(values) if isinstance(values, np.ndarray) else values
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_boolean(array.type):
        array = pc.cast(array, pa.int8())
    return pc.cast(array, pa.string())


class Codes:
    """Maps text to int32 codes against an ordered list of values that grows as new ones
    appear; past ``limit`` values, new ones share the code of ``OTHER``."""

    def __init__(self, known: Sequence[str] = (), *, limit: int | None = None) -> None:
        self.values: list[str] = list(dict.fromkeys(known))
        self.limit = limit
        self._set = pa.array(self.values, type=pa.string())

    def encode(
        self, values: pa.Array | pa.ChunkedArray | np.ndarray, *, null: str = ""
    ) -> np.ndarray:
        text = as_text(values)
        if null and text.null_count:
            text = pc.fill_null(text, null)
        codes = pc.index_in(text, value_set=self._set)
        if codes.null_count:
            self._learn(pc.unique(pc.filter(text, pc.is_null(codes))))
            codes = pc.index_in(text, value_set=self._set)
        if codes.null_count:  # values past the limit
            codes = codes.fill_null(self._other())
        return np.asarray(codes.to_numpy(), dtype=np.int32)

    def _learn(self, new: pa.Array) -> None:
        room = None if self.limit is None else max(0, self.limit - len(self.values))
        fresh = [value for value in new.to_pylist() if value is not None]
        self.values += fresh[:room] if room is not None else fresh
        self._set = pa.array(self.values, type=pa.string())

    def _other(self) -> int:
        if OTHER not in self.values:
            self.values.append(OTHER)
            self._set = pa.array(self.values, type=pa.string())
        return self.values.index(OTHER)


# A bounded sample of rows ------------------------------------------------------------------


class Reservoir:
    """A uniform sample of at most ``size`` rows of a stream (Algorithm R), fixed seed."""

    def __init__(self, size: int = SAMPLE_ROWS, seed: int = SEED) -> None:
        self.size, self.seen = size, 0
        self.rng = np.random.default_rng(seed)
        self.columns: dict[str, np.ndarray] = {}
        self.truth: np.ndarray | None = None

    def add(self, columns: Mapping[str, np.ndarray], truth: np.ndarray) -> None:
        rows = len(truth)
        if self.truth is None:
            self.truth = np.empty(self.size, dtype=truth.dtype)
            self.columns = {k: np.empty(self.size, dtype=v.dtype) for k, v in columns.items()}
        fill = min(max(self.size - self.seen, 0), rows)
        if fill:
            self._put(np.arange(self.seen, self.seen + fill), np.arange(fill), columns, truth)
        if rows > fill:
            position = self.seen + np.arange(fill, rows)  # each row's index in the stream
            slot = self.rng.integers(0, position + 1)
            kept = np.flatnonzero(slot < self.size)
            # A slot drawn twice in one batch ends with the later row, as one at a time would.
            _, last = np.unique(slot[kept][::-1], return_index=True)
            chosen = kept[::-1][last]
            self._put(slot[chosen], fill + chosen, columns, truth)
        self.seen += rows

    def _put(
        self,
        slots: np.ndarray,
        rows: np.ndarray,
        columns: Mapping[str, np.ndarray],
        truth: np.ndarray,
    ) -> None:
        assert self.truth is not None
        self.truth[slots] = truth[rows]
        for name, values in columns.items():
            self.columns[name][slots] = values[rows]

    def sample(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        kept = min(self.seen, self.size)
        truth = self.truth[:kept] if self.truth is not None else np.empty(0)
        return {k: v[:kept] for k, v in self.columns.items()}, truth
