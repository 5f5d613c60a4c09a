"""Evaluation metrics equal scikit-learn's on the same arrays, however the rows arrive."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from registry.evaluation.metrics import MISSING, TOP_SLICES, Accumulator, EvaluationResult
from registry.evaluation.sampling import OTHER, Codes, Reservoir
from registry.evaluation.scoring import (
    CURVE_POINTS,
    classification_metrics,
    latency,
    main_metric,
    permutation_importance,
    regression_metrics,
)

CLASSIFICATION_KEYS = {
    "accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "roc_auc",
    "pr_auc",
    "log_loss",
}


def binary(rows: int = 5_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, noisy probabilities of class 1 (float32 scores) and the predicted labels."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 2, rows)
    p = np.clip(0.35 * truth + rng.random(rows) * 0.65, 0, 1).astype(np.float32)
    scores = np.column_stack([1 - p, p]).astype(np.float32)
    return truth, scores, (p > 0.5).astype(np.int64)


def log_loss(truth: Any, scores: np.ndarray) -> float:
    """scikit-learn's log loss of float32 scores (clipped to float32's eps), in float64: on
    float32 input scikit-learn sums in float32, which rounds at about 1e-7."""
    eps = float(np.finfo(np.float32).eps)
    with warnings.catch_warnings():
        # Clipped, a row's probabilities may not sum to one by a float32 eps.
        warnings.simplefilter("ignore")
        return float(skm.log_loss(truth, np.clip(scores.astype(np.float64), eps, 1 - eps)))


def three_classes(rows: int = 3_000, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, rows)
    raw = rng.random((rows, 3)) + np.eye(3)[truth] * 0.8
    scores = (raw / raw.sum(axis=1, keepdims=True)).astype(np.float32)
    return truth, scores, scores.argmax(axis=1)


def accumulate(truth: Any, predicted: Any, scores: Any = None, batch: int = 700, **kw: Any) -> Any:
    accumulator = Accumulator(**{"regression": False, "classes": ["0", "1"], **kw})
    for start in range(0, len(truth), batch):
        part = slice(start, start + batch)
        accumulator.add(
            truth=pa.array(truth[part]),
            predicted=None if predicted is None else pa.array(predicted[part]),
            scores=None if scores is None else scores[part],
        )
    return accumulator


# Classification ----------------------------------------------------------------------------


def test_binary_metrics_equal_scikit_learns() -> None:
    truth, scores, predicted = binary()

    result = accumulate(truth, predicted, scores).result()

    m = result.metrics
    assert set(m) == CLASSIFICATION_KEYS
    assert m["accuracy"] == skm.accuracy_score(truth, predicted)
    for average in ("macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(truth, predicted, average=average)
        assert m[f"precision_{average}"] == pytest.approx(p, rel=1e-12)
        assert m[f"recall_{average}"] == pytest.approx(r, rel=1e-12)
        assert m[f"f1_{average}"] == pytest.approx(f, rel=1e-12)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(truth, scores[:, 1]), rel=1e-12)
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(truth, scores[:, 1]), rel=1e-12)
    assert m["log_loss"] == pytest.approx(log_loss(truth, scores), rel=1e-12)
    assert result.rows == len(truth)


def test_per_class_values_and_the_confusion_matrix_equal_scikit_learns() -> None:
    truth, scores, predicted = binary()

    result = accumulate(truth, predicted, scores).result()

    p, r, f, support = skm.precision_recall_fscore_support(truth, predicted)
    for c in (0, 1):
        row = result.per_class[str(c)]
        assert (row["precision"], row["recall"], row["f1"]) == pytest.approx((p[c], r[c], f[c]))
        assert row["support"] == support[c]
    # Binary: the AUCs belong to the positive class.
    assert result.per_class["1"]["roc_auc"] == result.metrics["roc_auc"]
    assert result.per_class["0"]["roc_auc"] is None
    assert result.curves["classes"] == ["0", "1"]
    assert result.curves["confusion"] == skm.confusion_matrix(truth, predicted).tolist()


def test_multiclass_metrics_are_one_vs_rest_macro_averages() -> None:
    truth, scores, predicted = three_classes()

    names = np.array(["a", "b", "c"])
    accumulator = Accumulator(regression=False, classes=["a", "b", "c"])
    accumulator.add(
        truth=pa.array(names[truth]), predicted=pa.array(names[predicted]), scores=scores
    )
    result = accumulator.result()

    m = result.metrics
    assert m["roc_auc"] == pytest.approx(
        skm.roc_auc_score(truth, scores, multi_class="ovr", average="macro"), rel=1e-9
    )
    assert m["pr_auc"] == pytest.approx(
        skm.average_precision_score(np.eye(3)[truth], scores, average="macro"), rel=1e-9
    )
    assert m["log_loss"] == pytest.approx(log_loss(truth, scores), rel=1e-12)
    assert m["f1_macro"] == pytest.approx(skm.f1_score(truth, predicted, average="macro"))
    assert sorted(result.curves["roc"]) == ["a", "b", "c"]
    assert result.per_class["b"]["roc_auc"] == pytest.approx(
        skm.roc_auc_score(truth == 1, scores[:, 1])
    )


def test_batches_give_the_same_result_as_one_pass() -> None:
    truth, scores, predicted = binary(3_001)

    small = accumulate(truth, predicted, scores, batch=97).result()
    whole = accumulate(truth, predicted, scores, batch=10_000).result()

    assert small.metrics == whole.metrics
    assert small.curves == whole.curves


def test_curves_are_thinned_to_at_most_200_points_keeping_their_ends() -> None:
    truth, scores, predicted = binary(20_000)

    curves = accumulate(truth, predicted, scores).result().curves

    fpr, tpr = curves["roc"]["1"]["fpr"], curves["roc"]["1"]["tpr"]
    assert 100 < len(fpr) <= CURVE_POINTS and len(tpr) == len(fpr)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert len(curves["pr"]["1"]["recall"]) <= CURVE_POINTS
    assert list(curves["roc"]) == ["1"]  # binary: the positive class only


def test_the_calibration_curve_is_scikit_learns_with_the_rows_per_bin() -> None:
    truth, scores, predicted = binary()

    calibration = accumulate(truth, predicted, scores).result().curves["calibration"]["1"]

    observed, predicted_p = calibration_curve(truth, scores[:, 1], n_bins=10)
    np.testing.assert_allclose(calibration["observed"], observed)
    np.testing.assert_allclose(calibration["predicted"], predicted_p, rtol=1e-6)
    assert sum(calibration["count"]) == len(truth)
    assert len(calibration["count"]) == len(observed)


def test_without_scores_only_the_label_metrics_are_computed() -> None:
    truth, _, predicted = binary()

    result = accumulate(truth, predicted).result()

    assert set(result.metrics) == CLASSIFICATION_KEYS - {"roc_auc", "pr_auc", "log_loss"}
    assert "roc" not in result.curves


def test_labels_the_model_never_predicts_only_fail_when_none_is_its_own() -> None:
    partial = Accumulator(regression=False, classes=["0", "1"])
    partial.add(truth=pa.array([0, 1, 2]), predicted=pa.array([0, 1, 1]))
    alien = Accumulator(regression=False, classes=["0", "1"])
    alien.add(truth=pa.array(["no", "yes", "no"]), predicted=pa.array([0, 1, 1]))

    assert partial.unknown_labels() == []
    assert alien.unknown_labels() == ["no", "yes"]
    result = partial.result()
    assert result.metrics["accuracy"] == pytest.approx(2 / 3)
    assert result.curves["classes"] == ["0", "1", "2"]


def test_classes_met_only_in_the_data_are_shown_in_order() -> None:
    """A predictions column names no classes: they come sorted, numbers by value."""
    accumulator = Accumulator(regression=False)
    accumulator.add(truth=pa.array([10, 2, 10, 1]), predicted=pa.array([10, 2, 1, 1]))

    result = accumulator.result()

    assert result.curves["classes"] == ["1", "2", "10"]
    assert result.curves["confusion"] == [[1, 0, 0], [0, 1, 0], [1, 0, 1]]


def test_a_label_and_a_prediction_of_the_same_class_meet_whatever_their_types() -> None:
    codes = Codes(["0", "1"])

    found = (
        codes.encode(pa.array([1.0, 0.0])),
        codes.encode(np.array([1, 0])),
        codes.encode(pa.array([True, False])),
    )

    for encoded in found:
        assert encoded.tolist() == [1, 0]
    assert codes.values == ["0", "1"]


# Regression -------------------------------------------------------------------------------


def test_regression_metrics_equal_scikit_learns() -> None:
    rng = np.random.default_rng(4)
    truth = rng.normal(50, 10, 4_000)
    predicted = truth + rng.normal(0, 3, 4_000)
    accumulator = Accumulator(regression=True)
    for part in np.array_split(np.arange(4_000), 7):
        accumulator.add(truth=pa.array(truth[part]), predicted=predicted[part].astype(np.float32))

    result = accumulator.result()

    predicted32 = predicted.astype(np.float32).astype(np.float64)
    assert result.metrics == pytest.approx(
        {
            "mae": skm.mean_absolute_error(truth, predicted32),
            "rmse": skm.root_mean_squared_error(truth, predicted32),
            "r2": skm.r2_score(truth, predicted32),
        },
        rel=1e-12,
    )
    residuals = result.curves["residuals"]
    assert sum(residuals["counts"]) == 4_000
    assert len(residuals["edges"]) == len(residuals["counts"]) + 1
    assert result.per_class == {} and "roc" not in result.curves


# Slices -----------------------------------------------------------------------------------


def test_each_slice_has_the_metrics_of_its_rows() -> None:
    truth, scores, predicted = binary(2_000)
    region = np.where(np.arange(2_000) % 4 == 0, "north", "south")
    accumulator = Accumulator(regression=False, classes=["0", "1"], slice_columns=["region"])
    accumulator.add(
        truth=pa.array(truth),
        predicted=pa.array(predicted),
        scores=scores,
        slices={"region": pa.array(region)},
    )

    slices = accumulator.result().slices

    assert [(s["column"], s["value"], s["rows"]) for s in slices] == [
        ("region", "south", 1_500),
        ("region", "north", 500),
    ]
    north = region == "north"
    assert slices[1]["metrics"]["accuracy"] == skm.accuracy_score(truth[north], predicted[north])
    assert slices[1]["metrics"]["roc_auc"] == pytest.approx(
        skm.roc_auc_score(truth[north], scores[north, 1])
    )


def test_rare_values_are_grouped_and_nulls_are_a_value_of_their_own() -> None:
    values = [f"v{i:02d}" for i in range(TOP_SLICES + 3) for _ in range(20 - i)]
    values += [None] * 30
    rows = len(values)
    accumulator = Accumulator(regression=True, slice_columns=["shop"])
    accumulator.add(
        truth=pa.array(np.arange(rows, dtype=float)),
        predicted=np.arange(rows, dtype=float) + 1,
        slices={"shop": pa.array(values)},
    )

    slices = accumulator.result().slices

    shown = [s["value"] for s in slices]
    assert shown[0] == MISSING and len(shown) == TOP_SLICES + 1 and shown[-1] == OTHER
    assert shown[1:4] == ["v00", "v01", "v02"]
    assert sum(s["rows"] for s in slices) == rows
    assert slices[0]["metrics"]["mae"] == pytest.approx(1.0)


def test_a_slice_column_with_too_many_values_groups_the_late_ones() -> None:
    codes = Codes(limit=3)

    found = codes.encode(pa.array(["a", "b", "c", "d", "a", "e"]))

    assert codes.values[:3] == ["a", "b", "c"] and codes.values[3] == OTHER
    assert found.tolist() == [0, 1, 2, 3, 0, 3]


# The sample and permutation importance -----------------------------------------------------


def test_the_sample_is_bounded_uniform_and_independent_of_batching() -> None:
    stream = np.arange(100_000)

    def sampled(batch: int) -> np.ndarray:
        reservoir = Reservoir(size=2_000, seed=7)
        for start in range(0, len(stream), batch):
            part = stream[start : start + batch]
            reservoir.add({"x": part.astype(np.float32)}, part)
        return reservoir.sample()[1]

    sample = sampled(5_000)

    assert len(sample) == 2_000 and len(np.unique(sample)) == 2_000
    assert abs(sample.mean() - 50_000) < 2_500
    assert (sample >= 50_000).mean() == pytest.approx(0.5, abs=0.05)
    np.testing.assert_array_equal(sample, sampled(1_234))


def test_a_small_stream_is_sampled_whole() -> None:
    reservoir = Reservoir(size=100, seed=0)
    reservoir.add({"x": np.arange(30.0)}, np.arange(30))

    columns, truth = reservoir.sample()

    assert truth.tolist() == list(range(30)) and columns["x"].tolist() == list(range(30))


def test_importance_is_the_drop_of_the_metric_when_a_column_is_shuffled() -> None:
    rng = np.random.default_rng(0)
    columns = {"used": rng.normal(size=2_000), "ignored": rng.normal(size=2_000)}
    truth = (columns["used"] > 0).astype(np.int32)

    def predict(arrays: Any) -> tuple[np.ndarray, None]:
        return (arrays["used"] > 0).astype(np.int32), None

    found = permutation_importance(columns, truth, predict, metric="accuracy")

    assert [row["column"] for row in found] == ["used", "ignored"]
    assert found[0]["drop"] == pytest.approx(0.5, abs=0.05) and found[0]["spread"] > 0
    assert found[1] == {"column": "ignored", "drop": 0.0, "spread": 0.0, "metric": "accuracy"}
    assert found == permutation_importance(columns, truth, predict, metric="accuracy")


def test_the_importance_metric_is_roc_auc_for_binary_scores_else_by_task() -> None:
    assert (
        main_metric({"roc_auc": 0.8}, regression=False, classes=2, binary_scores=True) == "roc_auc"
    )
    nan = {"roc_auc": math.nan}
    assert main_metric(nan, regression=False, classes=2, binary_scores=True) == "accuracy"
    assert main_metric({}, regression=False, classes=2, binary_scores=False) == "accuracy"
    assert main_metric({}, regression=False, classes=3, binary_scores=False) == "f1_macro"
    assert main_metric({}, regression=True, classes=0, binary_scores=False) == "r2"


def test_the_result_runs_importance_on_the_sample() -> None:
    truth, scores, predicted = binary(3_000)
    accumulator = Accumulator(regression=False, classes=["0", "1"], sample_rows=500)
    p = scores[:, 1]
    accumulator.add(
        truth=pa.array(truth), predicted=pa.array(predicted), scores=scores, features={"p": p}
    )
    seen: list[tuple[int, int]] = []

    def predict(arrays: Any) -> tuple[np.ndarray, np.ndarray]:
        q = arrays["p"]
        return (q > 0.5).astype(np.int32), np.column_stack([1 - q, q])

    result = accumulator.result(predict=predict, on_column=lambda d, t: seen.append((d, t)))

    assert [row["metric"] for row in result.importance] == ["roc_auc"]
    assert result.importance[0]["drop"] > 0.2
    assert seen == [(0, 1)]


# Latency and storage ----------------------------------------------------------------------


def test_latency_is_per_row_from_the_batches() -> None:
    found = latency([(1_000, 0.5), (1_000, 1.0), (500, 1.0)])

    assert found["p50_ms"] == pytest.approx(1.0)
    assert found["p95_ms"] == pytest.approx(1.9)
    assert found["rows_per_s"] == pytest.approx(2_500 / 2.5)
    assert latency([]) == {}


def test_undefined_metrics_are_stored_as_none(db: Any) -> None:
    """One class only: ROC AUC is undefined (NaN in scikit-learn), stored as null."""
    truth = np.ones(10, dtype=np.int32)
    scores = np.tile(np.array([[0.3, 0.7]], dtype=np.float32), (10, 1))

    metrics = classification_metrics(truth, truth, scores, ["0", "1"])[0]
    stored = EvaluationResult(rows=10, metrics=metrics).as_json()

    assert math.isnan(metrics["roc_auc"])
    assert stored["metrics"]["roc_auc"] is None and stored["metrics"]["accuracy"] == 1.0


def test_regression_of_nothing_is_empty() -> None:
    assert regression_metrics(np.empty(0), np.empty(0)) == {}


def test_a_numeric_label_output_indexes_the_named_classes() -> None:
    """The graph answers 0, 1, 2 for classes the mapping names: the number is the index."""
    named = Accumulator(regression=False, classes=["cultivar_1", "cultivar_2", "cultivar_3"])
    truth = pa.array(["cultivar_1", "cultivar_2", "cultivar_3", "cultivar_3"])
    named.add(truth=truth, predicted=np.array([0, 1, 2, 1], dtype=np.int64))

    assert named.result().metrics["accuracy"] == 0.75

    numbered = Accumulator(regression=False, classes=["0", "1", "2"])
    numbered.add(truth=pa.array([2, 1]), predicted=np.array([2, 0], dtype=np.int64))
    assert numbered.result().metrics["accuracy"] == 0.5


def test_a_probability_rounded_past_one_is_clipped_not_a_crash() -> None:
    """float32 models answer 1.0000001 now and then; scikit-learn refuses it in log loss."""
    accumulator = Accumulator(regression=False, classes=["0", "1"])
    scores = np.array([[1.0000001, -1e-7], [0.0, 1.0], [0.2, 0.8]], dtype=np.float32)
    accumulator.add(truth=pa.array([0, 1, 1]), predicted=np.array([0, 1, 1]), scores=scores)

    metrics = accumulator.result().metrics

    expected = skm.log_loss([0, 1, 1], np.clip(scores, 0, 1), labels=[0, 1])
    assert metrics["log_loss"] == pytest.approx(expected)
