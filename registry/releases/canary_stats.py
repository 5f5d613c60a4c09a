"""Two-sample comparisons of a canary with the version it replaces. Pure: numpy and scipy.

* ``compare_proportions``: a rate on each side (accuracy, error rate). The difference gets a
  95 % Wald interval (unpooled standard error); the test is the two-sided two-proportion
  z-test (pooled standard error), the same p-value as a 2x2 chi-square without correction.
* ``compare_means`` (raw values) and ``compare_mean_stats`` (count, mean and sample variance
  per side, as SQL aggregates them): Welch's comparison of means. The interval uses the
  Welch-Satterthwaite degrees of freedom; the p-value is scipy's Welch t-test
  (``ttest_ind(equal_var=False)``, or ``ttest_ind_from_stats`` on the summaries).

Differences are always *new minus old*, and "n = 1,234 / 1,210" lists the new version
first. A comparison calls the new version **worse** when p < 0.05 and the difference points
the harmful way (lower accuracy, higher latency or error rate), **better** when p < 0.05 the
other way; with fewer than ``MIN_SAMPLES`` observations on a side it says "not enough data".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from scipy import stats

ALPHA = 0.05  # a difference is significant when its p-value is below this
CONFIDENCE = 0.95
MIN_SAMPLES = 10  # observations each side needs before a comparison says anything
NOT_ENOUGH = "not enough data"


@dataclass(frozen=True)
class ProportionComparison:
    """A rate on each side, e.g. accuracy 0.812 (new) against 0.840 (old)."""

    new: float | None  # successes / n, None when n = 0
    old: float | None
    n_new: int
    n_old: int
    successes_new: int
    successes_old: int
    diff: float | None  # new - old, as a fraction (0.021 is 2.1 points)
    ci: tuple[float, float] | None  # 95 % interval of ``diff``
    p_value: float | None
    higher_is_better: bool
    worse: bool
    better: bool
    verdict: str

    @property
    def enough(self) -> bool:
        return self.p_value is not None

    @property
    def values_text(self) -> str:
        return f"{_percent(self.new)} (new) vs {_percent(self.old)} (old)"

    @property
    def difference_text(self) -> str:
        if self.diff is None or self.ci is None:
            return "—"
        low, high = (_points(end) for end in self.ci)
        return f"{_points(self.diff)} points (95% CI {low} to {high})"

    @property
    def test_text(self) -> str:
        if self.p_value is None:
            return "—"
        return f"two-proportion z-test, {_p(self.p_value)}"


@dataclass(frozen=True)
class MeanComparison:
    """A mean on each side, e.g. latency 41.0 ms (new) against 38.2 ms (old)."""

    new: float | None
    old: float | None
    n_new: int
    n_old: int
    sd_new: float | None  # sample standard deviation
    sd_old: float | None
    diff: float | None  # new - old, in ``unit``
    ci: tuple[float, float] | None  # 95 % Welch interval of ``diff``
    df: float | None  # Welch-Satterthwaite degrees of freedom
    p_value: float | None
    higher_is_better: bool
    unit: str  # "ms", or "" for a plain number
    worse: bool
    better: bool
    verdict: str

    @property
    def enough(self) -> bool:
        return self.p_value is not None

    @property
    def values_text(self) -> str:
        return f"{_amount(self.new, self.unit)} (new) vs {_amount(self.old, self.unit)} (old)"

    @property
    def difference_text(self) -> str:
        if self.diff is None or self.ci is None:
            return "—"
        low, high = (_signed(end) for end in self.ci)
        unit = f" {self.unit}" if self.unit else ""
        return f"{_signed(self.diff)}{unit} (95% CI {low} to {high}{unit})"

    @property
    def test_text(self) -> str:
        if self.p_value is None:
            return "—"
        return f"Welch's t-test, {_p(self.p_value)}"


# Proportions ------------------------------------------------------------------------------


def compare_proportions(
    *,
    successes_new: int,
    n_new: int,
    successes_old: int,
    n_old: int,
    higher_is_better: bool = True,
) -> ProportionComparison:
    """Compare ``successes_new / n_new`` with ``successes_old / n_old``."""
    if not (0 <= successes_new <= n_new and 0 <= successes_old <= n_old):
        raise ValueError("successes must lie between 0 and n on each side")
    new = successes_new / n_new if n_new else None
    old = successes_old / n_old if n_old else None
    found = ProportionComparison(
        new=new,
        old=old,
        n_new=n_new,
        n_old=n_old,
        successes_new=successes_new,
        successes_old=successes_old,
        diff=None,
        ci=None,
        p_value=None,
        higher_is_better=higher_is_better,
        worse=False,
        better=False,
        verdict=_not_enough(n_new, n_old),
    )
    if new is None or old is None or min(n_new, n_old) < MIN_SAMPLES:
        return found
    diff = new - old
    spread = math.sqrt(new * (1 - new) / n_new + old * (1 - old) / n_old)
    half = float(stats.norm.ppf(0.5 + CONFIDENCE / 2)) * spread
    pooled = (successes_new + successes_old) / (n_new + n_old)
    null_spread = math.sqrt(pooled * (1 - pooled) * (1 / n_new + 1 / n_old))
    # Every observation a success (or none): the two sides cannot differ.
    p_value = float(2 * stats.norm.sf(abs(diff) / null_spread)) if null_spread > 0 else 1.0
    worse, better = _judged(diff, p_value, higher_is_better)
    size = f"{abs(diff) * 100:.1f} points"
    return replace(
        found,
        diff=diff,
        ci=(diff - half, diff + half),
        p_value=p_value,
        worse=worse,
        better=better,
        verdict=_verdict(worse, better, size, diff, p_value, n_new, n_old),
    )


# Means ------------------------------------------------------------------------------------


def compare_means(
    new: npt.ArrayLike, old: npt.ArrayLike, *, higher_is_better: bool, unit: str = ""
) -> MeanComparison:
    """Welch's comparison of two samples' means; missing values (NaN) are left out."""
    a = _finite(new)
    b = _finite(old)
    if min(a.size, b.size) < MIN_SAMPLES:
        return _too_few(a, b, higher_is_better, unit)
    var_a, var_b = float(np.var(a, ddof=1)), float(np.var(b, ddof=1))
    # Two constant samples have no spread to test against: ``_welch`` decides them.
    p_value = None
    if var_a + var_b > 0:
        p_value = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    return _welch(
        float(a.mean()),
        var_a,
        a.size,
        float(b.mean()),
        var_b,
        b.size,
        p_value=p_value,
        higher_is_better=higher_is_better,
        unit=unit,
    )


def compare_mean_stats(
    *,
    mean_new: float | None,
    var_new: float | None,
    n_new: int,
    mean_old: float | None,
    var_old: float | None,
    n_old: int,
    higher_is_better: bool,
    unit: str = "",
) -> MeanComparison:
    """Welch's comparison from each side's count, mean and sample variance (ddof = 1)."""
    if (
        min(n_new, n_old) < MIN_SAMPLES
        or mean_new is None
        or mean_old is None
        or var_new is None
        or var_old is None
    ):
        return MeanComparison(
            new=mean_new if n_new else None,
            old=mean_old if n_old else None,
            n_new=n_new,
            n_old=n_old,
            sd_new=_sd(var_new),
            sd_old=_sd(var_old),
            diff=None,
            ci=None,
            df=None,
            p_value=None,
            higher_is_better=higher_is_better,
            unit=unit,
            worse=False,
            better=False,
            verdict=_not_enough(n_new, n_old),
        )
    var_new, var_old = max(var_new, 0.0), max(var_old, 0.0)  # SQL rounding may dip below 0
    p_value = None
    if var_new + var_old > 0:
        test = stats.ttest_ind_from_stats(
            mean_new,
            math.sqrt(var_new),
            n_new,
            mean_old,
            math.sqrt(var_old),
            n_old,
            equal_var=False,
        )
        p_value = float(test.pvalue)
    return _welch(
        mean_new,
        var_new,
        n_new,
        mean_old,
        var_old,
        n_old,
        p_value=p_value,
        higher_is_better=higher_is_better,
        unit=unit,
    )


def _welch(
    mean_a: float,
    var_a: float,
    n_a: int,
    mean_b: float,
    var_b: float,
    n_b: int,
    *,
    p_value: float | None,
    higher_is_better: bool,
    unit: str,
) -> MeanComparison:
    diff = mean_a - mean_b
    share_a, share_b = var_a / n_a, var_b / n_b
    spread = math.sqrt(share_a + share_b)
    if spread == 0:
        # Both sides constant: they differ for certain, or not at all.
        df, ci = None, (diff, diff)
        p_value = 0.0 if diff else 1.0
    else:
        df = (share_a + share_b) ** 2 / (share_a**2 / (n_a - 1) + share_b**2 / (n_b - 1))
        half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, df)) * spread
        ci = (diff - half, diff + half)
        if p_value is None or math.isnan(p_value):
            p_value = float(2 * stats.t.sf(abs(diff) / spread, df))
    worse, better = _judged(diff, p_value, higher_is_better)
    size = _amount(abs(diff), unit)
    return MeanComparison(
        new=mean_a,
        old=mean_b,
        n_new=n_a,
        n_old=n_b,
        sd_new=math.sqrt(var_a),
        sd_old=math.sqrt(var_b),
        diff=diff,
        ci=ci,
        df=df,
        p_value=p_value,
        higher_is_better=higher_is_better,
        unit=unit,
        worse=worse,
        better=better,
        verdict=_verdict(worse, better, size, diff, p_value, n_a, n_b),
    )


def _too_few(a: np.ndarray, b: np.ndarray, higher_is_better: bool, unit: str) -> MeanComparison:
    return MeanComparison(
        new=float(a.mean()) if a.size else None,
        old=float(b.mean()) if b.size else None,
        n_new=int(a.size),
        n_old=int(b.size),
        sd_new=float(np.std(a, ddof=1)) if a.size > 1 else None,
        sd_old=float(np.std(b, ddof=1)) if b.size > 1 else None,
        diff=None,
        ci=None,
        df=None,
        p_value=None,
        higher_is_better=higher_is_better,
        unit=unit,
        worse=False,
        better=False,
        verdict=_not_enough(int(a.size), int(b.size)),
    )


def _finite(values: npt.ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    return array[np.isfinite(array)]


def _sd(variance: float | None) -> float | None:
    return math.sqrt(max(variance, 0.0)) if variance is not None else None


# Verdicts ---------------------------------------------------------------------------------


def _judged(diff: float, p_value: float, higher_is_better: bool) -> tuple[bool, bool]:
    """(worse, better): significant, and which way the difference points."""
    significant = p_value < ALPHA and diff != 0
    harmful = diff < 0 if higher_is_better else diff > 0
    return significant and harmful, significant and not harmful


def _verdict(
    worse: bool, better: bool, size: str, diff: float, p_value: float, n_new: int, n_old: int
) -> str:
    """ "worse: 2.1 points lower, p = 0.003", "better: …", or "no evidence of harm at n = …"."""
    if not (worse or better):
        return f"no evidence of harm at n = {n_new:,} / {n_old:,}"
    way = "higher" if diff > 0 else "lower"
    return f"{'worse' if worse else 'better'}: {size} {way}, {_p(p_value)}"


def _not_enough(n_new: int, n_old: int) -> str:
    return f"{NOT_ENOUGH} at n = {n_new:,} / {n_old:,} (at least {MIN_SAMPLES} a side)"


def _p(p_value: float) -> str:
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def _points(fraction: float) -> str:
    """A difference of rates in points, signed: "-2.1", "+0.4"."""
    return _sign(fraction) + f"{abs(fraction) * 100:.1f}"


def _percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{fraction * 100:.1f}%"


def _signed(value: float) -> str:
    return _sign(value) + _number(abs(value))


def _sign(value: float) -> str:
    return "-" if value < 0 else "+" if value > 0 else ""


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{_number(value)} {unit}" if unit else _number(value)


def _number(value: float) -> str:
    """A short rendering: 1,234, 41.3, 0.125, 0.00012."""
    size = abs(value)
    if size >= 100:
        return f"{value:,.0f}"
    if size >= 1:
        return f"{value:.1f}"
    return f"{value:.3g}"
