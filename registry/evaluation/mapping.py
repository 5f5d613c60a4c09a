"""Input mappings, pure: how dataset columns feed a version's ONNX graph and how its outputs
read, drafted from the contract and the graph's signature, and checked against the graph.

The graph's signature is the artifact's ``inputs``/``outputs`` as validation recorded them
(``registry.onnx_inspect``): ``{"name": "features", "type": "tensor(float)", "shape": ["?", 4]}``.
A mapping's ``inputs`` are ``[{"name", "dtype", "columns"}]`` in the graph's order and its
``outputs`` are ``{"label", "scores", "classes"}`` (see ``models.InputMapping``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# ONNX element types → the numpy dtype names a mapping records for them.
DTYPES = {
    "float": "float32",
    "double": "float64",
    "float16": "float16",
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "bool": "bool",
    "string": "string",
}
FLOAT_DTYPES = frozenset({"float16", "float32", "float64"})
LABEL_DTYPES = frozenset(DTYPES.values()) - FLOAT_DTYPES
SCORE_DTYPES = frozenset({"float32", "float64"})
NUMERIC_TYPES = frozenset({"number", "integer", "boolean"})
MAX_CLASSES = 1000
MAX_COLUMN_CHARS = 200
_TENSOR = re.compile(r"^tensor\((\w+)\)$")
_LABEL_NAME = re.compile(r"label|class|prediction", re.IGNORECASE)
_SCORE_NAME = re.compile(r"prob|score", re.IGNORECASE)


@dataclass(frozen=True)
class Draft:
    """A mapping proposed from the contract and the graph, with what a person should check."""

    inputs: list[dict[str, Any]]
    outputs: dict[str, Any]
    notes: list[str] = field(default_factory=list)


# The graph's signature ------------------------------------------------------------------


def dtype_of(arg: Mapping[str, Any]) -> str | None:
    """The numpy dtype name of a tensor argument, or None (maps, sequences, odd types)."""
    match = _TENSOR.match(str(arg.get("type", "")).strip())
    return DTYPES.get(match.group(1)) if match else None


def shape_of(arg: Mapping[str, Any]) -> list[Any]:
    shape = arg.get("shape")
    return list(shape) if isinstance(shape, list) else []


def width_of(arg: Mapping[str, Any]) -> int | None:
    """How many columns an input takes: 1 for [n] or [n, 1], N for [n, N], None when the
    second dimension is symbolic."""
    shape = shape_of(arg)
    if len(shape) <= 1:
        return 1
    return shape[1] if isinstance(shape[1], int) and shape[1] > 0 else None


# The contract -----------------------------------------------------------------------------


def contract_fields(input_schema: Any) -> list[tuple[str, dict[str, Any]]]:
    """The request's properties in the contract's order, nested objects flattened: each
    nested field under its own name, as a flattened table holds it."""
    return [(path[-1], schema) for path, schema in contract_paths(input_schema)]


def contract_paths(input_schema: Any) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """Each leaf property with its keys from the top of a request (``("measurements",
    "height")``), in the contract's order.

    PostgreSQL's jsonb does not keep object key order, so the order is the registry's: the
    required fields in the schema's own "required" order (a list keeps it), then the rest
    by name.
    """
    properties = input_schema.get("properties") if isinstance(input_schema, dict) else None
    if not isinstance(properties, dict):
        return []
    listed = input_schema.get("required")
    required = [n for n in listed if n in properties] if isinstance(listed, list) else []
    names = [*dict.fromkeys(required), *sorted(set(properties) - set(required))]
    fields: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    for name in names:
        schema = properties[name] if isinstance(properties[name], dict) else {}
        # An object of fields ({"measurements": {"properties": {...}}}) stands for its own
        # fields, in the same order.
        nested = contract_paths(schema) if isinstance(schema.get("properties"), dict) else []
        fields += [((name, *path), leaf) for path, leaf in nested] or [((name,), schema)]
    return fields


def is_numeric(schema: Mapping[str, Any], *, booleans: bool = True) -> bool:
    """Whether a property holds numbers, or booleans when ``booleans`` (a float tensor
    takes them; a drift test counts them as categories)."""
    declared = schema.get("type")
    types = {declared} if isinstance(declared, str) else set(declared or [])
    allowed = NUMERIC_TYPES if booleans else NUMERIC_TYPES - {"boolean"}
    if types - {"null"}:
        return types - {"null"} <= allowed
    enum = schema.get("enum", [schema["const"]] if "const" in schema else None)
    return bool(enum) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in enum or []
    )


def unmapped_fields(input_schema: Any, inputs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Notes on the contract's fields no input takes, for the page beside the mapping."""
    mapped = {column for entry in inputs for column in entry.get("columns", [])}
    notes = []
    for name, schema in contract_fields(input_schema):
        if name in mapped:
            continue
        why = "is not numeric" if not is_numeric(schema) else "is not mapped"
        notes.append(f"The contract's field {name} {why}, so no model input takes it.")
    return notes


# Drafting ---------------------------------------------------------------------------------


def draft_mapping(
    *,
    input_schema: Any,
    output_schema: Any,
    example_response: Any,
    graph_inputs: Sequence[Mapping[str, Any]],
    graph_outputs: Sequence[Mapping[str, Any]],
    regression: bool,
) -> Draft:
    """Propose a mapping; ``check_inputs``/``check_outputs`` say whether it fits."""
    fields = contract_fields(input_schema)
    if len(graph_inputs) == 1 and width_of(graph_inputs[0]) != 1:
        inputs, notes = _draft_one_matrix(graph_inputs[0], fields)
    else:
        inputs, notes = _draft_per_field(graph_inputs, fields)
    outputs = _draft_outputs(graph_outputs, output_schema, example_response, regression)
    return Draft(
        inputs=inputs, outputs=outputs, notes=notes + unmapped_fields(input_schema, inputs)
    )


def _draft_one_matrix(
    arg: Mapping[str, Any], fields: list[tuple[str, dict[str, Any]]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """One [n, N] input takes the contract's numeric fields in order."""
    numeric = [name for name, schema in fields if is_numeric(schema)]
    width = width_of(arg)
    notes = []
    if width is not None and len(numeric) != width:
        notes.append(
            f"{arg['name']} takes {width} columns and the contract has {len(numeric)} "
            "numeric fields: check which columns it takes, in which order."
        )
        numeric = numeric[:width]
    entry = {"name": arg["name"], "dtype": dtype_of(arg) or "float32", "columns": numeric}
    return [entry], notes


def _draft_per_field(
    graph_inputs: Sequence[Mapping[str, Any]], fields: list[tuple[str, dict[str, Any]]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """One input per field: by name where the graph and contract agree, else in order."""
    names = [name for name, _ in fields]
    spare = [name for name in names if name not in {arg["name"] for arg in graph_inputs}]
    inputs, notes = [], []
    for arg in graph_inputs:
        if arg["name"] in names:
            columns = [arg["name"]]
        elif spare:
            columns = [spare.pop(0)]
            notes.append(f"{arg['name']} is drafted to take {columns[0]}: check it.")
        else:
            columns = []
        inputs.append(
            {"name": arg["name"], "dtype": dtype_of(arg) or "float32", "columns": columns}
        )
    return inputs, notes


def _draft_outputs(
    graph_outputs: Sequence[Mapping[str, Any]],
    output_schema: Any,
    example_response: Any,
    regression: bool,
) -> dict[str, Any]:
    if regression:
        numeric = [arg for arg in graph_outputs if dtype_of(arg) in FLOAT_DTYPES]
        return {"label": numeric[0]["name"] if numeric else "", "scores": "", "classes": []}
    labels = [arg for arg in graph_outputs if dtype_of(arg) in LABEL_DTYPES]
    scores = [
        arg for arg in graph_outputs if dtype_of(arg) in FLOAT_DTYPES and len(shape_of(arg)) == 2
    ]
    label = _best(labels, _LABEL_NAME)
    score = _best(scores, _SCORE_NAME)
    width = width_of(score) if score else None
    return {
        "label": label["name"] if label else "",
        "scores": score["name"] if score else "",
        "classes": _named_classes(output_schema, example_response, width)
        or [str(i) for i in range(width or 0)],
    }


def _best(args: list[Mapping[str, Any]], name: re.Pattern[str]) -> Mapping[str, Any] | None:
    named = [arg for arg in args if name.search(str(arg["name"]))]
    found = named or args
    return found[0] if found else None


def _named_classes(output_schema: Any, example_response: Any, width: int | None) -> list[str]:
    """Class names the contract gives: an enum of the response's label, or the keys of a
    per-class object in the example response, when there are as many as score columns."""
    candidates: list[list[Any]] = []
    properties = output_schema.get("properties") if isinstance(output_schema, dict) else None
    for schema in (properties or {}).values():
        if isinstance(schema, dict) and isinstance(schema.get("enum"), list):
            candidates.append(schema["enum"])
    for value in (example_response or {}).values() if isinstance(example_response, dict) else []:
        if isinstance(value, dict) and all(isinstance(v, int | float) for v in value.values()):
            candidates.append(list(value))
    for names in candidates:
        if names and (width is None or len(names) == width):
            return [class_text(name) for name in names]
    return []


def class_text(value: Any) -> str:
    """A class as text, the way dataset values are read: 1.0 and 1 are both "1"."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Checking ---------------------------------------------------------------------------------


def check_inputs(inputs: Any, graph_inputs: Sequence[Mapping[str, Any]]) -> list[str]:
    """What keeps ``inputs`` from feeding the graph, in words; empty when it fits."""
    if not isinstance(inputs, list) or not all(isinstance(e, dict) for e in inputs):
        return ["Give a list with one entry (name, dtype, columns) per model input."]
    graph = {str(arg["name"]): arg for arg in graph_inputs}
    problems = []
    seen_inputs: set[str] = set()
    for entry in inputs:
        problems += _check_entry(entry, graph, seen_inputs)
    for name in graph:
        if name not in seen_inputs:
            problems.append(f"{name} is not mapped: the model needs it.")
    columns = [c for e in inputs for c in e.get("columns", []) if isinstance(c, str)]
    for column in sorted({c for c in columns if columns.count(c) > 1}):
        problems.append(f"Column {column} is mapped more than once.")
    return problems


def _check_entry(entry: dict[str, Any], graph: dict[str, Any], seen: set[str]) -> list[str]:
    name, dtype, columns = entry.get("name"), entry.get("dtype"), entry.get("columns")
    extra = sorted(set(entry) - {"name", "dtype", "columns"})
    if extra:
        return [f"An input entry takes name, dtype and columns only, not {', '.join(extra)}."]
    if not isinstance(name, str) or name not in graph:
        known = ", ".join(graph) or "nothing"
        return [f"The model has no input named {name!r}; it takes {known}."]
    if name in seen:
        return [f"{name} is mapped more than once."]
    seen.add(name)
    arg = graph[name]
    problems = []
    expected = dtype_of(arg)
    if expected is None:
        problems.append(f"{name} is a {arg.get('type')}, which cannot be fed from columns.")
    elif dtype != expected:
        problems.append(f"{name} takes {expected}, the mapping says {dtype}.")
    if len(shape_of(arg)) > 2:
        problems.append(f"{name} has {len(shape_of(arg))} dimensions; columns feed one or two.")
    if not isinstance(columns, list) or not all(
        isinstance(c, str) and c.strip() and len(c) <= MAX_COLUMN_CHARS for c in columns
    ):
        return [*problems, f"{name}: columns must be a list of column names."]
    width = width_of(arg)
    if width is not None and len(columns) != width:
        problems.append(f"{name} takes {_columns(width)}, the mapping gives {len(columns)}.")
    elif not columns:
        problems.append(f"{name} takes at least one column, the mapping gives none.")
    return problems


def _columns(count: int) -> str:
    return "one column" if count == 1 else f"{count} columns"


def check_outputs(
    outputs: Any, graph_outputs: Sequence[Mapping[str, Any]], *, regression: bool
) -> list[str]:
    """What keeps ``outputs`` from reading the graph's results, in words; empty when it fits."""
    if not isinstance(outputs, dict):
        return ["Give an object with label, scores and classes."]
    extra = set(outputs) - {"label", "scores", "classes"}
    if extra:
        return [f"Outputs take label, scores and classes only, not {sorted(extra)}."]
    graph = {str(arg["name"]): arg for arg in graph_outputs}
    label, scores = outputs.get("label", ""), outputs.get("scores", "")
    classes = outputs.get("classes", [])
    if not isinstance(label, str) or not isinstance(scores, str):
        return ["label and scores name model outputs (or are empty)."]
    if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
        return ["classes must be a list of class names."]
    if regression:
        return _check_regression(graph, label, scores, classes)
    return _check_classification(graph, label, scores, classes)


def _check_regression(
    graph: dict[str, Any], label: str, scores: str, classes: list[str]
) -> list[str]:
    problems = []
    if not label:
        problems.append("label must name the output holding the predicted value.")
    elif label not in graph:
        problems.append(_no_output(label, graph))
    elif not _reads_as(graph[label], SCORE_DTYPES) or (width_of(graph[label]) or 1) != 1:
        problems.append(f"{label} is {_described(graph[label])}; a regression reads one number.")
    if scores:
        problems.append("A regression has no scores: leave scores empty.")
    if classes:
        problems.append("A regression has no classes: leave classes empty.")
    return problems


def _check_classification(
    graph: dict[str, Any], label: str, scores: str, classes: list[str]
) -> list[str]:
    problems = []
    if not label and not scores:
        problems.append("Name the output with the predicted label, the scores, or both.")
    if label and label not in graph:
        problems.append(_no_output(label, graph))
    elif label and (not _reads_as(graph[label], LABEL_DTYPES) or len(shape_of(graph[label])) > 2):
        problems.append(f"{label} is {_described(graph[label])}; a label is integers or text.")
    if scores and scores not in graph:
        problems.append(_no_output(scores, graph))
    elif scores:
        problems += _check_scores(graph[scores], classes)
    if len(set(classes)) != len(classes):
        problems.append("Each class may be named once.")
    if len(classes) > MAX_CLASSES:
        problems.append(f"At most {MAX_CLASSES} classes.")
    return problems


def _check_scores(arg: Mapping[str, Any], classes: list[str]) -> list[str]:
    if not _reads_as(arg, SCORE_DTYPES) or len(shape_of(arg)) != 2:
        return [f"{arg['name']} is {_described(arg)}; scores are a float tensor [n, classes]."]
    if not classes:
        return ["Name the class of each score column in classes."]
    width = width_of(arg)
    # One score column is the positive class's probability of a two-class model.
    if width is not None and width != len(classes) and not (width == 1 and len(classes) == 2):
        return [f"{arg['name']} has {width} score columns, classes names {len(classes)}."]
    return []


def _reads_as(arg: Mapping[str, Any], dtypes: frozenset[str]) -> bool:
    return dtype_of(arg) in dtypes


def _described(arg: Mapping[str, Any]) -> str:
    shown = ", ".join(str(dim) for dim in shape_of(arg))
    return f"{arg.get('type')} [{shown}]"


def _no_output(name: str, graph: Mapping[str, Any]) -> str:
    return f"The model has no output named {name!r}; it gives {', '.join(graph) or 'nothing'}."


def in_graph_order(
    inputs: list[dict[str, Any]], graph_inputs: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """A fitting mapping's entries in the graph's input order, as stored."""
    order = {str(arg["name"]): i for i, arg in enumerate(graph_inputs)}
    return sorted(inputs, key=lambda entry: order[entry["name"]])
