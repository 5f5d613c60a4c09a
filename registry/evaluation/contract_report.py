"""What a contract check of a dataset reports: per column its problems, with counts and
example rows, and the columns missing, absent, extra or not checked. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
