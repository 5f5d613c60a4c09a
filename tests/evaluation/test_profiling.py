"""Profiles of known data: every figure equals numpy's or pyarrow's on the same column
(quantiles within a stated tolerance), whatever the batch size and format."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from registry.evaluation import datafiles, profiling
from registry.evaluation.profiling import QUANTILES, profile
from tests.evaluation.data import REGIONS, table

# Quantile tolerance: the estimate's rank among the column's values is within 0.5 % of q
# (at 2,000 rows that is 10 rows; the t-digest does far better at 1M rows).
RANK_TOLERANCE = 0.005
NUMBERS = ["age", "income", "tenure", "tickets", "spend"]


def _within_tolerance(ordered: np.ndarray, estimate: float, q: float) -> bool:
    """Whether ``estimate`` is a q-quantile of ``ordered`` give or take RANK_TOLERANCE (a
    value shared by many rows is a quantile for every rank it covers)."""
    below = np.searchsorted(ordered, estimate, side="left") / len(ordered)
    up_to = np.searchsorted(ordered, estimate, side="right") / len(ordered)
    return bool(below - RANK_TOLERANCE <= q <= up_to + RANK_TOLERANCE)


def _by_name(result: profiling.Profile) -> dict[str, dict[str, Any]]:
    return {column["name"]: column for column in result.columns}


def _check_number(column: dict[str, Any], values: np.ndarray) -> None:
    ordered = np.sort(values)
    assert column["kind"] == "number"
    assert column["nulls"] == 0 and column["non_finite"] == 0
    assert column["min"] == ordered[0] and column["max"] == ordered[-1]
    assert column["mean"] == pytest.approx(float(values.mean()), rel=1e-12)
    assert column["std"] == pytest.approx(float(values.std(ddof=1)), rel=1e-9)
    assert column["distinct"] == len(np.unique(values)) and column["distinct_exact"]
    for name, q in QUANTILES.items():
        assert _within_tolerance(ordered, column["quantiles"][name], q), (column["name"], name)
    expected, _ = np.histogram(values, bins=column["histogram"]["edges"])
    assert column["histogram"]["counts"] == expected.tolist()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_numbers_equal_numpy_on_the_same_column(
    data_file: Callable[..., Path], suffix: str
) -> None:
    """Counts, min, max and mean exact; std as numpy's ddof=1; histogram counts exact;
    quantiles within 0.5 % of rank."""
    path = data_file(rows=2_000, suffix=suffix)
    expected = table(2_000)

    result = profile(path, suffix[1:])

    assert result.row_count == 2_000
    columns = _by_name(result)
    assert list(columns) == expected.column_names
    for name in NUMBERS:
        _check_number(columns[name], expected[name].to_numpy().astype(float))


def test_categories_count_every_value(data_file: Callable[..., Path]) -> None:
    """The region column: its values by count, most frequent first; the histogram is the
    top values with nothing left over."""
    path = data_file(rows=2_000, suffix=".parquet")
    values, counts = np.unique(table(2_000)["region"].to_numpy(), return_counts=True)
    expected = sorted(zip(values.tolist(), counts.tolist()), key=lambda vc: (-vc[1], vc[0]))

    region = _by_name(profile(path, "parquet"))["region"]

    assert region["kind"] == "category"
    assert region["distinct"] == len(REGIONS) and region["distinct_exact"]
    assert [(top["value"], top["count"]) for top in region["top"]] == expected
    assert region["top_exact"] is True
    assert region["histogram"] == {
        "values": [value for value, _ in expected],
        "counts": [count for _, count in expected],
        "other": 0,
    }


def _write(tmp_path: Path, data: pa.Table, suffix: str) -> Path:
    path = tmp_path / f"data{suffix}"
    if suffix == ".parquet":
        pq.write_table(data, path, row_group_size=7)
    else:
        pa_csv.write_csv(data, path)
    return path


def test_nulls_nan_and_infinities_are_counted_apart(tmp_path: Path) -> None:
    """Nulls are counted per column; NaN and ±inf are not numbers for the statistics."""
    data = pa.table(
        {
            "x": pa.array([1.0, None, float("nan"), 3.0, float("inf"), None, 5.0]),
            "label": pa.array(["a", None, "b", "a", None, "a", "c"]),
            "flag": pa.array([True, False, None, True, True, None, False]),
        }
    )
    columns = _by_name(profile(_write(tmp_path, data, ".parquet"), "parquet"))

    x = columns["x"]
    assert (x["nulls"], x["non_finite"], x["min"], x["max"], x["mean"]) == (2, 2, 1.0, 5.0, 3.0)
    assert sum(x["histogram"]["counts"]) == 3
    label = columns["label"]
    assert label["nulls"] == 2
    assert label["top"] == [
        {"value": "a", "count": 3},
        {"value": "b", "count": 1},
        {
            "value": "c",
            "count": 1,
        },
    ]
    flag = columns["flag"]
    assert flag["kind"] == "category" and flag["nulls"] == 2
    assert flag["top"] == [{"value": True, "count": 3}, {"value": False, "count": 2}]


def test_small_batches_give_the_same_profile_as_one_batch(
    data_file: Callable[..., Path],
) -> None:
    """Batches of 37 rows are really read 37 rows at a time (on_progress sees each), and
    every exact figure is the same as from one batch; quantiles stay within tolerance."""
    path = data_file(rows=2_000, suffix=".csv")
    seen: list[tuple[int, int | None]] = []

    small = profile(
        path, "csv", batch_rows=37, on_progress=lambda done, total: seen.append((done, total))
    )
    whole = profile(path, "csv", batch_rows=1_000_000)

    steps = [done for done, _ in seen]
    assert len(steps) == math.ceil(2_000 / 37) and steps[-1] == 2_000
    assert max(b - a for a, b in zip([0, *steps], steps)) == 37
    assert all(total is None for _, total in seen)  # a CSV does not know its rows
    for a, b in zip(small.columns, whole.columns, strict=True):
        exact = {key: value for key, value in a.items() if key not in ("quantiles", "mean", "std")}
        assert exact == {key: value for key, value in b.items() if key in exact}
        if a["kind"] == "number":
            assert a["mean"] == pytest.approx(b["mean"], rel=1e-12)
            assert a["std"] == pytest.approx(b["std"], rel=1e-9)
            values = np.sort(table(2_000)[a["name"]].to_numpy().astype(float))
            for name, q in QUANTILES.items():
                assert _within_tolerance(values, a["quantiles"][name], q)


def test_parquet_reports_its_row_total_with_progress(data_file: Callable[..., Path]) -> None:
    path = data_file(rows=2_000, suffix=".parquet")
    seen: list[tuple[int, int | None]] = []

    profile(path, "parquet", batch_rows=500, on_progress=lambda d, t: seen.append((d, t)))

    assert seen == [(500, 2_000), (1_000, 2_000), (1_500, 2_000), (2_000, 2_000)]


def test_past_the_exact_bound_distinct_counts_are_estimates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the bound at 100: 3,000 distinct numbers and texts are HyperLogLog estimates
    (within 3 %), the top text counts are marked as lower bounds; few values stay exact."""
    monkeypatch.setattr(profiling, "EXACT_DISTINCT", 100)
    rng = np.random.default_rng(2)
    ids = [f"user-{i}" for i in range(3_000)]
    data = pa.table(
        {
            "id": pa.array(ids + ids[:10]),
            "score": pa.array(np.concatenate([rng.random(3_000), rng.random(10)])),
            "small": pa.array(rng.integers(0, 20, 3_010)),
        }
    )
    columns = _by_name(profile(_write(tmp_path, data, ".parquet"), "parquet", batch_rows=250))

    for name in ("id", "score"):
        assert columns[name]["distinct_exact"] is False
        assert columns[name]["distinct"] == pytest.approx(3_000, rel=0.03)
    assert columns["id"]["top_exact"] is False
    assert columns["small"]["distinct"] == 20 and columns["small"]["distinct_exact"]


def test_dictionary_columns_are_categories_and_other_types_get_nulls(tmp_path: Path) -> None:
    """Parquet categoricals profile as their values; a column of dates or all nulls is
    named with its type and null count."""
    data = pa.table(
        {
            "tier": pa.array(["gold", "silver", "gold", None]).dictionary_encode(),
            "day": pa.array([None, "2026-01-02", "2026-01-03", None]).cast(pa.date32()),
            "empty": pa.nulls(4),
        }
    )
    columns = _by_name(profile(_write(tmp_path, data, ".parquet"), "parquet"))

    assert columns["tier"]["kind"] == "category"
    assert columns["tier"]["top"] == [
        {"value": "gold", "count": 2},
        {
            "value": "silver",
            "count": 1,
        },
    ]
    assert columns["day"]["kind"] == "other" and columns["day"]["nulls"] == 2
    assert columns["empty"] == {
        "name": "empty",
        "type": "null",
        "kind": "other",
        "nulls": 4,
        "distinct": None,
        "distinct_exact": False,
    }


def test_a_file_pyarrow_cannot_read_raises_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")

    with pytest.raises(datafiles.UnreadableDataset, match="pyarrow cannot read the file"):
        profile(path, "csv")


def test_csv_rows_are_estimated_from_the_first_lines(data_file: Callable[..., Path]) -> None:
    path = data_file(rows=20_000, suffix=".csv")
    estimate = profiling.estimate_rows(path, "csv", path.stat().st_size)
    assert estimate == pytest.approx(20_000, rel=0.05)
    parquet = data_file(rows=300, suffix=".parquet")
    assert profiling.estimate_rows(parquet, "parquet", parquet.stat().st_size) == 300
