"""A dataset checked against a model version's input contract, column by column. Pure (no
Django): the service and the page run ``check_against_contract``.

The contract is the JSON Schema of one request object; each of its ``properties`` is a
column. Checked, with counts and example rows (0-based rows of the file):

* a column the contract requires but the file lacks ("missing"); file columns the
  contract does not name are listed as extra;
* ``type`` number / integer / string / boolean ("type"): text where a number is expected
  counts per value that does not read as a number, so one "n/a" in a CSV column is one
  problem; an integer must have no fractional part; NaN and infinities are not numbers;
* nulls in a required column ("null"), unless its type allows null (``"nullable": true``
  or ``"null"`` among its types);
* ``enum`` / ``const`` ("enum"), ``minimum`` / ``maximum`` / ``exclusiveMinimum`` /
  ``exclusiveMaximum``, ``minLength`` / ``maxLength`` / ``pattern`` (RE2, as contracts are);
* ``"x-unique": true`` ("unique"): rows that repeat an earlier row's value. Each row's
  value is kept as a 64-bit hash (8 bytes a row, the one check whose memory grows with
  the file); example values are read back from the file afterwards.

Anything else in the contract (``format``, ``multipleOf``, ``anyOf``, nested objects ...)
is listed in ``not_checked`` rather than ignored. Every check runs per batch with
pyarrow.compute, never row by row in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
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
from registry.evaluation.contract_rules import (
    Contract,
    Rule,
    allowed_values,
    bound,
    counted,
    listed,
    pattern_problem,
    read_contract,
)
from registry.evaluation.sketches import hash_numbers, hash_strings

BATCH_ROWS = 4 * datafiles.BATCH_ROWS
MAX_EXAMPLES = 5
NULL_HASH = np.uint64(0)  # stands for a null cell in the unique check; never a repeat


# The report ---------------------------------------------------------------------------


@dataclass
class Problem:
    kind: str
    count: int
    message: str
    examples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ColumnReport:
    column: str
    expected: str  # the contract's rule for the column, as people read it
    present: bool = True
    required: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ContractReport:
    rows: int
    ok: bool
    columns: list[ColumnReport]
    missing_columns: list[str] = field(default_factory=list)
    absent_optional: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)

    @property
    def problem_count(self) -> int:
        return sum(problem.count for column in self.columns for problem in column.problems)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for column, report in zip(data["columns"], self.columns, strict=True):
            column["ok"] = report.ok
        return data


def check_against_contract(
    path: str | Path,
    file_format: str,
    input_schema: dict[str, Any],
    *,
    batch_rows: int = BATCH_ROWS,
    max_examples: int = MAX_EXAMPLES,
) -> ContractReport:
    """Read the file a batch at a time and count, per contract column, every value that
    breaks the contract. Raises ``datafiles.UnreadableDataset``."""
    schema = datafiles.schema_of(path, file_format)
    contract = read_contract(input_schema, schema)
    plans = [
        ColumnCheck(rule, schema.field(rule.name).type, max_examples) for rule in contract.present
    ]
    # An empty CSV cell reads as "" in a text column: for the contract it is a missing value.
    empty_is_null = file_format == "csv"
    rows = 0
    if plans:
        names = [plan.name for plan in plans]
        for batch in datafiles.batches(path, file_format, columns=names, batch_rows=batch_rows):
            for plan in plans:
                plan.run(batch.column(plan.name), rows, empty_is_null=empty_is_null)
            rows += batch.num_rows
    else:
        rows = _count_rows(path, file_format)
    for plan in plans:
        plan.finish(path, file_format)
    return _report(contract, rows, plans)


def _report(contract: Contract, rows: int, plans: list[ColumnCheck]) -> ContractReport:
    """Every column of the contract: checked, missing (a problem when required) or absent."""
    columns = [plan.report() for plan in plans]
    for rule in contract.missing:
        problem = Problem("missing", rows, "The file has no such column; the contract requires it.")
        columns.append(ColumnReport(rule.name, rule.describe(), False, True, [problem]))
    for rule in contract.absent:
        columns.append(ColumnReport(rule.name, rule.describe(), False, False, []))
    ok = all(column.ok for column in columns)
    return ContractReport(
        rows=rows,
        ok=ok,
        columns=columns,
        missing_columns=[rule.name for rule in contract.missing],
        absent_optional=[rule.name for rule in contract.absent],
        extra_columns=contract.extra,
        not_checked=contract.not_checked,
    )


def _count_rows(path: str | Path, file_format: str) -> int:
    known = datafiles.row_count_hint(path, file_format)
    if known is not None:
        return known
    first = datafiles.schema_of(path, file_format).names[:1]
    return sum(batch.num_rows for batch in datafiles.batches(path, file_format, columns=first))


# Checking one column ------------------------------------------------------------------


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
