"""In "evidently" mode every statistic equals Evidently 0.7's to within 1e-9."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from registry.monitoring.selection import P_VALUE_TESTS
from registry.monitoring.stats import column_drift
from tests.monitoring import evidently_steps

RNG = np.random.default_rng(42)
NAMES = np.array([f"v{i}" for i in range(12)])
DATASETS = {
    "small normal": (True, RNG.normal(size=700), RNG.normal(0.1, size=650)),
    "large lognormal": (True, RNG.lognormal(size=3000), RNG.lognormal(0.05, size=2000)),
    "few values": (True, RNG.integers(0, 4, 600).astype(float), RNG.integers(0, 4, 500) * 1.0),
    "binary": (True, RNG.integers(0, 2, 800).astype(float), RNG.integers(0, 2, 900) * 1.0),
    "binary, many rows": (True, RNG.integers(0, 2, 1500) * 1.0, RNG.integers(0, 2, 900) * 1.0),
    "integers": (True, RNG.integers(0, 18, 2000).astype(float), RNG.integers(0, 20, 1800) * 1.0),
    "wide integers": (True, RNG.integers(0, 40, 3000), RNG.integers(0, 44, 2000)),
    "categories": (False, NAMES[RNG.integers(0, 10, 800)], NAMES[RNG.integers(0, 12, 900)]),
    "many rows": (False, NAMES[RNG.integers(0, 12, 4000)], NAMES[RNG.integers(1, 12, 3000)]),
}
NUMERIC_TESTS = ["ks", "wasserstein", "jensenshannon", "psi", "kl_div", "hellinger", "anderson"]
CATEGORY_TESTS = ["chisquare", "jensenshannon", "psi", "kl_div", "hellinger"]


def cases():
    for name, (numeric, _, _) in DATASETS.items():
        for test in [None, *(NUMERIC_TESTS if numeric else CATEGORY_TESTS)]:
            yield pytest.param(name, test, id=f"{name}-{test or 'default'}")


@pytest.mark.parametrize(("name", "test"), cases())
def test_evidently_mode_reproduces_evidentlys_statistics(name, test):
    numeric, reference, current = DATASETS[name]
    ref_list, cur_list = reference.tolist(), current.tolist()
    chosen = test or evidently_steps.default_test(ref_list, cur_list, numeric)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = evidently_steps.statistic(chosen, ref_list, cur_list, numeric)

    kind = "numeric" if numeric else "categorical"

    result = column_drift(reference, current, kind=kind, test=test, mode="evidently")

    assert result.test == chosen
    score = result.p_value if result.test in P_VALUE_TESTS else result.statistic
    assert score == pytest.approx(expected, rel=1e-9, abs=1e-12)
