"""The k-sample Anderson-Darling test from counts per tied group of values. Pure.

scipy's ``anderson_ksamp`` (midrank variant, Scholz and Stephens 1987, eq. 7) needs every
value; its statistic depends only on how many of each sample fall in each group of equal
values, so the bounded mode can compute it from grouped counts. The standardisation and
the interpolated p-value (capped to [0.001, 0.25]) are scipy's.
"""

from __future__ import annotations

import math

import numpy as np

from registry.monitoring.discrete import FloatArray

# Scholz and Stephens' Table 2 interpolation coefficients, as in scipy.
_B0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
_B1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
_B2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
_SIGNIFICANCE = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
_CHUNK = 1 << 20  # the harmonic sums run over N terms: a chunk at a time keeps memory flat


def anderson_grouped(ref_counts: FloatArray, cur_counts: FloatArray) -> tuple[float, float]:
    """Standardised statistic and p-value for two samples given as counts per group,
    groups in ascending order of value."""
    counts = np.vstack([ref_counts, cur_counts]).astype(np.float64)
    counts = counts[:, counts.sum(axis=0) > 0]
    sizes = counts.sum(axis=1)
    total = float(sizes.sum())
    tied = counts.sum(axis=0)
    below = np.cumsum(tied) - tied / 2
    within = np.cumsum(counts, axis=1) - counts / 2
    inner = (
        tied
        / total
        * (total * within - below * sizes[:, None]) ** 2
        / (below * (total - below) - total * tied / 4)
    )
    a2kn = float((inner.sum(axis=1) / sizes).sum() * (total - 1) / total)
    return _standardised(a2kn, sizes, total)


def _standardised(a2kn: float, sizes: FloatArray, total: float) -> tuple[float, float]:
    k = len(sizes)
    inverse = float((1.0 / sizes).sum())
    h, g = _harmonics(int(total))
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * inverse
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * inverse - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * inverse + 4 * h
    d = (2 * h + 6) * k**2 - 4 * h * k
    n = total
    sigmasq = (a * n**3 + b * n**2 + c * n + d) / ((n - 1.0) * (n - 2.0) * (n - 3.0))
    m = k - 1
    statistic = (a2kn - m) / math.sqrt(sigmasq)
    critical = _B0 + _B1 / math.sqrt(m) + _B2 / m
    if statistic < critical.min():
        return statistic, float(_SIGNIFICANCE.max())
    if statistic > critical.max():
        return statistic, float(_SIGNIFICANCE.min())
    fit = np.polyfit(critical, np.log(_SIGNIFICANCE), 2)
    return statistic, math.exp(float(np.polyval(fit, statistic)))


def _harmonics(n: int) -> tuple[float, float]:
    """scipy's ``h`` and ``g``: partial sums of 1/(n-1), 1/(n-2), ... and their weighted sum."""
    carry, g = 0.0, 0.0
    for start in range(0, n - 2, _CHUNK):
        index = np.arange(start, min(start + _CHUNK, n - 2), dtype=np.float64)
        partial = carry + np.cumsum(1.0 / (n - 1 - index))
        g += float((partial / (index + 2)).sum())
        carry = float(partial[-1])
    return carry + 1, g
