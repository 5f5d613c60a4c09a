"""A JSON Schema flattened into rows for a readable table: one row per field, dotted paths."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_ROWS = 500
MAX_DEPTH = 12


@dataclass(frozen=True)
class SchemaField:
    path: str
    type: str
    required: bool
    description: str = ""
    enum: list[str] = field(default_factory=list)
    depth: int = 0

    @property
    def parent(self) -> str:
        """The path up to and including the last separator: ``customer.`` of ``customer.age``."""
        return self.path[: len(self.path) - len(self.name)]

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]


def _type_of(schema: dict[str, Any]) -> str:
    value = schema.get("type")
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    if value:
        text = str(value)
        if text == "array" and isinstance(schema.get("items"), dict):
            inner = _type_of(schema["items"])
            return f"array of {inner}" if inner else "array"
        return text
    for keyword in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(keyword), list):
            options = [_type_of(s) for s in schema[keyword] if isinstance(s, dict)]
            return f"{keyword}: " + " | ".join(o or "any" for o in options)
    if "$ref" in schema:
        return f"$ref {schema['$ref']}"
    if "const" in schema:
        return "const"
    return ""


def _walk(schema: Any, prefix: str, depth: int, rows: list[SchemaField]) -> None:
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return
    properties = schema.get("properties")
    if isinstance(properties, dict):
        listed = schema.get("required")
        required = [n for n in listed if n in properties] if isinstance(listed, list) else []
        # PostgreSQL's jsonb does not keep object key order, so order explicitly: required
        # fields in the schema's own "required" order (a list keeps it), then the rest by name.
        names = [*dict.fromkeys(required), *sorted(set(properties) - set(required))]
        for name in names:
            sub = properties[name]
            if len(rows) >= MAX_ROWS:
                return
            path = f"{prefix}.{name}" if prefix else str(name)
            sub = sub if isinstance(sub, dict) else {}
            enum = sub.get("enum") if isinstance(sub.get("enum"), list) else None
            if enum is None and isinstance(sub.get("items"), dict):
                items_enum = sub["items"].get("enum")
                enum = items_enum if isinstance(items_enum, list) else None
            rows.append(
                SchemaField(
                    path=path,
                    type=_type_of(sub),
                    required=name in required,
                    description=str(sub.get("description") or sub.get("title") or ""),
                    enum=[json.dumps(v, ensure_ascii=False) for v in enum or []],
                    depth=depth,
                )
            )
            _walk(sub, path, depth + 1, rows)
    items = schema.get("items")
    if isinstance(items, dict):
        _walk(items, f"{prefix}[]" if prefix else "[]", depth + 1, rows)


def schema_rows(schema: Any) -> list[SchemaField]:
    """Every property of ``schema``; array items appear as ``name[].child``."""
    rows: list[SchemaField] = []
    _walk(schema, "", 0, rows)
    return rows
