"""Input/output contracts: JSON Schema (draft 2020-12) checks and version-to-version diffs."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError
from jsonschema.exceptions import SchemaError

from registry.choices import ChangeKind
from registry.schemas import (
    ContractValidator,
    UnrunnableSchema,
    UnsafeSchema,
    check_safety,
    first_error,
)

MAX_SCHEMA_BYTES = 256 * 1024
MAX_SCHEMA_DEPTH = 32


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_SCHEMA_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def _short(message: str, limit: int = 200) -> str:
    # jsonschema repeats the offending instance in its message; keep errors readable.
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _where(path: Any) -> str:
    return "/".join(str(p) for p in path) or "(root)"


def check_schema(schema: Any, *, field: str) -> None:
    """Raise ValidationError on ``field`` unless ``schema`` is a valid draft 2020-12 schema."""
    if not isinstance(schema, dict):
        raise ValidationError({field: "A JSON Schema must be a JSON object."})
    if len(json.dumps(schema)) > MAX_SCHEMA_BYTES:
        raise ValidationError({field: f"A schema may be at most {MAX_SCHEMA_BYTES} bytes."})
    if _depth(schema) > MAX_SCHEMA_DEPTH:
        raise ValidationError({field: f"A schema may nest at most {MAX_SCHEMA_DEPTH} levels."})
    try:
        ContractValidator.check_schema(schema)
    except SchemaError as exc:
        raise ValidationError(
            {field: f"Not a valid JSON Schema at {_where(exc.path)}: {_short(exc.message)}"}
        ) from exc
    except RecursionError as exc:
        raise ValidationError({field: "The schema nests too deeply to check."}) from exc
    try:
        check_safety(schema)
    except (UnsafeSchema, UnrunnableSchema) as exc:
        raise ValidationError({field: f"Refused: {exc}."}) from exc


def check_example(example: Any, schema: dict[str, Any], *, field: str) -> None:
    """Raise ValidationError on ``field`` unless ``example`` satisfies ``schema``."""
    if example is None or not schema:
        return
    try:
        error = first_error(example, schema)
    except UnrunnableSchema as exc:
        raise ValidationError({field: f"Cannot be checked against the contract: {exc}."}) from exc
    if error is not None:
        where = _where(error.absolute_path)
        raise ValidationError(
            {field: f"Does not match the contract at {where}: {_short(error.message)}"}
        )


def check_contract(
    *,
    input_schema: dict[str, Any],
    output_schema: dict[str, Any],
    example_request: Any,
    example_response: Any,
) -> None:
    """Validate a whole contract, reporting every bad field at once."""
    errors: dict[str, list[str]] = {}
    for schema, field in ((input_schema, "input_schema"), (output_schema, "output_schema")):
        try:
            check_schema(schema, field=field)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if not errors:
        for field, example, schema in (
            ("example_request", example_request, input_schema),
            ("example_response", example_response, output_schema),
        ):
            try:
                check_example(example, schema, field=field)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)


@dataclass(frozen=True)
class ContractChange:
    kind: str
    schema: str
    path: str
    change: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @property
    def is_breaking(self) -> bool:
        return self.kind == ChangeKind.BREAKING


def _types(schema: dict[str, Any]) -> set[str]:
    value = schema.get("type")
    if value is None:
        return set()
    types = set(value) if isinstance(value, list) else {value}
    # An integer is a number: declaring "number" accepts every integer too.
    if "number" in types:
        types.add("integer")
    return types


def _diff(old: Any, new: Any, side: str, path: str, out: list[ContractChange]) -> None:
    """Changes at ``path`` and below, graded for the side of the contract they are on.

    A request schema constrains what clients send, so narrowing it (a narrower type, fewer
    enum values, a new required field) breaks them. A response schema is what clients
    receive, so the direction flips: a response that may now hold a new type or enum value,
    or may now omit a field, breaks them; a narrower response does not. A removed field
    breaks either side: senders are refused it, readers no longer get it.
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        return

    def add(narrows_request: bool, where: str, change: str) -> None:
        breaking = narrows_request if side == "input" else not narrows_request
        kind = ChangeKind.BREAKING if breaking else ChangeKind.COMPATIBLE
        out.append(ContractChange(kind=kind, schema=side, path=where or "(root)", change=change))

    old_types, new_types = _types(old), _types(new)
    if old_types and new_types and old_types != new_types:
        shown = f"{old.get('type')} → {new.get('type')}"
        if old_types - new_types:
            add(True, path, f"type narrowed: {shown}")
        else:
            add(False, path, f"type widened: {shown}")

    if "enum" in old and "enum" in new:
        removed = [v for v in old["enum"] if v not in new["enum"]]
        added = [v for v in new["enum"] if v not in old["enum"]]
        if removed:
            add(True, path, f"enum values removed: {removed}")
        if added:
            add(False, path, f"enum values added: {added}")

    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(new_required - old_required):
        add(True, f"{path}/{name}", "became required")
    for name in sorted(old_required - new_required):
        add(False, f"{path}/{name}", "no longer required")

    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    if isinstance(old_props, dict) and isinstance(new_props, dict):
        for name in sorted(set(old_props) - set(new_props)):
            out.append(ContractChange(ChangeKind.BREAKING, side, f"{path}/{name}", "field removed"))
        for name in sorted(set(new_props) - set(old_props)):
            out.append(ContractChange(ChangeKind.COMPATIBLE, side, f"{path}/{name}", "field added"))
        for name in sorted(set(old_props) & set(new_props)):
            _diff(old_props[name], new_props[name], side, f"{path}/{name}", out)

    if "items" in old and "items" in new:
        _diff(old["items"], new["items"], side, f"{path}/items", out)


def diff_contracts(
    *, old_input: Any, old_output: Any, new_input: Any, new_output: Any
) -> list[ContractChange]:
    """Changes from one contract to the next, breaking ones first."""
    changes: list[ContractChange] = []
    _diff(old_input, new_input, "input", "", changes)
    _diff(old_output, new_output, "output", "", changes)
    return sorted(changes, key=lambda c: (not c.is_breaking, c.schema, c.path))
