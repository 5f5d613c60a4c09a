"""Input mappings, pure: drafted from the contract and the ONNX signature, checked against
the graph with reasons a person can act on."""

from __future__ import annotations

from typing import Any

import pytest

from registry.evaluation.mapping import (
    check_inputs,
    check_outputs,
    contract_fields,
    draft_mapping,
    in_graph_order,
    unmapped_fields,
)
from tests.evaluation.data import INPUT_SCHEMA

FEATURES = {"name": "features", "type": "tensor(float)", "shape": ["?", 4]}
LABEL = {"name": "label", "type": "tensor(int64)", "shape": ["?"]}
PROBABILITIES = {"name": "probabilities", "type": "tensor(float)", "shape": ["?", 2]}
VARIABLE = {"name": "variable", "type": "tensor(float)", "shape": ["?", 1]}
MAPPED = {"name": "features", "dtype": "float32", "columns": ["age", "income", "tenure", "tickets"]}


def draft(**overrides: Any) -> Any:
    values: dict[str, Any] = {
        "input_schema": INPUT_SCHEMA,
        "output_schema": {"type": "object"},
        "example_response": {"label": 0, "probabilities": [0.8, 0.2]},
        "graph_inputs": [FEATURES],
        "graph_outputs": [LABEL, PROBABILITIES],
        "regression": False,
    }
    return draft_mapping(**{**values, **overrides})


# Drafting ---------------------------------------------------------------------------------


def test_one_float_input_takes_the_numeric_fields_in_contract_order() -> None:
    found = draft()

    assert found.inputs == [MAPPED]
    assert found.outputs == {"label": "label", "scores": "probabilities", "classes": ["0", "1"]}
    assert check_inputs(found.inputs, [FEATURES]) == []
    assert check_outputs(found.outputs, [LABEL, PROBABILITIES], regression=False) == []


def test_the_draft_says_which_fields_it_skipped() -> None:
    found = draft()

    assert any("region is not numeric" in note for note in found.notes)


def test_the_contract_order_is_the_required_list_then_names() -> None:
    """jsonb loses key order, so the order must not depend on it."""
    schema = {
        "properties": {"b": {"type": "number"}, "z": {"type": "number"}, "a": {"type": "number"}},
        "required": ["z", "b"],
    }

    assert [name for name, _ in contract_fields(schema)] == ["z", "b", "a"]


def test_a_width_the_contract_cannot_fill_is_noted() -> None:
    wide = {**FEATURES, "shape": ["?", 6]}

    found = draft(graph_inputs=[wide])

    assert found.inputs[0]["columns"] == ["age", "income", "tenure", "tickets"]
    assert "features takes 6 columns and the contract has 4 numeric fields" in found.notes[0]
    assert check_inputs(found.inputs, [wide]) == ["features takes 6 columns, the mapping gives 4."]


def test_several_inputs_take_one_field_each_by_name_then_in_order() -> None:
    graph = [
        {"name": "income", "type": "tensor(float)", "shape": ["?", 1]},
        {"name": "x1", "type": "tensor(double)", "shape": ["?"]},
        {"name": "region", "type": "tensor(string)", "shape": ["?", 1]},
    ]

    found = draft(graph_inputs=graph)

    assert found.inputs == [
        {"name": "income", "dtype": "float32", "columns": ["income"]},
        {"name": "x1", "dtype": "float64", "columns": ["age"]},
        {"name": "region", "dtype": "string", "columns": ["region"]},
    ]
    assert "x1 is drafted to take age: check it." in found.notes
    assert check_inputs(found.inputs, graph) == []


def test_a_regression_reads_its_float_output_as_the_value() -> None:
    found = draft(graph_outputs=[VARIABLE], regression=True)

    assert found.outputs == {"label": "variable", "scores": "", "classes": []}
    assert check_outputs(found.outputs, [VARIABLE], regression=True) == []


def test_classes_come_from_the_contract_when_it_names_them() -> None:
    by_enum = draft(output_schema={"properties": {"label": {"enum": ["stay", "churn"]}}})
    by_example = draft(example_response={"probabilities": {"no": 0.8, "yes": 0.2}})

    assert by_enum.outputs["classes"] == ["stay", "churn"]
    assert by_example.outputs["classes"] == ["no", "yes"]


def test_names_that_do_not_match_the_score_width_are_not_used() -> None:
    found = draft(output_schema={"properties": {"label": {"enum": ["a", "b", "c"]}}})

    assert found.outputs["classes"] == ["0", "1"]


def test_unmapped_fields_are_explained() -> None:
    notes = unmapped_fields(INPUT_SCHEMA, [{**MAPPED, "columns": ["age", "income", "tenure"]}])

    assert notes == [
        "The contract's field tickets is not mapped, so no model input takes it.",
        "The contract's field region is not numeric, so no model input takes it.",
    ]


# Checking inputs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        (
            [{**MAPPED, "columns": ["age", "income", "tenure"]}],
            "features takes 4 columns, the mapping gives 3.",
        ),
        ([{**MAPPED, "dtype": "float64"}], "features takes float32, the mapping says float64."),
        (
            [MAPPED, {"name": "extra", "dtype": "float32", "columns": ["x"]}],
            "The model has no input named 'extra'; it takes features.",
        ),
        ([], "features is not mapped: the model needs it."),
        (
            [{**MAPPED, "columns": ["age", "age", "tenure", "tickets"]}],
            "Column age is mapped more than once.",
        ),
        ([{**MAPPED, "columns": ["age", "", "tenure", "tickets"]}], None),
        ([{**MAPPED, "colour": "red"}], "An input entry takes name, dtype and columns only"),
        ("features", "Give a list with one entry (name, dtype, columns) per model input."),
    ],
)
def test_a_mapping_that_does_not_fit_is_refused_with_the_reason(
    inputs: Any, problem: str | None
) -> None:
    problems = check_inputs(inputs, [FEATURES])

    assert problems
    if problem:
        assert any(p.startswith(problem) for p in problems), problems


def test_a_symbolic_width_takes_any_number_of_columns_but_one() -> None:
    symbolic = {**FEATURES, "shape": ["batch", "n"]}

    assert check_inputs([{**MAPPED, "columns": ["age"]}], [symbolic]) == []
    assert check_inputs([{**MAPPED, "columns": []}], [symbolic]) == [
        "features takes at least one column, the mapping gives none."
    ]


def test_entries_are_stored_in_the_graph_order() -> None:
    graph = [{"name": "b"}, {"name": "a"}]
    entries = [{"name": "a", "columns": ["x"]}, {"name": "b", "columns": ["y"]}]

    assert [e["name"] for e in in_graph_order(entries, graph)] == ["b", "a"]


# Checking outputs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outputs", "problem"),
    [
        (
            {"label": "predicted", "scores": "probabilities", "classes": ["0", "1"]},
            "The model has no output named 'predicted'; it gives label, probabilities.",
        ),
        (
            {"label": "label", "scores": "probabilities", "classes": ["0", "1", "2"]},
            "probabilities has 2 score columns, classes names 3.",
        ),
        (
            {"label": "label", "scores": "probabilities", "classes": []},
            "Name the class of each score column in classes.",
        ),
        ({"label": "", "scores": "", "classes": []}, "Name the output with the predicted label"),
        (
            {"label": "probabilities", "scores": "", "classes": []},
            "probabilities is tensor(float) [?, 2]; a label is integers or text.",
        ),
        (
            {"label": "label", "scores": "label", "classes": ["0", "1"]},
            "label is tensor(int64) [?]; scores are a float tensor [n, classes].",
        ),
        (
            {"label": "label", "scores": "probabilities", "classes": ["1", "1"]},
            "Each class may be named once.",
        ),
        ({"label": "label", "extra": 1}, "Outputs take label, scores and classes only"),
    ],
)
def test_outputs_that_do_not_fit_are_refused_with_the_reason(outputs: Any, problem: str) -> None:
    problems = check_outputs(outputs, [LABEL, PROBABILITIES], regression=False)

    assert any(p.startswith(problem) for p in problems), problems


def test_a_regression_reads_one_number_and_has_no_classes() -> None:
    outputs = {"label": "probabilities", "scores": "probabilities", "classes": ["0"]}

    problems = check_outputs(outputs, [PROBABILITIES], regression=True)

    assert problems == [
        "probabilities is tensor(float) [?, 2]; a regression reads one number.",
        "A regression has no scores: leave scores empty.",
        "A regression has no classes: leave classes empty.",
    ]


def test_one_score_column_may_name_two_classes() -> None:
    """A sigmoid output gives the positive class's probability only."""
    sigmoid = {"name": "p", "type": "tensor(float)", "shape": ["?", 1]}

    assert (
        check_outputs(
            {"label": "", "scores": "p", "classes": ["0", "1"]}, [sigmoid], regression=False
        )
        == []
    )


def test_the_fields_of_a_nested_object_are_drafted_in_their_own_order() -> None:
    """{"case_id", "measurements": {...4 numbers...}}: the tensor takes the four numbers."""
    nested = {
        "type": "object",
        "properties": {
            "case_id": {"type": "string"},
            "measurements": {
                "type": "object",
                "properties": {
                    n: {"type": "number"} for n in ("tickets", "age", "tenure", "income")
                },
                "required": ["age", "income", "tenure", "tickets"],
            },
        },
        "required": ["case_id", "measurements"],
    }

    assert [name for name, _ in contract_fields(nested)] == [
        "case_id",
        *("age", "income", "tenure", "tickets"),
    ]
    assert draft(input_schema=nested).inputs == [MAPPED]
