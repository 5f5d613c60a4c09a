"""What a model version's input contract asks of each column of a dataset: the rules read
from the JSON Schema of a request (one property per column), the columns it requires, and
the parts of the schema the contract check does not run. Pure: no Django, no pyarrow
reading (``validation`` runs the rules).

Local ``$ref``s (``#/$defs/...``) are followed; ``"x-unique": true`` on a property asks
that no two rows share a value (no JSON Schema keyword says that of a column).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

MAX_REF_DEPTH = 10
# Keywords that describe and do not constrain: nothing to check, nothing to report.
ANNOTATIONS = {
    "title",
    "description",
    "default",
    "examples",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$schema",
    "$id",
    "$anchor",
    "$defs",
    "definitions",
}
PROPERTY_KEYWORDS = {
    "type",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "nullable",
    "x-unique",
}
CONTRACT_KEYWORDS = {"type", "properties", "required", "additionalProperties"}
JSON_TYPES = {"number", "integer", "string", "boolean", "null"}


@dataclass
class Rule:
    """What the contract asks of one column."""

    name: str
    schema: dict[str, Any]
    required: bool

    @property
    def types(self) -> set[str]:
        declared = self.schema.get("type")
        if isinstance(declared, str):
            return {declared}
        if isinstance(declared, list):
            return {kind for kind in declared if isinstance(kind, str)}
        return set()

    @property
    def nullable(self) -> bool:
        return "null" in self.types or self.schema.get("nullable") is True

    def describe(self) -> str:
        parts = [" or ".join(sorted(self.types - {"null"}))] if self.types - {"null"} else []
        if "enum" in self.schema or "const" in self.schema:
            parts.append(f"one of {listed(allowed_values(self.schema))}")
        low, high = bound(self.schema, "minimum"), bound(self.schema, "maximum")
        if low is not None:
            parts.append(f"{'>' if low[1] else '≥'} {low[0]:g}")
        if high is not None:
            parts.append(f"{'<' if high[1] else '≤'} {high[0]:g}")
        if self.schema.get("x-unique") is True:
            parts.append("unique")
        parts.append("required" if self.required else "optional")
        return ", ".join(parts)


@dataclass
class Contract:
    present: list[Rule]
    missing: list[Rule]
    absent: list[Rule]
    extra: list[str]
    not_checked: list[str]


def read_contract(input_schema: dict[str, Any], file_schema: pa.Schema) -> Contract:
    """The rules per column, the columns missing or extra, and what cannot be checked."""
    not_checked: list[str] = []
    unknown = set(input_schema) - CONTRACT_KEYWORDS - ANNOTATIONS
    not_checked += [f"{keyword} (whole request)" for keyword in sorted(unknown)]
    if input_schema.get("type", "object") != "object":
        not_checked.append("type (whole request): only an object's properties are columns")
    if input_schema.get("additionalProperties") is False:
        not_checked.append(
            "additionalProperties: extra columns are listed, not counted as problems"
        )
    properties = input_schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = input_schema.get("required")
    required_names = {str(name) for name in required} if isinstance(required, list) else set()
    rules: list[Rule] = []
    for name, resolved, needed in _leaves(properties, required_names, input_schema, not_checked):
        rules.append(Rule(name, resolved, needed))
        not_checked += _unsupported(name, resolved)
    for name in sorted(required_names - set(properties)):
        rules.append(Rule(name, {}, True))  # required, with no rule of its own
    columns = set(file_schema.names)
    return Contract(
        present=[rule for rule in rules if rule.name in columns],
        missing=[rule for rule in rules if rule.name not in columns and rule.required],
        absent=[rule for rule in rules if rule.name not in columns and not rule.required],
        extra=[name for name in file_schema.names if name not in {r.name for r in rules}],
        not_checked=not_checked,
    )


def _leaves(
    properties: dict[str, Any],
    required: set[str],
    root: dict[str, Any],
    notes: list[str],
    depth: int = 0,
) -> Iterable[tuple[str, dict[str, Any], bool]]:
    """(column, schema, required) per property; an object property with properties of its
    own (``{"measurements": {"properties": {...}}}``) stands for its leaves, as a flattened
    table holds them, each required when it and every object above it are."""
    for name, schema in properties.items():
        resolved = _resolve(schema, root, str(name), notes)
        inner = resolved.get("properties")
        if isinstance(inner, dict) and inner and depth < MAX_REF_DEPTH:
            listed = resolved.get("required")
            inner_required = (
                {str(n) for n in listed}
                if str(name) in required and isinstance(listed, list)
                else set()
            )
            yield from _leaves(inner, inner_required, root, notes, depth + 1)
        else:
            yield str(name), resolved, str(name) in required


def _resolve(schema: Any, root: dict[str, Any], name: str, notes: list[str]) -> dict[str, Any]:
    """The property's schema with local ``$ref``s followed (``#/$defs/...``)."""
    for _ in range(MAX_REF_DEPTH):
        if not isinstance(schema, dict):
            notes.append(f"{name}: its schema is not an object")
            return {}
        reference = schema.get("$ref")
        if reference is None:
            return schema
        target = _pointer(root, reference)
        if target is None:
            notes.append(f"{name}: $ref {str(reference)[:80]} (not a local reference)")
            return {key: value for key, value in schema.items() if key != "$ref"}
        siblings = {key: value for key, value in schema.items() if key != "$ref"}
        schema = {**target, **siblings} if isinstance(target, dict) else target
    notes.append(f"{name}: $ref (nested too deeply)")
    return {}


def _pointer(root: dict[str, Any], reference: Any) -> Any:
    if not isinstance(reference, str) or not reference.startswith("#"):
        return None
    found: Any = root
    for part in [p for p in reference[1:].split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(found, dict) or part not in found:
            return None
        found = found[part]
    return found


def _unsupported(name: str, schema: dict[str, Any]) -> list[str]:
    notes = [
        f"{name}: {keyword}"
        for keyword in sorted(set(schema) - PROPERTY_KEYWORDS - ANNOTATIONS)
        if not keyword.startswith("x-")
    ]
    odd_types = Rule(name, schema, False).types - JSON_TYPES
    notes += [f"{name}: type {kind}" for kind in sorted(odd_types)]
    pattern = schema.get("pattern")
    if pattern is not None and pattern_problem(pattern):
        notes.append(f"{name}: pattern ({pattern_problem(pattern)})")
    return notes


def pattern_problem(pattern: Any) -> str:
    if not isinstance(pattern, str):
        return "not a string"
    try:
        pc.match_substring_regex(pa.array([""]), pattern)
    except pa.ArrowInvalid:
        return "not a regular expression RE2 runs"
    return ""


def allowed_values(schema: dict[str, Any]) -> list[Any]:
    if "const" in schema:
        return [schema["const"]]
    members = schema.get("enum")
    return list(members) if isinstance(members, list) else []


def bound(schema: dict[str, Any], side: str) -> tuple[float, bool] | None:
    """(the bound, whether it is exclusive) for "minimum" or "maximum"; draft 4's boolean
    ``exclusiveMinimum`` is read too."""
    flag = schema.get(f"exclusive{side.capitalize()}")
    plain, exclusive = as_number(schema.get(side)), as_number(flag)
    if exclusive is None:
        return (plain, flag is True) if plain is not None else None
    if plain is not None and not _tighter(side, exclusive, plain):
        return plain, False
    return exclusive, True


def _tighter(side: str, exclusive: float, plain: float) -> bool:
    return exclusive >= plain if side == "minimum" else exclusive <= plain


def as_number(value: Any) -> float | None:
    return float(value) if is_number(value) else None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def listed(values: Iterable[Any], limit: int = 8) -> str:
    shown = [str(value) for value in values]
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more


def counted(count: int, noun: str = "value") -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
