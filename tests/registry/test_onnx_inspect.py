"""Reading ONNX files: sniffing the bytes, inspecting with onnxruntime, deriving a contract."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from django.core.exceptions import ValidationError

from registry.onnx_inspect import (
    ArtifactRejected,
    derive_contract,
    inspect_model,
    looks_like_onnx,
)
from registry.services.contracts import check_contract, check_schema
from tests.registry import onnx_files

# Sniffing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [onnx_files.breast_cancer_onnx(), onnx_files.linear_onnx(), onnx_files.corrupt_onnx()],
    ids=["sklearn", "linear", "corrupt-but-onnx-head"],
)
def test_it_sniffs_onnx_from_the_first_bytes(data: bytes) -> None:
    """The sniff is cheap: a corrupt body with a good head passes it, the loader catches it."""
    assert looks_like_onnx(data[:16])


@pytest.mark.parametrize(
    "data",
    [
        onnx_files.pickle_bytes(),
        onnx_files.zip_bytes(),
        onnx_files.html_bytes(),
        b"",
        b"\x08",
        b"\x08\x00",
        b"\x08\x7f",
        b'{"ir_version": 8}',
    ],
    ids=["pickle", "zip", "html", "empty", "one-byte", "ir-zero", "ir-too-high", "json"],
)
def test_it_does_not_take_other_files_for_onnx(data: bytes) -> None:
    assert not looks_like_onnx(data[:16])


# Inspecting ---------------------------------------------------------------------------


def test_it_describes_a_model_from_onnxruntime(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(onnx_files.breast_cancer_onnx())

    info = inspect_model(str(path))

    assert info.ir_version == 8
    assert info.opset == 17
    assert info.producer.startswith("skl2onnx")
    assert info.inputs == [{"name": "features", "type": "tensor(float)", "shape": ["?", 30]}]
    assert [o["name"] for o in info.outputs] == ["label", "probabilities"]
    assert info.outputs[1] == {"name": "probabilities", "type": "tensor(float)", "shape": ["?", 2]}


def test_it_keeps_symbolic_dimension_names(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(onnx_files.linear_onnx())

    info = inspect_model(str(path))

    assert info.inputs == [{"name": "x", "type": "tensor(float)", "shape": ["batch", 4]}]
    assert info.producer == "handoff-tests"


def test_it_refuses_external_data_before_onnxruntime_follows_it(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(onnx_files.external_data_onnx())

    with (
        mock.patch("onnxruntime.InferenceSession") as session,
        pytest.raises(ArtifactRejected, match="external data references are not allowed"),
    ):
        inspect_model(str(path))

    session.assert_not_called()


def test_it_reports_the_loader_message_without_the_storage_path(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(onnx_files.unknown_op_onnx())

    with pytest.raises(ArtifactRejected) as caught:
        inspect_model(str(path))

    assert "NoSuchOperator" in str(caught.value)
    assert str(tmp_path) not in str(caught.value)


def test_it_loads_without_graph_optimisation(tmp_path: Path) -> None:
    """Constant folding could expand a small file into gigabytes while merely loading it."""
    import onnxruntime

    path = tmp_path / "m.onnx"
    path.write_bytes(onnx_files.linear_onnx())

    with mock.patch("onnxruntime.InferenceSession", wraps=onnxruntime.InferenceSession) as session:
        inspect_model(str(path))

    options = session.call_args.kwargs["sess_options"]
    assert options.graph_optimization_level == onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    assert session.call_args.kwargs["providers"] == ["CPUExecutionProvider"]


# Deriving a contract ------------------------------------------------------------------


def test_it_derives_json_schemas_from_tensor_signatures() -> None:
    inputs = [
        {"name": "features", "type": "tensor(float)", "shape": ["?", 30]},
        {"name": "ids", "type": "tensor(int64)", "shape": ["batch"]},
        {"name": "query", "type": "tensor(string)", "shape": []},
        {"name": "flags", "type": "tensor(bool)", "shape": [2]},
    ]
    outputs = [
        {"name": "output_label", "type": "tensor(int64)", "shape": ["?"]},
        {"name": "output_probability", "type": "seq(map(int64,tensor(float)))", "shape": []},
    ]

    request, response = derive_contract(inputs, outputs)

    check_schema(request, field="input_schema")
    check_schema(response, field="output_schema")
    assert request["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert request["required"] == ["features", "ids", "query", "flags"]
    features = request["properties"]["features"]
    assert features["items"] == {
        "type": "array",
        "items": {"type": "number"},
        "minItems": 30,
        "maxItems": 30,
    }
    assert features["description"] == "tensor(float), shape [?, 30]"
    assert request["properties"]["ids"]["items"] == {"type": "integer"}
    assert request["properties"]["query"]["type"] == "string"
    assert request["properties"]["flags"]["items"] == {"type": "boolean"}
    probabilities = response["properties"]["output_probability"]
    assert probabilities["type"] == "array"
    assert probabilities["items"]["type"] == "object"
    check_contract(
        input_schema=request,
        output_schema=response,
        example_request={
            "features": [[0.5] * 30],
            "ids": [1, 2],
            "query": "lump",
            "flags": [True, False],
        },
        example_response={"output_label": [1], "output_probability": [{"0": 0.1, "1": 0.9}]},
    )


def test_a_derived_request_refuses_the_wrong_width() -> None:
    request, _ = derive_contract(
        [{"name": "features", "type": "tensor(float)", "shape": ["?", 3]}], []
    )

    with pytest.raises(ValidationError):
        check_contract(
            input_schema=request,
            output_schema={},
            example_request={"features": [[1.0, 2.0]]},
            example_response=None,
        )
