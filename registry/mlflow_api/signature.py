"""An MLflow model's signature (from its ``MLmodel`` file) as a Handoff contract. Pure: no
Django.

Column signatures (``[{"name": "age", "type": "long"}]``) become one property per column;
tensor signatures (``{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1,
4]}}``) become nested arrays, under the tensor's name or, unnamed, under ``inputs`` /
``outputs`` as MLflow's serving payloads carry them.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from registry.onnx_inspect import JSON_SCHEMA_DIALECT

MAX_MLMODEL_BYTES = 1024 * 1024
COLUMN_TYPES: dict[str, dict[str, Any]] = {
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer"},
    "long": {"type": "integer"},
    "float": {"type": "number"},
    "double": {"type": "number"},
    "string": {"type": "string"},
    "binary": {"type": "string", "contentEncoding": "base64"},
    "datetime": {"type": "string", "format": "date-time"},
}


class SignatureError(ValueError):
    """The MLmodel file or its signature cannot be read."""


def read_mlmodel(text: bytes) -> dict[str, Any]:
    if len(text) > MAX_MLMODEL_BYTES:
        raise SignatureError(f"The MLmodel file is over {MAX_MLMODEL_BYTES:,} bytes.")
    try:
        found = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SignatureError(f"The MLmodel file is not valid YAML: {str(exc)[:200]}") from None
    if not isinstance(found, dict):
        raise SignatureError("The MLmodel file is not a mapping.")
    return found


def onnx_file(mlmodel: dict[str, Any]) -> str | None:
    """The ONNX file the model's onnx flavour names, if it has one."""
    flavour = (mlmodel.get("flavors") or {}).get("onnx")
    if isinstance(flavour, dict) and isinstance(flavour.get("data"), str):
        return flavour["data"]
    return None


def contract(mlmodel: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(input schema, output schema) from the signature, or None when there is none."""
    signature = mlmodel.get("signature")
    if not isinstance(signature, dict) or not signature.get("inputs"):
        return None
    return (
        _schema(signature.get("inputs"), "inputs", "Request"),
        _schema(signature.get("outputs"), "outputs", "Response"),
    )


def _schema(raw: Any, unnamed: str, title: str) -> dict[str, Any]:
    specs = _specs(raw)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for index, spec in enumerate(specs):
        if spec.get("type") == "tensor":
            name = spec.get("name") or (unnamed if len(specs) == 1 else f"{unnamed}_{index}")
            properties[name] = _tensor(spec.get("tensor-spec") or {})
        else:
            name = spec.get("name") or f"column_{index}"
            properties[name] = dict(COLUMN_TYPES.get(str(spec.get("type")), {}))
        if spec.get("required", True):
            required.append(name)
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "type": "object",
        "description": f"{title}: from the MLflow model signature.",
        "properties": properties,
    }
    if required:
        schema["required"] = required
    return schema


def _specs(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if isinstance(raw, str):  # MLmodel keeps each side as a JSON text
        try:
            raw = json.loads(raw)
        except ValueError:
            raise SignatureError("The signature is not valid JSON.") from None
    if not isinstance(raw, list) or not all(isinstance(spec, dict) for spec in raw):
        raise SignatureError("The signature's inputs and outputs must be lists of objects.")
    return raw


def _tensor(spec: dict[str, Any]) -> dict[str, Any]:
    dtype = str(spec.get("dtype", ""))
    if dtype.startswith(("float", "double")):
        schema: dict[str, Any] = {"type": "number"}
    elif dtype.startswith(("int", "uint")):
        schema = {"type": "integer"}
    elif dtype == "bool":
        schema = {"type": "boolean"}
    elif dtype in ("str", "object", "bytes"):
        schema = {"type": "string"}
    else:
        schema = {}
    shape = spec.get("shape") or []
    for dim in reversed(shape if isinstance(shape, list) else []):
        schema = {"type": "array", "items": schema}
        if isinstance(dim, int) and dim > 0:
            schema.update(minItems=dim, maxItems=dim)
    return schema
