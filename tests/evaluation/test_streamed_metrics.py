"""Metrics streamed batch by batch equal scikit-learn's on all rows at once, in memory that
does not grow with the rows; past the bound of distinct scores, within the stated bound."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from registry.evaluation.metrics import Accumulator
from registry.evaluation.score_counts import ScoreCounts, key_scores, score_keys
from registry.evaluation.scoring import regression_metrics, value_figures
from registry.evaluation.sums import ExactSums
from registry.evaluation.tallies import FINE_BINS, RESIDUAL_BINS, ValueTally

EPS = float(np.finfo(np.float32).eps)


def log_loss(truth: Any, scores: np.ndarray) -> float:
    with warnings.catch_warnings():
        # Clipped, a row's probabilities may not sum to one by a float32 eps.
        warnings.simplefilter("ignore")
        return float(skm.log_loss(truth, np.clip(scores.astype(np.float64), EPS, 1 - EPS)))


def binary_with_ties(rows: int = 6_000, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Labels sorted so that the first batches hold one class only; scores rounded to two
    decimals, so many rows share a score, with exact 0s and 1s."""
    rng = np.random.default_rng(seed)
    truth = np.sort(rng.integers(0, 2, rows))
    p = np.round(np.clip(0.3 * truth + rng.random(rows) * 0.7, 0, 1), 2)
    p[rng.random(rows) < 0.02] = 1.0
    p[rng.random(rows) < 0.02] = 0.0
    scores = np.column_stack([1 - p, p]).astype(np.float32)
    return truth, scores


def streamed(truth: np.ndarray, scores: np.ndarray, batches: list[int], **kw: Any) -> Any:
    accumulator = Accumulator(regression=False, classes=kw.pop("classes", ["0", "1"]), **kw)
    start = 0
    for size in batches:
        part = slice(start, start + size)
        accumulator.add(truth=pa.array(truth[part]), predicted=None, scores=scores[part])
        start += size
    assert start == len(truth)
    return accumulator.result()


def test_streamed_binary_metrics_equal_scikit_learns_with_ties_and_one_class_batches() -> None:
    truth, scores = binary_with_ties()
    predicted = scores.argmax(axis=1)
    # The first batch holds only negatives, the last only positives, one batch is one row.
    batches = [1_000, 1, 1_499, 2_000, 1_500]

    result = streamed(truth, scores, batches)

    m, p = result.metrics, scores[:, 1]
    assert m["accuracy"] == skm.accuracy_score(truth, predicted)
    f1 = skm.f1_score(truth, predicted, average="macro")
    assert m["f1_macro"] == pytest.approx(f1, rel=1e-15)
    assert m["roc_auc"] == skm.roc_auc_score(truth, p)
    fpr, tpr, _ = skm.roc_curve(truth, p)
    assert len(fpr) < 200  # not thinned: the whole curve
    assert result.curves["roc"]["1"] == {"fpr": fpr.tolist(), "tpr": tpr.tolist()}
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(truth, p), rel=1e-15)
    assert m["log_loss"] == pytest.approx(log_loss(truth, scores), rel=1e-14)
    observed, expected = calibration_curve(truth, p.astype(np.float64), n_bins=10)
    calibration = result.curves["calibration"]["1"]
    assert calibration["observed"] == observed.tolist()
    np.testing.assert_allclose(calibration["predicted"], expected, rtol=1e-14)
    assert result.curves["confusion"] == skm.confusion_matrix(truth, predicted).tolist()


def test_the_result_does_not_depend_on_the_batches() -> None:
    truth, scores = binary_with_ties()
    order = np.random.default_rng(0).permutation(len(truth))

    one = streamed(truth, scores, [len(truth)])
    many = streamed(truth, scores, [97] * 61 + [len(truth) - 97 * 61])
    shuffled = streamed(truth[order], scores[order], [500] * 12)

    assert one.metrics == many.metrics == shuffled.metrics
    assert one.curves == many.curves == shuffled.curves


def test_streamed_multiclass_metrics_with_a_class_absent_from_batches() -> None:
    rng = np.random.default_rng(5)
    rows = 4_000
    truth = np.sort(rng.integers(0, 3, rows))  # class 2 only in the last batches
    raw = np.round(rng.random((rows, 3)) + np.eye(3)[truth] * 0.8, 1)
    scores = (raw / raw.sum(axis=1, keepdims=True)).astype(np.float32)
    names = np.array(["a", "b", "c"])

    result = streamed(names[truth], scores, [1_000] * 4, classes=["a", "b", "c"])

    m = result.metrics
    assert m["roc_auc"] == pytest.approx(
        skm.roc_auc_score(truth, scores, multi_class="ovr", average="macro"), rel=1e-14
    )
    assert m["pr_auc"] == pytest.approx(
        skm.average_precision_score(np.eye(3)[truth], scores, average="macro"), rel=1e-14
    )
    assert m["log_loss"] == pytest.approx(log_loss(truth, scores), rel=1e-14)
    predicted = scores.argmax(axis=1)
    assert m["f1_weighted"] == pytest.approx(
        skm.f1_score(truth, predicted, average="weighted"), rel=1e-15
    )
    for c, name in enumerate(names):
        assert result.per_class[name]["roc_auc"] == pytest.approx(
            skm.roc_auc_score(truth == c, scores[:, c]), rel=1e-14
        )


def test_each_slice_streamed_equals_scikit_learn_on_its_rows() -> None:
    truth, scores = binary_with_ties(3_000)
    order = np.random.default_rng(1).permutation(len(truth))
    truth, scores = truth[order], scores[order]
    shop = np.array([f"s{i}" for i in np.random.default_rng(2).integers(0, 14, len(truth))])
    accumulator = Accumulator(regression=False, classes=["0", "1"], slice_columns=["shop"])
    for start in range(0, len(truth), 400):
        part = slice(start, start + 400)
        accumulator.add(
            truth=pa.array(truth[part]),
            predicted=None,
            scores=scores[part],
            slices={"shop": pa.array(shop[part])},
        )

    slices = accumulator.result().slices

    assert sum(entry["rows"] for entry in slices) == len(truth)
    assert slices[-1]["value"] == "(other)"
    named = [entry["value"] for entry in slices[:-1]]
    for entry in slices:
        rows = shop == entry["value"] if entry["value"] in named else ~np.isin(shop, named)
        m = entry["metrics"]
        assert entry["rows"] == rows.sum() and "auc_error" not in entry
        assert m["accuracy"] == skm.accuracy_score(truth[rows], scores[rows].argmax(axis=1))
        assert m["roc_auc"] == skm.roc_auc_score(truth[rows], scores[rows, 1])
        assert m["log_loss"] == pytest.approx(log_loss(truth[rows], scores[rows]), rel=1e-14)


# Past the bound of distinct scores ----------------------------------------------------------


def test_past_the_bound_the_areas_stay_within_the_stated_error() -> None:
    rng = np.random.default_rng(8)
    rows = 50_000
    truth = rng.random(rows) < 0.3
    score = np.clip(0.25 * truth + rng.random(rows) * 0.75, 0, 1).astype(np.float32)
    counts = ScoreCounts(limit=1_000)
    for start in range(0, rows, 4_096):
        counts.add(score[start : start + 4_096], truth[start : start + 4_096])

    found = counts.curves()

    assert len(counts.keys) <= 1_000 and counts.shift > 0
    exact_roc = skm.roc_auc_score(truth, score)
    exact_pr = skm.average_precision_score(truth, score)
    assert 0 < found.roc_error < 1e-2 and 0 < found.pr_error < 5e-2
    assert abs(found.roc_auc - exact_roc) <= found.roc_error
    assert abs(found.pr_auc - exact_pr) <= found.pr_error
    assert counts.rows == rows


def test_buckets_past_the_bound_do_not_depend_on_the_batches() -> None:
    rng = np.random.default_rng(9)
    truth = rng.random(20_000) < 0.5
    score = rng.random(20_000).astype(np.float32)

    def counted(batch: int) -> ScoreCounts:
        counts = ScoreCounts(limit=500)
        for start in range(0, len(score), batch):
            counts.add(score[start : start + batch], truth[start : start + batch])
        return counts

    one, many = counted(20_000), counted(333)

    assert one.shift == many.shift
    np.testing.assert_array_equal(one.keys, many.keys)
    np.testing.assert_array_equal(one.positives, many.positives)
    assert one.curves().roc_auc == many.curves().roc_auc


def test_a_curve_past_the_bound_says_how_far_its_area_may_be() -> None:
    truth, scores = binary_with_ties(4_000)
    scores[:, 1] += np.random.default_rng(4).random(4_000).astype(np.float32) * 1e-3
    accumulator = Accumulator(regression=False, classes=["0", "1"])
    accumulator.add(truth=pa.array(truth[:10]), predicted=None, scores=scores[:10])
    assert accumulator.tally is not None
    accumulator.tally.fit(64)  # as if the bound were 64 distinct scores
    accumulator.add(truth=pa.array(truth[10:]), predicted=None, scores=scores[10:])

    result = accumulator.result()

    bound = result.curves["roc"]["1"]["auc_error"]
    exact = skm.roc_auc_score(truth, scores[:, 1])
    assert 0 < bound < 0.05 and abs(result.metrics["roc_auc"] - exact) <= bound
    assert result.curves["pr"]["1"]["auc_error"] > 0


def test_score_keys_keep_the_order_of_scores() -> None:
    values = np.array([-np.inf, -2.5, -1e-30, -0.0, 0.0, 1e-30, 0.5, 1.0, np.inf], np.float32)

    keys = score_keys(values)

    assert (np.diff(keys.astype(np.int64)) >= 0).all()
    assert keys[3] == keys[4]  # -0.0 is 0.0
    np.testing.assert_array_equal(key_scores(keys)[4:], values[4:])


# Exact sums and regression ----------------------------------------------------------------


def test_exact_sums_do_not_depend_on_order_or_batching() -> None:
    rng = np.random.default_rng(6)
    values = np.concatenate([rng.normal(0, 1e12, 5_000), rng.normal(0, 1e-9, 5_000), [1e300]])
    groups = rng.integers(0, 3, len(values))
    whole, parts = ExactSums(3), ExactSums(3)
    whole.add(values, groups)
    order = rng.permutation(len(values))
    for start in range(0, len(values), 777):
        chosen = order[start : start + 777]
        parts.add(values[chosen], groups[chosen])

    for g in range(3):
        assert whole.value(g) == parts.value(g) == math.fsum(values[groups == g])
    infinite = ExactSums()
    infinite.add(np.array([1.0, np.inf]))
    assert infinite.value() == math.inf


def test_r2_streamed_is_exact_when_the_truth_sits_far_from_zero() -> None:
    """A large offset and a small spread: the naive sum of squares less the squared sum
    would lose every digit; the exact sums do not."""
    rng = np.random.default_rng(7)
    truth = 1e8 + rng.normal(0, 1, 20_000)
    predicted = truth + rng.normal(0, 0.5, 20_000)
    tally = ValueTally()
    for start in range(0, len(truth), 3_000):
        tally.add(truth[start : start + 3_000], predicted[start : start + 3_000])

    metrics, histogram = value_figures(tally)

    assert metrics["r2"] == pytest.approx(skm.r2_score(truth, predicted), rel=1e-12)
    assert metrics["mae"] == pytest.approx(skm.mean_absolute_error(truth, predicted), rel=1e-13)
    assert metrics["rmse"] == pytest.approx(
        skm.root_mean_squared_error(truth, predicted), rel=1e-13
    )
    residuals = truth - predicted
    edges = np.array(histogram["edges"])
    assert len(histogram["counts"]) <= RESIDUAL_BINS
    assert edges[0] <= residuals.min() and residuals.max() < edges[-1]
    assert histogram["counts"] == np.histogram(residuals, bins=edges)[0].tolist()


def test_the_residual_histogram_widens_as_the_range_grows() -> None:
    tally = ValueTally()
    tally.add(np.array([0.0, 1e-6]), np.zeros(2))  # a tiny range first
    tally.add(np.array([-500.0, 3_000.0, 7.0]), np.zeros(3))

    histogram = tally.residuals.histogram()

    assert len(tally.residuals.counts) == FINE_BINS
    assert sum(histogram["counts"]) == 5 and len(histogram["counts"]) <= RESIDUAL_BINS
    assert histogram["edges"][0] <= -500.0 and histogram["edges"][-1] > 3_000.0


def test_r2_of_a_constant_truth_is_scikit_learns() -> None:
    truth = np.full(10, 3.0)

    assert regression_metrics(truth, truth)["r2"] == skm.r2_score(truth, truth) == 1.0
    assert regression_metrics(truth, truth + 1)["r2"] == skm.r2_score(truth, truth + 1) == 0.0
    assert math.isnan(regression_metrics(np.ones(1), np.ones(1))["r2"])


# Memory ----------------------------------------------------------------------------------


def test_what_is_kept_does_not_grow_with_the_rows() -> None:
    rng = np.random.default_rng(10)
    accumulator = Accumulator(
        regression=False, classes=["0", "1"], slice_columns=["shop"], sample_rows=100
    )
    sizes = []
    for _ in range(40):
        truth = rng.integers(0, 2, 5_000)
        p = rng.random(5_000).astype(np.float32)  # distinct scores: 200,000 in all
        accumulator.add(
            truth=pa.array(truth),
            predicted=None,
            scores=np.column_stack([1 - p, p]),
            slices={"shop": pa.array(rng.integers(0, 5, 5_000))},
            features={"x": p},
        )
        assert accumulator.tally is not None
        sizes.append(len(accumulator.tally.ranks[1].keys))

    assert max(sizes) <= accumulator.tally.ranks[1].limit
    assert accumulator.rows == 200_000 and accumulator.result().rows == 200_000
