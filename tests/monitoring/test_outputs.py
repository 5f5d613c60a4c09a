"""Prediction and target drift, the feedback-accuracy trend, and the dataset verdict."""

from __future__ import annotations

import numpy as np
import pytest

from registry.monitoring.stats import (
    ColumnKind,
    StatTest,
    accuracy_trend,
    column_drift,
    dataset_drift,
    prediction_drift,
    target_drift,
)

RNG = np.random.default_rng(13)


def test_float_predictions_are_compared_as_numbers():
    results = prediction_drift(RNG.normal(size=3000), RNG.normal(0.5, size=3000))

    assert list(results) == ["prediction"]
    assert results["prediction"].kind == ColumnKind.NUMERIC
    assert results["prediction"].test == StatTest.WASSERSTEIN
    assert results["prediction"].drifted


def test_label_predictions_are_compared_as_categories():
    labels = np.array(["approve", "review", "decline"])

    result = prediction_drift(labels[RNG.integers(0, 3, 500)], labels[RNG.integers(0, 3, 500)])

    assert result["prediction"].kind == ColumnKind.CATEGORICAL
    assert result["prediction"].test == StatTest.CHISQUARE


def test_class_probabilities_are_compared_per_class():
    reference = RNG.dirichlet([2, 2, 2], size=2000)
    current = RNG.dirichlet([6, 2, 2], size=2000)

    results = prediction_drift(reference, current, class_names=["cat", "dog", "fish"])

    assert list(results) == ["proba_cat", "proba_dog", "proba_fish"]
    assert results["proba_cat"].drifted


def test_integer_target_labels_are_categories():
    result = target_drift(RNG.integers(0, 2, 2000), (RNG.random(2000) < 0.8).astype(int))

    assert (result.kind, result.test, result.drifted) == (
        ColumnKind.CATEGORICAL,
        StatTest.JENSENSHANNON,
        True,
    )


def test_a_falling_accuracy_is_a_declining_trend():
    days = [f"2025-03-{d:02d}" for d in range(1, 11)]
    total = np.full(10, 200)
    correct = np.rint(total * np.linspace(0.92, 0.80, 10))

    trend = accuracy_trend(days, correct, total)

    assert trend.trend == "declining"
    assert trend.slope_per_day == pytest.approx(-0.0133, abs=0.001)
    assert trend.accuracy[0] == pytest.approx(0.92)


def test_days_without_feedback_are_skipped_and_noise_is_stable():
    total = np.array([100, 0, 100, 100, 0, 100, 100])
    correct = np.array([90, 0, 88, 91, 0, 89, 90])

    trend = accuracy_trend(list(range(7)), correct, total)

    assert trend.accuracy[1] is None
    assert trend.trend == "stable"


def test_two_days_of_feedback_are_not_a_trend():
    trend = accuracy_trend(["mon", "tue"], [9, 5], [10, 10])

    assert (trend.trend, trend.slope_per_day) == ("insufficient data", None)


def test_the_dataset_drifts_when_at_least_the_share_of_columns_drift():
    drifted = column_drift(RNG.normal(size=2000), RNG.normal(1, size=2000), kind="numeric")
    steady = column_drift(RNG.normal(size=2000), RNG.normal(size=2000), kind="numeric")
    columns = {"a": drifted, "b": steady, "c": drifted, "d": steady}

    half = dataset_drift(columns)
    stricter = dataset_drift(columns, share=0.6)

    assert (half.n_drifted, half.share, half.drifted) == (2, 0.5, True)
    assert half.drifted_columns == ["a", "c"]
    assert not stricter.drifted
    assert not dataset_drift({}).drifted
