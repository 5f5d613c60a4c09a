"""The quick contract check says "valid" only where jsonschema agrees, and says it for the
ordinary payloads of ordinary contracts."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from registry.demo.breast import _breast_contract
from registry.demo.wine import _wine_contract
from registry.quick_schema import quick_validator
from registry.schemas import validator_for

WINE_NAMES = ["alcohol", "malic_acid", "proline"]
CHURN = {
    "type": "object",
    "properties": {
        "age": {"type": "integer", "minimum": 18, "maximum": 120},
        "spend": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1000},
        "plan": {"enum": ["basic", "pro", 1, None, True]},
        "country": {"type": "string", "pattern": "^[A-Z]{2}$", "minLength": 2, "maxLength": 2},
        "note": {"type": ["string", "null"], "description": "free text", "format": "email"},
        "flags": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "version": {"const": 2},
        "anything": True,
        "nothing": False,
    },
    "required": ["age", "plan"],
    "additionalProperties": False,
}
SCHEMAS = {
    "churn": CHURN,
    "wine 1.1.0": _wine_contract(WINE_NAMES, 1)[0],
    "breast 2.0.0": _breast_contract(WINE_NAMES, "2.0.0")[0],
    "tiny": {"type": "object", "properties": {"age": {"type": "integer", "minimum": 0}}},
}
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    1.0,
    -1,
    2,
    17,
    18,
    120,
    121,
    0.0,
    -0.0,
    999.9,
    1000,
    math.nan,
    math.inf,
    -math.inf,
    "",
    "DE",
    "de",
    "DEU",
    "é",
    "LOT-123456",
    "basic",
    "cultivar_1",
    [],
    ["DE"],
    {},
    {"a": True},
    {"a": 1},
]


def _mutations(valid: Any, rng: random.Random, depth: int = 0) -> Any:
    """``valid`` with some values swapped for odd ones, keys dropped or added."""
    if isinstance(valid, dict) and depth < 4:
        mutated = {}
        for key, value in valid.items():
            roll = rng.random()
            if roll < 0.1:
                continue
            mutated[key] = (
                rng.choice(ODD_VALUES) if roll < 0.35 else _mutations(value, rng, depth + 1)
            )
        if rng.random() < 0.1:
            mutated[rng.choice(["extra", "plan", "age", "flags"])] = rng.choice(ODD_VALUES)
        return mutated
    return rng.choice(ODD_VALUES) if rng.random() < 0.2 else valid


VALID = {
    "churn": {
        "age": 30,
        "spend": 12.5,
        "plan": "pro",
        "country": "SE",
        "note": None,
        "flags": {"beta": True},
        "version": 2,
        "anything": [1, {"x": None}],
    },
    "wine 1.1.0": {
        "lot_id": "LOT-204811",
        "chemistry": {"alcohol": 13.2, "malic_acid": 1.78, "proline": 1050},
        "declared_cultivar": "cultivar_2",
    },
    "breast 2.0.0": {
        "case_id": "FNA-1",
        "measurements": {"alcohol": 1, "malic_acid": 0.5, "proline": 3.25},
        "acquisition": {"site_id": "MAD-01", "scanner_model": "Aperio AT2"},
        "return_contributions": False,
    },
    "tiny": {"age": 3, "other": "kept"},
}


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_a_quick_yes_is_always_a_yes_of_jsonschema(name: str) -> None:
    schema = SCHEMAS[name]
    quick, full = quick_validator(schema), validator_for(schema)
    assert quick is not None
    rng = random.Random(name)
    quick_yes = 0
    for _ in range(3_000):
        payload = _mutations(VALID[name], rng)
        if quick(payload):
            quick_yes += 1
            assert full.is_valid(payload), payload
    assert quick_yes > 20  # the mutations leave enough valid payloads to mean something


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_an_ordinary_valid_payload_gets_a_quick_yes(name: str) -> None:
    quick = quick_validator(SCHEMAS[name])

    assert validator_for(SCHEMAS[name]).is_valid(VALID[name])
    assert quick is not None and quick(VALID[name])


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ({"age": 30.0, "plan": "pro"}, "1.0 is an integer to jsonschema: it decides"),
        ({"age": 30, "plan": 1.0}, "1.0 equals the enum's 1 to jsonschema: it decides"),
        ({"age": True, "plan": "pro"}, "a boolean is never a number"),
        ({"age": 30, "plan": False}, "False is not the enum's 0 or None"),
        ({"age": 30}, "plan is required"),
        ({"age": 30, "plan": "pro", "nothing": 1}, "a false schema accepts nothing"),
    ],
)
def test_the_quick_check_leaves_doubtful_payloads_to_jsonschema(payload: Any, why: str) -> None:
    assert quick_validator(CHURN)(payload) is False, why  # type: ignore[misc]


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#/$defs/a", "$defs": {"a": {"type": "string"}}},
        {"allOf": [{"type": "object"}]},
        {"type": "object", "patternProperties": {"^x": {}}, "additionalProperties": False},
        {"type": "array", "items": {"type": "integer"}},
        {"enum": [{"a": 1}]},
        {"type": "decimal"},
        {"minimum": "3"},
        {"properties": {"a": {"multipleOf": 2}}},
    ],
)
def test_schemas_beyond_the_plain_subset_get_no_quick_check(schema: dict[str, Any]) -> None:
    assert quick_validator(schema) is None


def test_values_json_never_makes_are_left_to_jsonschema() -> None:
    """Subclasses and other number types get the same checks, or no quick yes."""
    from collections import OrderedDict
    from decimal import Decimal

    untyped = {"properties": {"n": {"minimum": 5}}, "required": ["n"]}
    quick, full = quick_validator(untyped), validator_for(untyped)

    assert quick is not None
    for payload in (OrderedDict(n=1), {"n": Decimal(1)}, {"n": Decimal(9)}):
        assert not quick(payload) or full.is_valid(payload), payload
    assert quick({"n": "text is not a number"})
