"""A quick "certainly valid" for the common contract, ahead of jsonschema.

jsonschema builds a validator object for every property it descends into, tens of
microseconds a payload: in a batch of 10,000 logged predictions that was the largest cost.
Most contracts are objects of typed, bounded properties, and most payloads keep them. For a
schema made only of the keywords below, ``quick_validator`` compiles plain Python checks
that answer True only when jsonschema (``schemas.validator_for``) would find the payload
valid too. False means "ask jsonschema", which also gives the reasons, never "invalid" on
its own: where the two could differ (1.0 for an integer, 1 against an enum of 1.0) the quick
check says False. A schema with any other keyword gets no quick check (None).
"""

from __future__ import annotations

import numbers as abstract
from collections.abc import Callable
from typing import Any

from registry.schemas import compile_pattern

Check = Callable[[Any], bool]

# Keywords that never change whether a payload is valid (no format checker is configured).
ANNOTATIONS = frozenset(
    {"$schema", "$comment", "$defs", "title", "description", "default", "examples"}
    | {"deprecated", "readOnly", "writeOnly", "format"}
)
OBJECT_KEYWORDS = frozenset({"properties", "required", "additionalProperties"})
NUMBER_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
STRING_KEYWORDS = frozenset({"minLength", "maxLength", "pattern"})
KNOWN = ANNOTATIONS | OBJECT_KEYWORDS | NUMBER_KEYWORDS | STRING_KEYWORDS | {"type", "enum"}
SCALARS = (str, int, float, bool, type(None))
MEMO_SIZE = 4_096  # pattern results kept per check
NUMBERS = (int, float)  # exact types: bool is an int to Python, never a number to JSON Schema


def quick_validator(schema: Any) -> Check | None:
    """A check that is True only for payloads ``schema`` certainly accepts, or None."""
    try:
        return _compile(schema)
    except (_Unsupported, RecursionError):
        return None


class _Unsupported(Exception):
    pass


def _compile(schema: Any) -> Check:
    if schema is True:
        return _always
    if schema is False:
        return _never
    if not isinstance(schema, dict) or not set(schema) <= KNOWN | {"const"}:
        raise _Unsupported
    checks = []
    if "type" in schema:
        checks.append(_type(schema["type"]))
    if "enum" in schema:
        checks.append(_enum(schema["enum"]))
    if "const" in schema:
        checks.append(_enum([schema["const"]]))
    if NUMBER_KEYWORDS & set(schema):
        checks.append(_numbers(schema))
    if STRING_KEYWORDS & set(schema):
        checks.append(_strings(schema))
    if OBJECT_KEYWORDS & set(schema):
        checks.append(_objects(schema))
    return _all_of(checks)


def _always(instance: Any) -> bool:
    return True


def _never(instance: Any) -> bool:
    return False


def _all_of(checks: list[Check]) -> Check:
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda instance: first(instance) and second(instance)
    return lambda instance: all(check(instance) for check in checks)


_TYPES: dict[str, Check] = {
    "object": lambda x: type(x) is dict,
    "array": lambda x: type(x) is list,
    "string": lambda x: type(x) is str,
    "number": lambda x: type(x) in NUMBERS,
    "integer": lambda x: type(x) is int,  # 1.0 is an integer too: left to jsonschema
    "boolean": lambda x: type(x) is bool,
    "null": lambda x: x is None,
}


def _type(value: Any) -> Check:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or any(n not in _TYPES for n in names):
        raise _Unsupported
    if len(names) == 1:
        return _TYPES[names[0]]
    checks = [_TYPES[n] for n in names]
    return lambda instance: any(check(instance) for check in checks)


def _enum(members: Any) -> Check:
    if not isinstance(members, list) or not all(isinstance(m, SCALARS) for m in members):
        raise _Unsupported
    # Same type and equal: jsonschema's equality also takes 1 for 1.0; that is left to it.
    allowed = {(type(m), m) for m in members}
    return lambda instance: isinstance(instance, SCALARS) and (type(instance), instance) in allowed


def _numbers(schema: dict[str, Any]) -> Check:
    bounds = [schema.get(name) for name in NUMBER_KEYWORDS if name in schema]
    if any(type(bound) not in NUMBERS for bound in bounds):
        raise _Unsupported
    low, high = schema.get("minimum"), schema.get("maximum")
    above, below = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")

    def numbers(x: Any) -> bool:
        if type(x) not in NUMBERS:
            # Not a number at all passes; Decimal and the like are left to jsonschema.
            return isinstance(x, bool) or not isinstance(x, abstract.Number)
        # Each fails as jsonschema's does (``instance < minimum``), so NaN passes alike.
        return not (
            (low is not None and x < low)
            or (high is not None and x > high)
            or (above is not None and x <= above)
            or (below is not None and x >= below)
        )

    return numbers


def _strings(schema: dict[str, Any]) -> Check:
    shortest, longest = schema.get("minLength"), schema.get("maxLength")
    pattern = schema.get("pattern")
    if any(v is not None and type(v) is not int for v in (shortest, longest)):
        raise _Unsupported
    if pattern is not None and not isinstance(pattern, str):
        raise _Unsupported
    program = compile_pattern(pattern) if pattern is not None else None  # the validator's RE2
    # Strings in payloads repeat (countries, plans, codes): each is matched once a batch.
    matched: dict[str, bool] = {}

    def matches(x: str) -> bool:
        found = matched.get(x)
        if found is None:
            found = program is None or program.search(x) is not None
            if len(matched) < MEMO_SIZE:
                matched[x] = found
        return found

    def strings(x: Any) -> bool:
        if not isinstance(x, str):
            return True
        return not (
            (shortest is not None and len(x) < shortest)
            or (longest is not None and len(x) > longest)
            or not matches(x)
        )

    return strings


def _objects(schema: dict[str, Any]) -> Check:
    properties, required = schema.get("properties", {}), schema.get("required", [])
    additional = schema.get("additionalProperties", True)
    if not isinstance(properties, dict) or not isinstance(required, list):
        raise _Unsupported
    if not all(isinstance(name, str) for name in required):
        raise _Unsupported
    checks = {name: _compile(sub) for name, sub in properties.items()}
    extra = None if additional is True else _compile(additional)

    def objects(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for name in required:
            if name not in x:
                return False
        for key, value in x.items():
            check = checks.get(key, extra)
            if check is not None and not check(value):
                return False
        return True

    return objects
