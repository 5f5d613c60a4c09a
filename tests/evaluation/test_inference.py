"""Running an ONNX graph over pyarrow batches through a mapping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from registry.evaluation.inference import InferenceError, MissingValues, Runner
from tests.evaluation.data import FEATURES, _fitted, classifier_onnx, regressor_onnx, table

INPUTS = [{"name": "features", "dtype": "float32", "columns": FEATURES}]
OUTPUTS = {"label": "label", "scores": "probabilities", "classes": ["0", "1"]}


def batch(rows: int = 500, seed: int = 3) -> pa.RecordBatch:
    return table(rows, seed).to_batches()[0]


def test_it_gives_the_labels_and_scores_of_the_trained_model() -> None:
    data = batch()
    estimator = _fitted("classifier")
    features = np.column_stack([data[n].to_numpy() for n in FEATURES]).astype(np.float32)

    found = Runner(classifier_onnx(), INPUTS, OUTPUTS).run(data)

    assert found.labels is not None and found.scores is not None
    assert found.scores.dtype == np.float32 and found.scores.shape == (500, 2)
    np.testing.assert_allclose(found.scores, estimator.predict_proba(features), atol=1e-5)
    assert (found.labels == estimator.predict(features)).mean() > 0.99
    assert found.seconds > 0


def test_a_regression_gives_one_value_per_row() -> None:
    data = batch()
    estimator = _fitted("regressor")
    features = np.column_stack([data[n].to_numpy() for n in FEATURES]).astype(np.float32)
    outputs = {"label": "variable", "scores": "", "classes": []}

    found = Runner(regressor_onnx(), INPUTS, outputs).run(data)

    assert found.scores is None and found.labels is not None
    assert found.labels.shape == (500,)
    np.testing.assert_allclose(found.labels, estimator.predict(features), rtol=1e-4)


def test_a_null_in_a_mapped_column_names_the_column_and_the_first_row() -> None:
    data = batch(100)
    income = data.column("income").to_pylist()
    income[17] = income[40] = None
    broken = data.set_column(data.schema.get_field_index("income"), "income", pa.array(income))

    with pytest.raises(MissingValues) as raised:
        Runner(classifier_onnx(), INPUTS, OUTPUTS).run(broken, first_row=1001)

    assert str(raised.value) == "column income has 2 nulls, first at row 1018"
    assert (raised.value.column, raised.value.count) == ("income", 2)


def test_text_in_a_numeric_input_is_refused_naming_the_column() -> None:
    inputs = [
        {"name": "features", "dtype": "float32", "columns": ["age", "income", "tenure", "region"]}
    ]

    with pytest.raises(
        InferenceError, match="column region holds string values; features takes float32"
    ):
        Runner(classifier_onnx(), inputs, OUTPUTS).run(batch())


def test_a_corrupt_artifact_cannot_be_loaded(tmp_path: Path) -> None:
    path = tmp_path / "stored" / "model.onnx"
    path.parent.mkdir()
    path.write_bytes(classifier_onnx()[:200])

    with pytest.raises(InferenceError) as raised:
        Runner(path, INPUTS, OUTPUTS)

    assert str(raised.value).startswith("the artifact cannot be loaded: ")
    assert str(tmp_path) not in str(raised.value)  # people never see the storage path


def test_columns_become_tensors_of_the_inputs_rank() -> None:
    runner = Runner(classifier_onnx(), INPUTS, OUTPUTS)
    arrays = runner.column_arrays(batch(10))

    feeds = runner.feeds(arrays)

    assert list(arrays) == FEATURES
    assert all(a.dtype == np.float32 for a in arrays.values())
    assert feeds["features"].shape == (10, 4)
    np.testing.assert_array_equal(feeds["features"][:, 1], arrays["income"])


def sigmoid_onnx() -> bytes:
    """Two per-column inputs, one of rank 1 and one of rank 2, and one probability column."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("Unsqueeze", ["a", "axes"], ["a2"]),
            helper.make_node("Sub", ["a2", "b"], ["z"]),
            helper.make_node("Sigmoid", ["z"], ["p"]),
        ],
        "sigmoid",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, ["n"]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, ["n", 1]),
        ],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["n", 1])],
        [helper.make_tensor("axes", TensorProto.INT64, [1], [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def test_per_column_inputs_and_one_probability_column() -> None:
    """Each input gets its column in its own rank; one score column is the positive class's
    probability, so both classes get a score."""
    inputs = [
        {"name": "a", "dtype": "float32", "columns": ["age"]},
        {"name": "b", "dtype": "float32", "columns": ["tenure"]},
    ]
    data = pa.record_batch({"age": [0.0, 3.0], "tenure": [0.0, 1.0]})
    runner = Runner(sigmoid_onnx(), inputs, {"label": "", "scores": "p", "classes": ["0", "1"]})

    feeds = runner.feeds(runner.column_arrays(data))
    found = runner.run(data)

    assert feeds["a"].shape == (2,) and feeds["b"].shape == (2, 1)
    assert found.labels is None and found.scores is not None
    expected = 1 / (1 + np.exp(-np.array([0.0, 2.0])))
    np.testing.assert_allclose(found.scores, np.column_stack([1 - expected, expected]), atol=1e-6)


def test_booleans_feed_a_float_input() -> None:
    data = pa.record_batch(
        {
            "age": [30.0, 40.0],
            "income": [1000.0, 2000.0],
            "tenure": [1, 2],
            "tickets": [True, False],
        }
    )

    arrays = Runner(classifier_onnx(), INPUTS, OUTPUTS).column_arrays(data)

    np.testing.assert_array_equal(arrays["tickets"], [1.0, 0.0])
    assert arrays["tenure"].dtype == np.float32
