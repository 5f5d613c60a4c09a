"""Every check of one dataset column against its contract rule, fed one batch after another
with pyarrow.compute, then its report (examples of repeated values are read back from the
file at the end). Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from registry.evaluation import datafiles
from registry.evaluation.contract_masks import (
    BOUND_CHECKS,
    Mask,
    compared,
    fraction_message,
    fractional,
    json_value,
    not_finite,
    not_finite_message,
    not_number_text,
    nulls,
    outside,
    parsed,
    plain_values,
    present,
    said,
    text_fractional,
    text_message,
)
from registry.evaluation.contract_report import ColumnReport, Problem
from registry.evaluation.contract_rules import (
    Rule,
    allowed_values,
    bound,
    counted,
    listed,
    pattern_problem,
)
from registry.evaluation.sketches import hash_numbers, hash_strings

NULL_HASH = np.uint64(0)  # stands for a null cell in the unique check; never a repeat


@dataclass
class Check:
    kind: str
    message: Callable[[int], str]
    mask: Mask  # true where a value breaks the rule
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)


def _category(kind: pa.DataType) -> str:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "number"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return "string"
    if pa.types.is_null(kind):
        return "null"
    return "other"


class ColumnCheck:
    """Every check of one column, fed one batch after another."""

    def __init__(self, rule: Rule, column_type: pa.DataType, max_examples: int) -> None:
        self.rule = rule
        self.name = rule.name
        self.max_examples = max_examples
        self.category = _category(column_type)
        self.column_type = column_type
        self.checks: list[Check] = []
        self.value_checks: list[Check] = []
        self.values_are = self._plan_type()
        self._plancounted()
        self.unique = rule.schema.get("x-unique") is True and self.category != "null"
        self.hashes: list[np.ndarray] = []
        self.duplicates: Check | None = None

    # Planning

    def _plan_type(self) -> str:
        """Add the null and type checks; returns what the value checks compare: "number",
        "string" or "boolean" values, "parsed" (text read as numbers), or anything else when
        the column holds nothing they apply to."""
        rule, category = self.rule, self.category
        if rule.required and not rule.nullable:
            self.checks.append(
                Check("null", lambda n: f"{counted(n)} empty in a required column", nulls)
            )
        wanted = rule.types - {"null"}
        if not wanted or category == "null":
            return {"integer": "number"}.get(category, category)
        if category == "integer" and wanted & {"integer", "number"}:
            return "number"
        if category == "number" and wanted & {"integer", "number"}:
            self.checks.append(Check("type", not_finite_message, not_finite))
            if "number" not in wanted:
                self.checks.append(Check("type", fraction_message, fractional))
            return "number"
        if category in wanted:
            return category
        if category == "string" and wanted & {"integer", "number"}:
            self.checks.append(Check("type", text_message(wanted), not_number_text))
            if "number" not in wanted:
                self.checks.append(Check("type", fraction_message, text_fractional))
            return "parsed"
        expected = " or ".join(sorted(wanted))
        self.checks.append(
            Check(
                "type",
                lambda n: f"{counted(n)} of type {self.column_type}, not {expected}",
                present,
            )
        )
        return ""

    def _plancounted(self) -> None:
        schema, values_are = self.rule.schema, self.values_are
        if values_are not in ("number", "parsed", "string", "boolean"):
            return
        if "enum" in schema or "const" in schema:
            allowed = allowed_values(schema)
            self.value_checks.append(
                Check(
                    "enum",
                    lambda n: f"{counted(n)} not among the allowed values {listed(allowed)}",
                    outside(allowed, values_are),
                )
            )
        if values_are in ("number", "parsed"):
            self._plan_bounds()
        if values_are == "string":
            self._plan_text()

    def _plan_bounds(self) -> None:
        for side in ("minimum", "maximum"):
            found = bound(self.rule.schema, side)
            if found is None:
                continue
            limit, exclusive = found
            compare, words = BOUND_CHECKS[(side, exclusive)]
            label = f"the exclusive {side}" if exclusive else f"the {side}"
            self.value_checks.append(
                Check(
                    f"exclusive_{side}" if exclusive else side,
                    said(f"{words} {label} {limit:g}"),
                    compared(compare, limit),
                )
            )

    def _plan_text(self) -> None:
        schema = self.rule.schema
        for key, kind, compare, words in (
            ("minLength", "min_length", pc.less, "shorter than"),
            ("maxLength", "max_length", pc.greater, "longer than"),
        ):
            limit = schema.get(key)
            if isinstance(limit, int) and not isinstance(limit, bool):
                self.value_checks.append(
                    Check(
                        kind,
                        said(f"{words} {limit} characters"),
                        compared(compare, limit, measure=pc.utf8_length),
                    )
                )
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and not pattern_problem(pattern):
            self.value_checks.append(
                Check(
                    "pattern",
                    said(f"not matching the pattern {pattern}"),
                    lambda values: pc.invert(pc.match_substring_regex(values, pattern)),
                )
            )

    # Running

    def run(
        self, array: pa.Array | pa.ChunkedArray, offset: int, *, empty_is_null: bool = False
    ) -> None:
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        if pa.types.is_dictionary(array.type):
            array = array.dictionary_decode()
        if empty_is_null and self.category == "string":
            array = pc.if_else(pc.equal(array, ""), pa.scalar(None, array.type), array)
        for check in self.checks:
            self._count(check, check.mask(array), array, offset)
        if self.value_checks:
            values = parsed(array) if self.values_are == "parsed" else plain_values(array)
            for check in self.value_checks:
                self._count(check, check.mask(values), array, offset)
        if self.unique:
            self._keep_hashes(array)

    def _count(self, check: Check, mask: pa.Array, array: pa.Array, offset: int) -> None:
        found = mask.true_count
        if not found:
            return
        check.count += found
        wanted = self.max_examples - len(check.examples)
        if wanted > 0:
            indices = pc.indices_nonzero(mask)[:wanted]
            values = array.take(indices).to_pylist()
            check.examples += [
                {"row": offset + int(i), "value": json_value(v)}
                for i, v in zip(indices.to_pylist(), values, strict=True)
            ]

    def _keep_hashes(self, array: pa.Array) -> None:
        # One hash per row, nulls as NULL_HASH: a hash's position in the file is its row.
        values = array.drop_null() if array.null_count else array
        if self.category == "string":
            found = hash_strings(values)
        else:
            if self.category == "boolean":
                values = values.cast(pa.int64())
            elif pa.types.is_decimal(values.type):
                values = values.cast(pa.float64())
            found = hash_numbers(values.to_numpy(zero_copy_only=False))
        if array.null_count:
            hashes = np.full(len(array), NULL_HASH, dtype=np.uint64)
            hashes[array.is_valid().to_numpy(zero_copy_only=False)] = found
            found = hashes
        self.hashes.append(found)

    def finish(self, path: str | Path, file_format: str) -> None:
        """After the last batch: count the rows repeating an earlier row's value (x-unique)."""
        if not self.unique:
            return
        hashes = np.concatenate(self.hashes) if self.hashes else np.empty(0, np.uint64)
        self.hashes = []
        ordered = np.sort(hashes)
        repeats = (ordered[1:] == ordered[:-1]) & (ordered[1:] != NULL_HASH)
        self.duplicates = Check(
            "unique",
            lambda n: f"{counted(n, 'row')} repeating a value of an earlier row",
            nulls,  # never run: repeats are counted here, over the whole file
            count=int(np.count_nonzero(repeats)),
        )
        if not self.duplicates.count:
            return
        repeated = np.unique(ordered[1:][repeats])
        del ordered
        candidates = np.flatnonzero(np.isin(hashes, repeated))  # rows holding a repeated value
        _, firsts = np.unique(hashes[candidates], return_index=True)
        later = np.delete(candidates, firsts)  # every occurrence after the first
        self.duplicates.examples = _read_rows(
            path, file_format, self.name, later[: self.max_examples]
        )

    def report(self) -> ColumnReport:
        checks = [*self.checks, *self.value_checks]
        if self.duplicates is not None:
            checks.append(self.duplicates)
        problems = [
            Problem(check.kind, check.count, check.message(check.count), check.examples)
            for check in checks
            if check.count
        ]
        return ColumnReport(self.name, self.rule.describe(), True, self.rule.required, problems)


def _read_rows(
    path: str | Path, file_format: str, column: str, rows: np.ndarray
) -> list[dict[str, Any]]:
    """The values at ``rows`` (sorted) of one column, reading no further than the last."""
    found: list[dict[str, Any]] = []
    start = 0
    wanted = rows.tolist()
    for batch in datafiles.batches(path, file_format, columns=[column]):
        end = start + batch.num_rows
        inside = [row for row in wanted if start <= row < end]
        if inside:
            values = batch.column(column).take([row - start for row in inside]).to_pylist()
            found += [
                {"row": row, "value": json_value(value)}
                for row, value in zip(inside, values, strict=True)
            ]
        if end > wanted[-1]:
            break
        start = end
    return found
