"""Line diffs of text, as the pages draw them: (op, line) with op in "+", "-", " "."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

DiffLines = list[tuple[str, str]]


def line_diff(before: str, after: str) -> DiffLines:
    old_lines, new_lines = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    lines: DiffLines = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [(" ", line) for line in old_lines[i1:i2]]
            continue
        lines += [("-", line) for line in old_lines[i1:i2]]
        lines += [("+", line) for line in new_lines[j1:j2]]
    return lines


@dataclass(frozen=True)
class FieldDifference:
    """How one field of a form differs between the saved row and what a person typed."""

    field: str
    label: str
    lines: DiffLines


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return "\n".join(value)
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def field_differences(
    saved: dict[str, Any], yours: dict[str, Any], labels: dict[str, str]
) -> list[FieldDifference]:
    """Each field of ``yours`` whose text differs from ``saved``: "-" saved, "+" yours."""
    found = []
    for field, value in yours.items():
        before, after = as_text(saved.get(field)), as_text(value)
        if before != after:
            label = labels.get(field, field.replace("_", " ").capitalize())
            found.append(FieldDifference(field, label, line_diff(before, after)))
    return found
