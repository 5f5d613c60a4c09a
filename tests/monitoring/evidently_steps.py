"""Evidently 0.7's drift statistics, restated step by step in plain Python for parity tests.

Written from Evidently's legacy stattests (default selection, get_binned_data with its
zero fill, and each test's call into scipy), with Python dicts where it uses pandas
value_counts. Deliberately naive: it checks the vectorised code, so it shares none of it.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy import stats
from scipy.spatial import distance


def default_test(reference: list, current: list, numeric: bool) -> str:
    n_values = len(set(reference) | set(current))
    if len(reference) <= 1000:
        if numeric and n_values > 5:
            return "ks"
        return "chisquare" if n_values > 2 else "z"
    return "wasserstein" if numeric and n_values > 5 else "jensenshannon"


def binned(reference: list, current: list, numeric: bool, fill: bool):
    if numeric and len(set(reference)) > 20:
        edges = np.histogram_bin_edges(np.array(reference + current), bins="sturges")
        ref = np.histogram(reference, edges)[0] / len(reference)
        cur = np.histogram(current, edges)[0] / len(current)
    else:
        keys = list(set(reference) | set(current))
        ref_counts, cur_counts = Counter(reference), Counter(current)
        ref = np.array([ref_counts[k] / len(reference) for k in keys])
        cur = np.array([cur_counts[k] / len(current) for k in keys])
    if fill:
        for shares in (ref, cur):
            smallest = min(shares[shares != 0])
            shares[shares == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return ref, cur


def statistic(test: str, reference: list, current: list, numeric: bool) -> float:
    """Evidently's drift score: the p-value of a test, or the distance."""
    if test == "ks":
        return stats.ks_2samp(reference, current).pvalue
    if test == "z":
        keys = sorted(set(reference) | set(current))
        p1 = sum(x != keys[0] for x in reference) / len(reference)
        p2 = sum(x != keys[0] for x in current) / len(current)
        n1, n2 = len(reference), len(current)
        pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        return 2 * (1 - stats.norm.cdf(abs(z)))
    if test == "chisquare":
        keys = list(set(reference) | set(current))
        ref_counts, cur_counts = Counter(reference), Counter(current)
        scale = len(current) / len(reference)
        return stats.chisquare(
            [cur_counts[k] for k in keys], [ref_counts[k] * scale for k in keys]
        ).pvalue
    if test == "wasserstein":
        return stats.wasserstein_distance(reference, current) / max(np.std(reference), 0.001)
    if test == "jensenshannon":
        return distance.jensenshannon(*binned(reference, current, numeric, fill=False))
    if test == "psi":
        ref, cur = binned(reference, current, numeric, fill=True)
        return float(np.sum((ref - cur) * np.log(ref / cur)))
    if test == "kl_div":
        return stats.entropy(*binned(reference, current, numeric, fill=True))
    if test == "hellinger":
        return hellinger(reference, current, numeric)
    if test == "anderson":
        return stats.anderson_ksamp([np.array(reference), np.array(current)]).pvalue
    raise ValueError(test)


def hellinger(reference: list, current: list, numeric: bool) -> float:
    keys = list(set(reference) | set(current))
    if numeric:
        edges = np.histogram_bin_edges(keys, bins="sturges")
        width = (max(edges) - min(edges)) / (len(edges) - 1)
        h1 = np.histogram(reference, edges, density=True)[0]
        h2 = np.histogram(current, edges, density=True)[0]
        overlap = sum(np.sqrt(a * b) * width for a, b in zip(h1, h2, strict=True))
    else:
        ref_counts, cur_counts = Counter(reference), Counter(current)
        overlap = sum(
            np.sqrt(ref_counts[k] / len(reference) * cur_counts[k] / len(current)) for k in keys
        )
    return float(np.sqrt(1 - np.clip(overlap, 0, 1)))
