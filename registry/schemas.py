"""JSON Schema for contracts, made safe to run on hostile schemas and payloads.

A contract is written by a team member and later runs against every logged prediction, so
validation must never reach outside the document and never take more than linear time:

* ``$ref``/``$dynamicRef`` may only point inside the document (``#…``); ``$id`` is refused,
  so a relative reference can never be resolved against a remote base; ``$schema`` may only
  name draft 2020-12. The validator's registry refuses every retrieval, so even a reference
  that slipped past these checks cannot fetch anything.
* ``pattern`` and ``patternProperties`` run on RE2, whose matching time is linear in the
  input. A pattern RE2 cannot run (look-arounds, back-references) is refused on save.
  ``unevaluatedProperties`` is refused next to ``patternProperties``, because jsonschema
  evaluates that combination with Python's backtracking ``re``.
* A reference cycle that never consumes the payload (``{"$ref": "#"}``) is caught on save by
  probing one value of each JSON type, and at run time as a RecursionError.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import re2
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError as InstanceError
from jsonschema.exceptions import best_match
from referencing import Registry
from referencing.exceptions import NoSuchResource, Unresolvable

DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_PATTERN_CHARS = 1_000
# RE2 keeps compiled programs within this budget; larger patterns are refused.
RE2_MAX_MEM = 1 << 20
# One value of each JSON type: a cycle that ignores the payload loops on one of them.
PROBES: tuple[Any, ...] = (None, True, 0, 0.5, "", [], {})


class UnsafeSchema(ValueError):
    """The schema is well-formed JSON Schema but Handoff will not run it."""


class UnrunnableSchema(ValueError):
    """Validation could not finish (an unresolvable or endless reference)."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = RE2_MAX_MEM
    return options


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Any:
    """The RE2 program of ``pattern``, or UnsafeSchema saying why it cannot run."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise UnsafeSchema(f"a pattern may have at most {MAX_PATTERN_CHARS:,} characters")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise UnsafeSchema(
            f"the pattern {pattern[:80]!r} cannot run on the linear-time engine ({reason}); "
            "look-arounds and back-references are not supported"
        ) from exc


def _search(pattern: str, text: str) -> bool:
    return compile_pattern(pattern).search(text) is not None


# Keywords that read regular expressions, re-implemented on RE2 ------------------------


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[InstanceError]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield InstanceError(f"{instance[:80]!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: Any
) -> Iterator[InstanceError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(
    validator: Any, additional: Any, instance: Any, schema: Any
) -> Iterator[InstanceError]:
    if not validator.is_type(instance, "object"):
        return
    known = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extras = sorted(
        key
        for key in instance
        if key not in known and not any(_search(pattern, key) for pattern in patterns)
    )
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
    elif additional is False and extras:
        shown = ", ".join(repr(extra[:80]) for extra in extras[:10])
        yield InstanceError(f"Additional properties are not allowed ({shown} unexpected)")


ContractValidator = validators.extend(
    Draft202012Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
)


def _refuse_retrieval(uri: str) -> Any:
    # referencing's classes are attrs classes; mypy sees only their base constructors.
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


# The registry is immutable, so one instance serves every validation.
NO_RETRIEVAL: Registry[Any] = Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]


def validator_for(schema: dict[str, Any]) -> Any:
    return ContractValidator(schema, registry=NO_RETRIEVAL)


# Checks on save -----------------------------------------------------------------------


def _walk(schema: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in the document with its path, iteratively (schemas may nest deeply).

    Data keywords (enum, const, default) are walked too: a local ``$ref`` may point into
    them and use what it finds there as a schema.
    """
    stack: list[tuple[str, Any]] = [("", schema)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            yield path, value
            stack.extend((f"{path}/{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}/{index}", item) for index, item in enumerate(value))


def _node_problem(node: dict[str, Any]) -> str | None:
    for keyword in ("$ref", "$dynamicRef"):
        target = node.get(keyword)
        if isinstance(target, str) and not target.startswith("#"):
            return (
                f"{keyword} {target[:100]!r} points outside the contract; only references "
                "inside the document (starting with #) are allowed"
            )
    if isinstance(node.get("$id"), str):
        return "$id is not allowed: a contract is one self-contained document"
    dialect = node.get("$schema")
    if isinstance(dialect, str) and dialect.rstrip("#") != DIALECT:
        return f"$schema must be {DIALECT} (draft 2020-12)"
    patterns = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
    if isinstance(node.get("patternProperties"), dict):
        patterns += list(node["patternProperties"])
    for pattern in patterns:
        try:
            compile_pattern(pattern)
        except UnsafeSchema as exc:
            return str(exc)
    return None


def check_safety(schema: dict[str, Any]) -> None:
    """Raise UnsafeSchema naming the first place Handoff will not run."""
    uses_unevaluated = False
    uses_pattern_properties = False
    for path, node in _walk(schema):
        if problem := _node_problem(node):
            raise UnsafeSchema(f"{problem} (at {path or '(root)'})")
        uses_unevaluated |= "unevaluatedProperties" in node
        uses_pattern_properties |= "patternProperties" in node
    if uses_unevaluated and uses_pattern_properties:
        raise UnsafeSchema(
            "unevaluatedProperties cannot be used in a contract that has patternProperties; "
            "use additionalProperties"
        )
    for probe in PROBES:
        first_error(probe, schema)


def first_error(instance: Any, schema: dict[str, Any]) -> InstanceError | None:
    """The most relevant reason ``instance`` breaks ``schema``, or None when it conforms.

    Raises UnrunnableSchema when validation cannot finish.
    """
    try:
        return best_match(validator_for(schema).iter_errors(instance))
    except RecursionError as exc:
        raise UnrunnableSchema(
            "validation never ends: a $ref leads back to itself without descending "
            "into the payload, or the payload nests too deeply"
        ) from exc
    except Unresolvable as exc:
        raise UnrunnableSchema(f"the reference {exc.ref!r} does not resolve") from exc
