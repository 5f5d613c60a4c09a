"""Degenerate columns give a result with a note, in both modes and both ways of computing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from registry.monitoring.stats import StatTest, column_drift
from tests.monitoring.data import run_bounded

NAN = np.nan
TEXT = np.array([1, "n/a", 3.5, None, 7, 8, 9], dtype=object)
NUMBERS = np.arange(50.0)
LETTERS = np.array(["a", "b"] * 10)
CASES = {
    "reference all missing": (
        "numeric",
        np.full(50, NAN),
        NUMBERS,
        "all values missing in reference",
    ),
    "current all missing": ("numeric", NUMBERS, np.full(50, NAN), "all values missing in current"),
    "both empty": ("numeric", np.empty(0), np.empty(0), "all values missing in reference"),
    "current all infinite": ("numeric", NUMBERS, np.r_[np.inf, -np.inf], "2 infinities in current"),
    "constant in both": ("numeric", np.full(80, 4.0), np.full(30, 4.0), "constant column"),
    "categories all missing": (
        "categorical",
        LETTERS,
        np.array([None, NAN], dtype=object),
        "2 missing values in current dropped",
    ),
    "constant category": ("categorical", np.full(10, "x"), np.full(4, "x"), "constant column"),
    "text in a numeric column": (
        "numeric",
        NUMBERS % 6,
        TEXT,
        "1 values in current are not numbers",
    ),
}


@pytest.mark.parametrize("mode", ["two_sample", "evidently"])
@pytest.mark.parametrize("bounded", [False, True], ids=["exact", "bounded"])
@pytest.mark.parametrize("case", CASES)
def test_degenerate_columns_are_noted_not_raised(case, bounded, mode):
    kind, reference, current, note = CASES[case]

    if bounded:
        result = run_bounded(kind, reference, current, mode=mode)
    else:
        result = column_drift(reference, current, kind=kind, mode=mode)

    assert note in result.note
    assert not result.drifted or result.test != StatTest.NONE
    json.dumps(result.as_dict(), allow_nan=False)


@pytest.mark.parametrize("bounded", [False, True], ids=["exact", "bounded"])
def test_two_different_constants_drift(bounded):
    reference, current = np.full(500, 1.0), np.full(400, 2.0)

    result = (
        run_bounded("numeric", reference, current)
        if bounded
        else column_drift(reference, current, kind="numeric")
    )

    assert result.test == StatTest.Z
    assert result.drifted


@pytest.mark.parametrize("bounded", [False, True], ids=["exact", "bounded"])
def test_new_categories_are_named_in_the_note(bounded):
    reference = np.array(["a", "b", "c"] * 400)
    current = np.array(["a", "b", "c", "d", "e", "f", "g", "h", "i"] * 100 + ["j"] * 150)

    result = (
        run_bounded("categorical", reference, current)
        if bounded
        else column_drift(reference, current, kind="categorical")
    )

    assert "7 categories new in current: j, d, e, f, g, …" in result.note
    assert result.drifted


def test_missing_categories_none_and_nan_are_dropped_and_counted():
    current = np.array(["a", None, "b", NAN, "a"], dtype=object)

    result = column_drift(np.array(["a", "b"] * 10), current, kind="categorical")

    assert result.n_current == 3
    assert "2 missing values in current dropped" in result.note
