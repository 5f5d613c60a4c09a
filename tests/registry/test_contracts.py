"""Contracts: schema checks, example checks, and breaking/compatible diffs."""

import copy

import pytest
from django.core.exceptions import ValidationError

from registry.services.contracts import check_contract, check_schema, diff_contracts
from tests.registry.conftest import INPUT_V1, OUTPUT_V1


def _changes(new_input: dict, new_output: dict = OUTPUT_V1) -> list[tuple[str, str, str, str]]:
    changes = diff_contracts(
        old_input=INPUT_V1, old_output=OUTPUT_V1, new_input=new_input, new_output=new_output
    )
    return [(c.kind, c.schema, c.path, c.change) for c in changes]


def test_it_refuses_a_schema_that_is_not_json_schema() -> None:
    """The message names the field and where the schema is wrong."""
    with pytest.raises(ValidationError) as caught:
        check_schema({"type": "objekt"}, field="input_schema")
    assert "input_schema" in caught.value.message_dict
    assert "Not a valid JSON Schema at type" in caught.value.message_dict["input_schema"][0]


def test_it_refuses_schemas_that_are_not_objects_or_nest_too_deeply() -> None:
    """Lists, strings and 40-level nesting are refused with a reason."""
    with pytest.raises(ValidationError, match="must be a JSON object"):
        check_schema(["type"], field="output_schema")
    deep: dict = {}
    node = deep
    for _ in range(40):
        node["items"] = {}
        node = node["items"]
    with pytest.raises(ValidationError, match="nest at most"):
        check_schema(deep, field="input_schema")


def test_it_reports_every_bad_field_at_once() -> None:
    """Both schemas wrong → both fields named."""
    with pytest.raises(ValidationError) as caught:
        check_contract(
            input_schema={"type": 5},
            output_schema={"required": "x"},
            example_request=None,
            example_response=None,
        )
    assert set(caught.value.message_dict) == {"input_schema", "output_schema"}


def test_an_example_must_match_its_schema() -> None:
    """A request example with a wrong type names the field and the path."""
    with pytest.raises(ValidationError) as caught:
        check_contract(
            input_schema=INPUT_V1,
            output_schema=OUTPUT_V1,
            example_request={"amount": "twelve"},
            example_response=None,
        )
    message = caught.value.message_dict["example_request"][0]
    assert "amount" in message and "not of type 'number'" in message


def test_a_removed_field_and_a_new_required_field_are_breaking() -> None:
    """Old clients send what was accepted and omit what is now required."""
    new = copy.deepcopy(INPUT_V1)
    del new["properties"]["channel"]
    new["properties"]["merchant_id"] = {"type": "string"}
    new["required"].append("merchant_id")
    assert _changes(new) == [
        ("breaking", "input", "/channel", "field removed"),
        ("breaking", "input", "/merchant_id", "became required"),
        ("compatible", "input", "/merchant_id", "field added"),
    ]


def test_a_narrowed_request_breaks_and_a_widened_response_breaks() -> None:
    """amount number → integer refuses senders; a new decision value surprises readers."""
    new_in = copy.deepcopy(INPUT_V1)
    new_in["properties"]["amount"]["type"] = "integer"
    new_out = copy.deepcopy(OUTPUT_V1)
    new_out["properties"]["decision"]["enum"] = ["approve", "review", "decline", "escalate"]
    kinds = {(kind, path, change) for kind, _, path, change in _changes(new_in, new_out)}
    assert ("breaking", "/amount", "type narrowed: number → integer") in kinds
    assert ("breaking", "/decision", "enum values added: ['escalate']") in kinds


def test_widening_and_relaxing_are_compatible() -> None:
    """integer → number, an added enum value, an optional field and a dropped requirement."""
    old = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    new = {
        "type": "object",
        "properties": {"n": {"type": ["number", "null"]}, "extra": {"type": "string"}},
    }
    changes = diff_contracts(old_input=old, old_output={}, new_input=new, new_output={})
    assert {c.kind for c in changes} == {"compatible"}
    assert len(changes) == 3


def test_identical_contracts_have_no_changes() -> None:
    """No change, no noise."""
    assert _changes(copy.deepcopy(INPUT_V1)) == []


def test_it_follows_nested_objects_and_arrays() -> None:
    """A field removed inside array items is found with its path."""
    old = {"type": "array", "items": {"type": "object", "properties": {"a": {}, "b": {}}}}
    new = {"type": "array", "items": {"type": "object", "properties": {"a": {}}}}
    changes = diff_contracts(old_input=old, old_output={}, new_input=new, new_output={})
    assert [(c.kind, c.path) for c in changes] == [("breaking", "/items/b")]


def _kinds(old: dict, new: dict, side: str) -> dict[str, str]:
    """{change: kind} of one side's changes."""
    args = {"old_input": {}, "old_output": {}, "new_input": {}, "new_output": {}}
    args |= {f"old_{side}": old, f"new_{side}": new}
    return {c.change: c.kind for c in diff_contracts(**args)}


@pytest.mark.parametrize(
    ("old", "new", "change", "input_kind", "output_kind"),
    [
        ({"required": []}, {"required": ["x"]}, "became required", "breaking", "compatible"),
        ({"required": ["x"]}, {"required": []}, "no longer required", "compatible", "breaking"),
        (
            {"enum": ["a", "b"]},
            {"enum": ["a"]},
            "enum values removed: ['b']",
            "breaking",
            "compatible",
        ),
        (
            {"enum": ["a"]},
            {"enum": ["a", "b"]},
            "enum values added: ['b']",
            "compatible",
            "breaking",
        ),
        (
            {"type": ["string", "null"]},
            {"type": "string"},
            "type narrowed: ['string', 'null'] → string",
            "breaking",
            "compatible",
        ),
        (
            {"type": "string"},
            {"type": ["string", "null"]},
            "type widened: string → ['string', 'null']",
            "compatible",
            "breaking",
        ),
        ({"properties": {"x": {}}}, {"properties": {}}, "field removed", "breaking", "breaking"),
        ({"properties": {}}, {"properties": {"x": {}}}, "field added", "compatible", "compatible"),
    ],
)
def test_breaking_means_breaking_for_the_client_on_each_side(
    old, new, change, input_kind, output_kind
) -> None:
    """Requests break when narrowed; responses break when widened or when they may omit."""
    assert _kinds(old, new, "input") == {change: input_kind}
    assert _kinds(old, new, "output") == {change: output_kind}
