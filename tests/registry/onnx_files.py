"""Small, real ONNX files for tests, built once per test session.

Nothing here is downloaded: the classifier is trained on scikit-learn's bundled
breast-cancer data and converted with skl2onnx; the rest is assembled with onnx.helper.
"""

from __future__ import annotations

import pickle
from functools import cache

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from onnx import ModelProto, TensorProto, helper, numpy_helper
from onnx.external_data_helper import set_external_data

ONNX_HEAD = b"\x08\x08"  # ModelProto field 1 (ir_version) = 8


@cache
def breast_cancer_onnx(*, zipmap: bool = False) -> bytes:
    """A LogisticRegression on load_breast_cancer: input "features" float [None, 30].

    With ``zipmap`` the probabilities come out as seq(map(int64, tensor(float))).
    """
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    features, target = load_breast_cancer(return_X_y=True)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pipeline.fit(features.astype(np.float32), target)
    model = to_onnx(
        pipeline,
        initial_types=[("features", FloatTensorType([None, 30]))],
        options={LogisticRegression: {"zipmap": zipmap}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    return model.SerializeToString()


def _linear_model(batch: str = "batch") -> tuple[ModelProto, TensorProto]:
    weights = numpy_helper.from_array(np.arange(4, dtype=np.float32).reshape(4, 1), "weights")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "weights"], ["score"])],
        "linear-scorer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 4])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [batch, 1])],
        [weights],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="handoff-tests"
    )
    model.ir_version = 8
    return model, model.graph.initializer[0]


@cache
def linear_onnx() -> bytes:
    """A MatMul with a [4, 1] weight initializer and a symbolic batch dimension."""
    model, _ = _linear_model()
    return model.SerializeToString()


@cache
def external_data_onnx(location: str = "../../../../etc/passwd") -> bytes:
    """The linear model with its weights pointing at a file outside the upload."""
    model, weights = _linear_model()
    set_external_data(weights, location=location, offset=0, length=16)
    weights.data_location = TensorProto.EXTERNAL
    weights.ClearField("raw_data")
    return model.SerializeToString()


@cache
def unknown_op_onnx() -> bytes:
    """Well-formed protobuf that onnxruntime refuses: the operator does not exist."""
    graph = helper.make_graph(
        [helper.make_node("NoSuchOperator", ["x"], ["y"])],
        "broken",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def corrupt_onnx() -> bytes:
    """Starts like ONNX (so the sniff passes), then bytes that are not valid protobuf."""
    return ONNX_HEAD + b"\xff" * 64


def pickle_bytes() -> bytes:
    return pickle.dumps({"coef": [0.1, 0.2]}, protocol=pickle.HIGHEST_PROTOCOL)


def zip_bytes() -> bytes:
    return b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 20


def html_bytes() -> bytes:
    return b"<!doctype html><html><body>not a model</body></html>"


def onnx_upload(data: bytes, name: str = "model.onnx") -> SimpleUploadedFile:
    """``data`` as an uploaded file, the way a browser or client sends it."""
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")
