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
pyarrow.compute, never row by row in Python (``column_check``); the report's shape is in
``contract_report``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from registry.evaluation import datafiles
from registry.evaluation.column_check import ColumnCheck
from registry.evaluation.contract_report import ColumnReport, ContractReport, Problem
from registry.evaluation.contract_rules import Contract, read_contract

BATCH_ROWS = 4 * datafiles.BATCH_ROWS
MAX_EXAMPLES = 5


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
