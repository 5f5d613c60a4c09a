"""Looking inside uploaded ONNX files without trusting them.

ONNX is protobuf, so reading one never runs code. What can hurt is an external-data
reference (a tensor whose bytes live "next to" the model, e.g. at ../../etc/passwd), so
those are refused before onnxruntime, which would follow them, ever sees the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onnx import GraphProto, ModelProto, TensorProto

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
MAX_IR_VERSION = 20

_NUMBER_TYPES = {"float", "double", "float16", "bfloat16"}
_INTEGER_TYPES = {"int4", "int8", "int16", "int32", "int64"} | {
    "uint4",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
}
_WRAPPED_TYPE = re.compile(r"^(tensor|seq|map|optional|sparse_tensor)\((.*)\)$")


class ArtifactRejected(Exception):
    """The file is not a loadable, self-contained ONNX model; the message says why."""


@dataclass(frozen=True)
class ModelInfo:
    ir_version: int
    opset: int | None
    producer: str
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)


def looks_like_onnx(head: bytes) -> bool:
    """A cheap sniff: serializers write ModelProto field 1 (ir_version) first, as a small varint.

    Field 1 with wire type 0 is the tag byte 0x08; versions 1..20 fit in one varint byte.
    Pickles (0x80…), zip archives ("PK…"), text and empty files all fail this.
    """
    return len(head) >= 2 and head[0] == 0x08 and 1 <= head[1] <= MAX_IR_VERSION


def inspect_model(path: str) -> ModelInfo:
    """Prove the file at ``path`` loads in onnxruntime, and describe it.

    Raises ArtifactRejected with the loader's message when it does not.
    """
    # Imported here so web processes don't pay for onnxruntime; only workers inspect files.
    import onnx
    import onnxruntime

    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as exc:
        raise ArtifactRejected(_message(exc, path)) from exc
    if any(_is_external(tensor) for tensor in _all_tensors(model)):
        raise ArtifactRejected("external data references are not allowed")
    options = onnxruntime.SessionOptions()
    # Loading proves the graph resolves; optimising would constant-fold, and a tiny file can
    # fold into gigabytes (Expand to a huge constant shape) before any limit applies.
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(
            path, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        raise ArtifactRejected(_message(exc, path)) from exc
    return ModelInfo(
        ir_version=model.ir_version,
        opset=_default_opset(model),
        producer=f"{model.producer_name} {model.producer_version}".strip(),
        inputs=[_describe(arg) for arg in session.get_inputs()],
        outputs=[_describe(arg) for arg in session.get_outputs()],
    )


def _message(exc: BaseException, path: str) -> str:
    """The loader's own words, minus the server's storage path (users see this message)."""
    text = str(exc).strip() or type(exc).__name__
    return text.replace(str(path), "the uploaded model")


def _default_opset(model: ModelProto) -> int | None:
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return max(versions, default=None)


def _describe(arg: Any) -> dict[str, Any]:
    shape = arg.shape if isinstance(arg.shape, list) else []
    return {
        "name": arg.name,
        "type": arg.type,
        # onnxruntime gives ints for fixed dims, names for symbolic ones, None when unknown.
        "shape": [dim if isinstance(dim, int | str) else "?" for dim in shape],
    }


def _is_external(tensor: TensorProto) -> bool:
    from onnx import TensorProto

    return tensor.data_location == TensorProto.EXTERNAL or len(tensor.external_data) > 0


def _all_tensors(model: ModelProto) -> Iterator[TensorProto]:
    """Every tensor in the model: initializers, attributes, subgraphs and functions."""
    yield from _graph_tensors(model.graph)
    for function in model.functions:
        for node in function.node:
            yield from _attribute_tensors(node)


def _graph_tensors(graph: GraphProto) -> Iterator[TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        yield from _attribute_tensors(node)


def _attribute_tensors(node: Any) -> Iterator[TensorProto]:
    for attribute in node.attribute:
        if attribute.HasField("t"):
            yield attribute.t
        yield from attribute.tensors
        for sparse in [attribute.sparse_tensor, *attribute.sparse_tensors]:
            yield sparse.values
            yield sparse.indices
        if attribute.HasField("g"):
            yield from _graph_tensors(attribute.g)
        for graph in attribute.graphs:
            yield from _graph_tensors(graph)


def derive_contract(
    inputs: list[dict[str, Any]], outputs: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Draft 2020-12 request and response schemas with one property per model input/output."""
    return (
        _object_schema(inputs, "Request: one field per model input."),
        _object_schema(outputs, "Response: one field per model output."),
    )


def _object_schema(args: list[dict[str, Any]], description: str) -> dict[str, Any]:
    properties = {}
    for arg in args:
        schema = _value_schema(arg["type"], arg.get("shape") or [])
        shown = ", ".join(str(dim) for dim in arg.get("shape") or [])
        schema["description"] = f"{arg['type']}, shape [{shown}]"
        properties[arg["name"]] = schema
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "type": "object",
        "description": description,
        "properties": properties,
        "required": [arg["name"] for arg in args],
    }


def _value_schema(onnx_type: str, shape: list[Any]) -> dict[str, Any]:
    """A tensor becomes nested arrays (one level per dimension) of its element type."""
    match = _WRAPPED_TYPE.match(onnx_type.strip())
    if match is None:
        return {}
    kind, inner = match.groups()
    if kind in ("tensor", "sparse_tensor"):
        schema = _element_schema(inner)
        for dim in reversed(shape):
            schema = {"type": "array", "items": schema}
            if isinstance(dim, int) and dim > 0:
                schema.update(minItems=dim, maxItems=dim)
        return schema
    if kind == "seq":
        return {"type": "array", "items": _value_schema(inner, [])}
    if kind == "map":
        # JSON object keys are always strings, whatever the map's key type.
        value_type = inner.split(",", 1)[1] if "," in inner else ""
        return {"type": "object", "additionalProperties": _value_schema(value_type, [])}
    return {}  # optional(…) and anything newer: accept any value


def _element_schema(element: str) -> dict[str, Any]:
    if element in _NUMBER_TYPES or element.startswith("float8"):
        return {"type": "number"}
    if element in _INTEGER_TYPES:
        return {"type": "integer"}
    if element == "string":
        return {"type": "string"}
    if element == "bool":
        return {"type": "boolean"}
    return {}  # complex numbers have no JSON form
