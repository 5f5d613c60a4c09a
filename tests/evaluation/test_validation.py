"""A dataset checked against an input contract finds exactly the problems planted in it,
with their counts and rows, whatever the batch size and format."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from registry.evaluation.validation import ContractReport, check_against_contract
from tests.evaluation.data import INPUT_SCHEMA

ROWS = 40

CONTRACT: dict[str, Any] = {
    "type": "object",
    "$defs": {"region": {"enum": ["north", "south", "east", "west"]}},
    "properties": {
        "age": {"type": "integer", "minimum": 18, "maximum": 100},
        "income": {
            "type": "number",
            "exclusiveMinimum": 0,
            "exclusiveMaximum": 1_000_000,
            "multipleOf": 0.01,
        },
        "region": {"$ref": "#/$defs/region", "description": "Sales region"},
        "code": {
            "type": "string",
            "minLength": 2,
            "maxLength": 4,
            "pattern": "^[A-Z]+$",
            "format": "uppercase",
        },
        "id": {"type": "integer", "x-unique": True},
        "score": {"type": "number", "maximum": 100},
        "flag": {"type": "string"},
        "comment": {"type": ["string", "null"]},
        "tenure": {"type": "number"},
        "notes": {"type": "string"},
    },
    "required": ["age", "income", "region", "code", "comment", "tenure"],
    "additionalProperties": False,
    "anyOf": [{"required": ["age"]}],
}

# (column, kind) → the rows planted with that problem.
PLANTED = {
    ("age", "null"): [3],
    ("age", "minimum"): [5],
    ("age", "maximum"): [8],
    ("age", "type"): [11],
    ("income", "exclusive_minimum"): [4],
    ("income", "type"): [6],
    ("income", "exclusive_maximum"): [9],
    ("region", "enum"): [7],
    ("region", "null"): [12],
    ("code", "min_length"): [13],
    ("code", "max_length"): [14],
    ("code", "pattern"): [15],
    ("id", "unique"): [20, 30],
    ("score", "type"): [16],
    ("score", "maximum"): [17],
    ("flag", "type"): list(range(ROWS)),
}


def planted_table() -> pa.Table:
    """Clean rows, then one value (or two) broken per problem in PLANTED."""
    rng = np.random.default_rng(4)
    age: list[float | None] = rng.integers(18, 90, ROWS).astype(float).tolist()
    income: list[float] = rng.uniform(100, 9_000, ROWS).round(2).tolist()
    region: list[str | None] = rng.choice(["north", "south", "east", "west"], ROWS).tolist()
    code = ["AB"] * ROWS
    ids = list(range(1_000, 1_000 + ROWS))
    score = [str(v) for v in rng.integers(0, 100, ROWS)]
    comment: list[str | None] = [None if i % 3 else "fine" for i in range(ROWS)]
    age[3], age[5], age[8], age[11] = None, 17, 120, 30.5
    income[4], income[6], income[9] = 0.0, float("nan"), 1_000_000.0
    region[7], region[12] = "mars", None
    code[13], code[14], code[15] = "A", "ABCDE", "ab"
    ids[20] = ids[30] = ids[2]
    score[16], score[17], score[18] = "abc", "200", " 42 "
    return pa.table(
        {
            "age": pa.array(age, pa.float64()),
            "income": pa.array(income),
            "region": pa.array(region),
            "code": pa.array(code),
            "id": pa.array(ids, pa.int64()),
            "score": pa.array(score),
            "flag": pa.array([i % 2 == 0 for i in range(ROWS)]),
            "comment": pa.array(comment, pa.string()),
            "churned": pa.array([0, 1] * (ROWS // 2)),
        }
    )


def _parquet(tmp_path: Path, data: pa.Table) -> Path:
    path = tmp_path / "planted.parquet"
    pq.write_table(data, path, row_group_size=9)
    return path


def _found(report: ContractReport) -> dict[tuple[str, str], list[int]]:
    """(column, kind) → rows of every problem, from the counts and examples."""
    found: dict[tuple[str, str], list[int]] = {}
    for column in report.columns:
        for problem in column.problems:
            if problem.kind == "missing":
                continue
            rows = [example["row"] for example in problem.examples]
            assert problem.count == len(rows) or problem.count > len(rows) == 5
            found[(column.column, problem.kind)] = (
                rows if problem.count <= 5 else list(range(problem.count))
            )
    return found


@pytest.mark.parametrize("batch_rows", [7, 100_000])
def test_every_check_finds_exactly_the_planted_problems(tmp_path: Path, batch_rows: int) -> None:
    """Each planted value is found once, by its check, at its row; nothing else is."""
    path = _parquet(tmp_path, planted_table())

    report = check_against_contract(path, "parquet", CONTRACT, batch_rows=batch_rows)

    assert report.rows == ROWS and not report.ok
    assert _found(report) == PLANTED
    assert report.missing_columns == ["tenure"]
    assert report.absent_optional == ["notes"]
    assert report.extra_columns == ["churned"]


def test_problems_say_what_broke_with_example_values(tmp_path: Path) -> None:
    report = check_against_contract(_parquet(tmp_path, planted_table()), "parquet", CONTRACT)
    columns = {column.column: column for column in report.columns}
    problems = {(c, p.kind): p for c, column in columns.items() for p in column.problems}

    assert problems[("age", "minimum")].message == "1 value below the minimum 18"
    assert problems[("age", "minimum")].examples == [{"row": 5, "value": 17.0}]
    assert problems[("region", "enum")].examples == [{"row": 7, "value": "mars"}]
    assert "not among the allowed values north, south, east, west" in (
        problems[("region", "enum")].message
    )
    assert problems[("income", "type")].examples == [{"row": 6, "value": "nan"}]
    assert problems[("score", "type")].examples == [{"row": 16, "value": "abc"}]
    assert problems[("id", "unique")].examples == [
        {"row": 20, "value": 1_002},
        {"row": 30, "value": 1_002},
    ]
    assert problems[("flag", "type")].count == ROWS
    assert len(problems[("flag", "type")].examples) == 5  # max_examples
    missing = columns["tenure"]
    assert not missing.present and missing.problems[0].kind == "missing"
    assert missing.problems[0].count == ROWS
    assert columns["comment"].ok  # required, but its type allows null
    assert columns["age"].expected == "integer, ≥ 18, ≤ 100, required"


def test_unsupported_parts_of_the_contract_are_listed_as_not_checked(tmp_path: Path) -> None:
    report = check_against_contract(_parquet(tmp_path, planted_table()), "parquet", CONTRACT)

    assert report.not_checked == [
        "anyOf (whole request)",
        "additionalProperties: extra columns are listed, not counted as problems",
        "income: multipleOf",
        "code: format",
    ]


def test_csv_text_in_a_number_column_counts_per_value(tmp_path: Path) -> None:
    """pyarrow reads a CSV column with one word in it as text: only that value is a type
    problem, the others are read as numbers and checked; an empty cell is a null."""
    path = tmp_path / "people.csv"
    path.write_text("age,name\n30,ann\n41,\nforty,bo\n150,cy\n")
    contract = {
        "properties": {"age": {"type": "integer", "maximum": 120}, "name": {"type": "string"}},
        "required": ["age", "name"],
    }

    report = check_against_contract(path, "csv", contract)

    found = {(c.column, p.kind): (p.count, p.examples) for c in report.columns for p in c.problems}
    assert found == {
        ("age", "type"): (1, [{"row": 2, "value": "forty"}]),
        ("age", "maximum"): (1, [{"row": 3, "value": "150"}]),
        ("name", "null"): (1, [{"row": 1, "value": None}]),
    }


def test_repeats_are_found_across_batches_and_nulls_never_repeat(tmp_path: Path) -> None:
    ids = pa.array([5, None, 7, 5, None, 8, 7, 5], pa.int64())
    path = _parquet(tmp_path, pa.table({"id": ids}))
    contract = {"properties": {"id": {"type": "integer", "x-unique": True}}}

    report = check_against_contract(path, "parquet", contract, batch_rows=3, max_examples=2)

    (problem,) = report.columns[0].problems
    assert problem.count == 3
    assert problem.examples == [{"row": 3, "value": 5}, {"row": 6, "value": 7}]


def test_the_fixture_data_meets_the_classifier_contract(data_file: Callable[..., Path]) -> None:
    for suffix in (".csv", ".parquet"):
        report = check_against_contract(
            data_file(rows=500, suffix=suffix), suffix[1:], INPUT_SCHEMA
        )

        assert report.ok and report.rows == 500 and report.problem_count == 0
        assert report.extra_columns == ["churned", "spend", "stored_prediction"]
        assert report.as_json()["columns"][0] == {
            "column": "age",
            "expected": "number, ≥ 18, ≤ 100, required",
            "present": True,
            "required": True,
            "problems": [],
            "ok": True,
        }


def test_csv_and_parquet_of_the_same_rows_give_the_same_report(tmp_path: Path) -> None:
    """The same problems at the same rows; only NaN differs: pyarrow reads "nan" in a CSV
    as a null, so there it is a missing value rather than a number no request can carry."""
    data = planted_table().drop_columns(["flag", "comment"])
    csv_path = tmp_path / "planted.csv"
    pa_csv.write_csv(data, csv_path)
    contract = {**CONTRACT, "required": ["age", "income", "region", "code"]}
    contract["properties"] = {k: v for k, v in CONTRACT["properties"].items() if k != "flag"}

    from_csv = _found(check_against_contract(csv_path, "csv", contract))
    from_parquet = _found(check_against_contract(_parquet(tmp_path, data), "parquet", contract))

    assert from_csv.pop(("income", "null")) == from_parquet.pop(("income", "type")) == [6]
    assert from_csv == from_parquet


def test_the_fields_of_a_nested_object_are_checked_as_columns(tmp_path: Path) -> None:
    """A request {"measurements": {"radius", "area"}} is a table with radius and area."""
    contract = {
        "type": "object",
        "properties": {
            "measurements": {
                "type": "object",
                "properties": {
                    "radius": {"type": "number", "minimum": 0},
                    "area": {"type": "number"},
                },
                "required": ["radius", "area"],
            },
            "note": {"type": "string"},
        },
        "required": ["measurements"],
    }
    data = pa.table({"radius": [1.0, -2.0, 3.0], "note": ["a", None, "c"]})

    report = check_against_contract(_parquet(tmp_path, data), "parquet", contract)

    assert report.missing_columns == ["area"]
    radius = next(column for column in report.columns if column.column == "radius")
    assert [(p.kind, p.count) for p in radius.problems] == [("minimum", 1)]
    assert "measurements" not in report.extra_columns + report.missing_columns
