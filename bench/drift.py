"""Drift statistics at scale, next to plain numpy/scipy and (when importable) Evidently 0.7.

    .venv/bin/python bench/drift.py               # without Evidently: its figures are null
    /tmp/evvenv/bin/python bench/drift.py         # a venv with evidently==0.7.23 as well
    /tmp/evvenv/bin/python bench/drift.py --only stats   # (a) to (c): in memory, no database

Pure but for (e): no Django, no database. Seeded
synthetic data, generated in every child the same way: 20 numeric columns (normal,
lognormal, uniform; some shifted or widened in current) and 5 categorical columns of 10 to
50 categories (some re-weighted in current), as numpy arrays. Every piece runs in a child
process of its own (this script with ``--child``), so its peak memory is its own:

(a) ``stats.column_drift`` on every column and ``dataset_drift``, default ``two_sample``
    mode and ``Mode.EVIDENTLY``, at 10k, 100k and 1M rows a side;
(b) at 1M rows, a plain numpy/scipy version of the same default tests (Wasserstein normed
    by the reference's std, Jensen-Shannon on category shares), taking turns with (a); the
    two must reach the same verdicts;
(c) when ``import evidently`` works, Evidently's ``DataDriftPreset`` on the same 1M rows,
    and the largest difference between its per-column scores and ``Mode.EVIDENTLY``'s;
(d) the bounded mode: ``ReferenceSummary.from_values`` on the reference, then the current
    window streamed chunk by chunk into ``CurrentAccumulator`` (generated a chunk at a time,
    never whole) and ``column_drift_bounded``: at 100k and 1M rows (same data as (a)) and
    on 10M current rows against a 1M-row reference; its verdicts against exact mode's on
    the same data (at 10M exact mode runs a column at a time, in a child of its own);
(e) with DATABASE_URL=postgres://…, the drift task end to end: bench/drift_e2e.py stores
    1M predictions with these 25 features in a database of its own and times the report.

Last line: ``BENCH {...}`` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from measure import load_average, peak_mb, say, timed

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261
SIZES = (10_000, 100_000, 1_000_000)
BIG = 1_000_000  # the size of the side-by-side comparisons
BOUNDED_ROWS = 10_000_000  # current rows streamed in the bounded run
BOUNDED_REFERENCE_ROWS = 1_000_000
CHUNK = 250_000  # rows generated (and streamed) at a time, whatever the size
MODES = ("two_sample", "evidently")
THRESHOLD = 0.1  # Wasserstein (normed) and Jensen-Shannon: drift at a distance >= 0.1
STD_FLOOR = 0.001  # Evidently's floor under the reference's std in the Wasserstein norm
DATASET_SHARE = 0.5

# (name, family, shift of the mean in the family's standard deviations, widening factor)
NUMERIC = [
    ("num_00", "normal", 0.0, 1.0),
    ("num_01", "lognormal", 0.0, 1.0),
    ("num_02", "uniform", 0.0, 1.0),
    ("num_03", "normal", 0.05, 1.0),
    ("num_04", "lognormal", 0.2, 1.0),
    ("num_05", "uniform", 0.0, 1.0),
    ("num_06", "normal", 0.0, 1.0),
    ("num_07", "lognormal", 0.5, 1.0),
    ("num_08", "uniform", 0.0, 1.0),
    ("num_09", "normal", 0.0, 1.3),
    ("num_10", "lognormal", 0.0, 1.0),
    ("num_11", "uniform", 0.15, 1.0),
    ("num_12", "normal", 0.0, 1.0),
    ("num_13", "lognormal", 0.05, 1.0),
    ("num_14", "uniform", 0.3, 1.0),
    ("num_15", "normal", 0.0, 1.0),
    ("num_16", "lognormal", 0.0, 1.0),
    ("num_17", "uniform", 0.0, 1.0),
    ("num_18", "normal", 0.2, 1.0),
    ("num_19", "lognormal", 0.0, 1.0),
]
# (name, categories, factor on the weights of the most frequent fifth in current)
CATEGORICAL = [
    ("cat_0", 10, 1.0),
    ("cat_1", 20, 0.35),
    ("cat_2", 30, 0.85),
    ("cat_3", 40, 1.0),
    ("cat_4", 50, 0.35),
]
COLUMNS = [name for name, *_ in NUMERIC] + [name for name, *_ in CATEGORICAL]


# Synthetic data ----------------------------------------------------------------------------


class ColumnStream:
    """One column of one side, drawn from its own seeded generator a chunk at a time, so
    that the first rows of a long stream are the rows of a shorter one."""

    def __init__(self, index: int, side: str) -> None:
        import numpy as np

        self.np = np
        self.side = side
        self.rng = np.random.default_rng([SEED, index, 0 if side == "reference" else 1])
        if index < len(NUMERIC):
            self.name, self.family, shift, widen = NUMERIC[index]
            self.kind = "numeric"
            # Each column gets its own scale, so no two columns look alike.
            self.loc, self.scale = float(index), 1.0 + (index % 4) * 0.5
            self.shift, self.widen = (shift, widen) if side == "current" else (0.0, 1.0)
        else:
            self.name, categories, factor = CATEGORICAL[index - len(NUMERIC)]
            self.kind = "categorical"
            self.names = np.array([f"c{j:02d}" for j in range(categories)])
            weights = 1 / np.arange(1, categories + 1) ** 0.8  # Zipf-like
            if side == "current":
                weights[: categories // 5] *= factor
            self.weights = weights / weights.sum()

    def draw(self, rows: int) -> Any:
        np, rng = self.np, self.rng
        if self.kind == "categorical":
            return self.names[rng.choice(self.names.size, rows, p=self.weights)]
        if self.family == "normal":
            sd = self.scale
            base = rng.normal(self.loc, sd, rows)
            mean = self.loc
        elif self.family == "lognormal":
            sigma = 0.5 + 0.1 * (self.scale - 1)
            base = rng.lognormal(0.0, sigma, rows)
            mean = math.exp(sigma**2 / 2)
            sd = math.sqrt((math.exp(sigma**2) - 1) * math.exp(sigma**2))
        else:
            width = 2 * self.scale
            base = rng.uniform(self.loc, self.loc + width, rows)
            mean, sd = self.loc + width / 2, width / math.sqrt(12)
        if self.widen != 1.0:
            base = mean + (base - mean) * self.widen
        return base + self.shift * sd if self.shift else np.asarray(base)

    def chunks(self, rows: int, chunk: int = CHUNK) -> Iterator[Any]:
        done = 0
        while done < rows:
            size = min(chunk, rows - done)
            yield self.draw(size)
            done += size

    def whole(self, rows: int) -> Any:
        return self.np.concatenate(list(self.chunks(rows)))


def column_kind(index: int) -> str:
    return "numeric" if index < len(NUMERIC) else "categorical"


def generate(rows: int, reference_rows: int | None = None) -> dict[str, tuple[str, Any, Any]]:
    """Every column: (kind, reference, current), ``rows`` a side unless told otherwise."""
    data = {}
    for index, name in enumerate(COLUMNS):
        reference = ColumnStream(index, "reference").whole(reference_rows or rows)
        current = ColumnStream(index, "current").whole(rows)
        data[name] = (column_kind(index), reference, current)
    return data


# The parent ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, default=3, help="timed turns of each piece; the fastest kept"
    )
    parser.add_argument(
        "--bounded-rows", type=int, default=BOUNDED_ROWS, help="current rows streamed (bounded)"
    )
    parser.add_argument(
        "--skip-exact-10m",
        action="store_true",
        help="do not run exact mode on the big window (its verdicts are then not compared)",
    )
    parser.add_argument(
        "--only",
        choices=("stats",),
        help="stats: only the in-memory pieces (a) to (c), not the bounded mode or the database",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    evidently = _evidently_version()
    say(
        f"host: {os.cpu_count()} cores, load average {load_average()} before the run; "
        f"python {sys.executable}; Evidently {evidently or 'not importable: its figures are null'}"
    )
    say(
        f"data: {len(NUMERIC)} numeric columns (normal, lognormal, uniform; "
        f"{sum(1 for c in NUMERIC if c[2] or c[3] != 1)} shifted or widened in current) + "
        f"{len(CATEGORICAL)} categorical (10 to 50 categories, "
        f"{sum(1 for c in CATEGORICAL if c[2] != 1)} re-weighted), seed {SEED}"
    )
    figures: dict[str, Any] = {}
    exact = _sizes(args.rounds, figures)
    _evidently(evidently, exact[BIG]["evidently"], figures)
    if args.only != "stats":
        _bounded(exact, args.bounded_rows, not args.skip_exact_10m, figures)
        e2e = run_e2e(os.environ.get("DATABASE_URL", ""))
        say(f"(e) end to end through the drift task: {_or_none(e2e)}")
        figures.update(e2e)
    say(f"load average {load_average()} after the run")
    print("BENCH " + json.dumps(figures), flush=True)


def run_e2e(database_url: str) -> dict[str, Any]:
    """(e) The drift task end to end on 1M logged predictions (bench/drift_e2e.py), run by
    the project's interpreter (this one may be an Evidently venv without Django); None
    figures without a PostgreSQL DATABASE_URL."""
    nothing = {"e2e_1m_seconds": None, "e2e_1m_peak_rss_mb": None}
    if not database_url.startswith(("postgres://", "postgresql://")):
        say("(e) end to end: needs DATABASE_URL=postgres://…; figures null")
        return nothing
    project = ROOT / ".venv" / "bin" / "python"
    python = str(project) if project.exists() else sys.executable
    done = subprocess.run(  # noqa: S603
        [python, str(ROOT / "bench" / "drift_e2e.py")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if not line.startswith("BENCH "):
            say(line)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"bench/drift_e2e.py failed (exit code {done.returncode})")
    return dict(json.loads(lines[-1].removeprefix("BENCH ")))


def _or_none(found: dict[str, Any]) -> str:
    if all(value is None for value in found.values()):
        return "not measured, figures null"
    return ", ".join(f"{key} {value}" for key, value in found.items())


def _label(rows: int) -> str:
    return f"{rows // 1000}k" if rows < 1_000_000 else f"{rows // 1_000_000}m"


def _evidently_version() -> str | None:
    if importlib.util.find_spec("evidently") is None:
        return None
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import evidently; print(evidently.__version__)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def _run_child(what: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run this script as ``--child what``; returns what the child reported."""
    command = [sys.executable, __file__, "--child", what, json.dumps(payload)]
    done = subprocess.run(  # noqa: S603
        command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the {what} child failed (exit code {done.returncode})")
    return json.loads(lines[-1].removeprefix("RESULT "))


def _turns(pieces: list[tuple[str, dict[str, Any]]], rounds: int) -> list[dict[str, Any]]:
    """Each piece ``rounds`` times, taking turns (the order rotates so load on the host
    slows them alike); the fastest run of each, with every run's seconds as ``runs``."""
    runs: list[list[dict[str, Any]]] = [[] for _ in pieces]
    for turn in range(rounds):
        order = list(range(len(pieces)))
        shift = turn % len(pieces)
        for i in order[shift:] + order[:shift]:
            what, payload = pieces[i]
            runs[i].append(_run_child(what, payload))
    best = []
    for found in runs:
        fastest = dict(min(found, key=lambda run: run["seconds"]))
        fastest["runs"] = [run["seconds"] for run in found]
        best.append(fastest)
    return best


def _listed(seconds: list[float]) -> str:
    return ", ".join(f"{value:.3f}" for value in seconds) + " s"


# (a) and (b): Handoff's statistics at three sizes, plain numpy at 1M ------------------------


def _sizes(rounds: int, figures: dict[str, Any]) -> dict[int, dict[str, dict[str, Any]]]:
    say(
        f"(a) stats.column_drift on {len(COLUMNS)} columns + dataset_drift, each size and mode "
        f"in a child; {rounds} turns, the fastest kept; data generated before the clock"
    )
    found: dict[int, dict[str, dict[str, Any]]] = {}
    for rows in SIZES:
        pieces = [("stats", {"rows": rows, "mode": mode}) for mode in MODES]
        if rows == BIG:
            pieces.append(("numpy", {"rows": rows}))
        results = _turns(pieces, rounds)
        found[rows] = dict(zip([*MODES, "numpy"], results, strict=False))
        label = _label(rows)
        for mode, result in zip(MODES, results, strict=False):
            key = "stats" if mode == "two_sample" else "stats_evidently_mode"
            drift = result["dataset"]
            say(
                f"    {rows:>9,} rows  {mode:<10}  {result['seconds']:7.3f} s  peak "
                f"{result['peak_mb']:5.0f} MB (at start {result['start_mb']:.0f})   "
                f"{drift['n_drifted']}/{drift['n_columns']} columns drifted, dataset "
                f"{'drifted' if drift['drifted'] else 'not drifted'}   "
                f"(runs: {_listed(result['runs'])})"
            )
            figures[f"{key}_{label}_seconds"] = round(result["seconds"], 3)
            figures[f"{key}_{label}_peak_rss_mb"] = round(result["peak_mb"])
    _numpy_figures(found[BIG], figures)
    return found


def _numpy_figures(big: dict[str, dict[str, Any]], figures: dict[str, Any]) -> None:
    stats, plain = big["two_sample"], big["numpy"]
    diff = _max_diff(stats["columns"], plain["columns"])
    disagree = [
        name
        for name, column in stats["columns"].items()
        if column["drifted"] != plain["columns"][name]["drifted"]
    ]
    if disagree:
        raise SystemExit(f"verdicts differ from the plain version on {', '.join(disagree)}")
    ratio = stats["seconds"] / plain["seconds"]
    say(
        f"(b) {BIG:,} rows: Handoff {stats['seconds']:.3f} s, plain numpy/scipy "
        f"{plain['seconds']:.3f} s (peak {plain['peak_mb']:.0f} MB, at start "
        f"{plain['start_mb']:.0f}; runs: {_listed(plain['runs'])})   ratio {ratio:.2f} "
        f"(target <= 1.5); same verdicts, largest statistic difference {diff:.2e}"
    )
    say(f"    per column, Handoff / plain: {_per_column(stats, plain)}")
    figures["numpy_reference_1m_seconds"] = round(plain["seconds"], 3)
    figures["numpy_reference_1m_peak_rss_mb"] = round(plain["peak_mb"])
    figures["stats_vs_numpy_ratio"] = round(ratio, 2)
    figures["max_stat_diff_vs_numpy"] = diff


def _per_column(stats: dict[str, Any], plain: dict[str, Any]) -> str:
    """Seconds per kind of column on each side, where the time goes."""
    parts = []
    for kind in ("numeric", "categorical"):
        names = [n for n in COLUMNS if stats["columns"][n]["kind"] == kind]
        ours = sum(stats["columns"][n]["seconds"] for n in names)
        theirs = sum(plain["columns"][n]["seconds"] for n in names)
        parts.append(f"{len(names)} {kind} {ours:.3f} / {theirs:.3f} s")
    return "; ".join(parts)


def _max_diff(ours: dict[str, Any], theirs: dict[str, Any]) -> float:
    return max(abs(ours[name]["score"] - theirs[name]["score"]) for name in ours)


# (c) Evidently -------------------------------------------------------------------------------


def _evidently(version: str | None, handoff: dict[str, Any], figures: dict[str, Any]) -> None:
    keys = ("evidently_1m_seconds", "evidently_1m_peak_rss_mb", "vs_evidently_speedup")
    if version is None:
        say(
            "(c) Evidently: `import evidently` fails in this interpreter; its figures are null "
            "(run with a venv holding evidently==0.7.23, see bench/README.md)"
        )
        figures.update(dict.fromkeys((*keys, "max_stat_diff_vs_evidently")))
        return
    result = _run_child("evidently", {"rows": BIG})
    diff = _max_diff(handoff["columns"], result["columns"])
    worst = max(
        COLUMNS, key=lambda n: abs(handoff["columns"][n]["score"] - result["columns"][n]["score"])
    )
    disagree = [
        name
        for name in COLUMNS
        if handoff["columns"][name]["drifted"] != result["columns"][name]["drifted"]
    ]
    tests = sorted({column["method"] for column in result["columns"].values()})
    speedup = result["seconds"] / handoff["seconds"]
    say(
        f"(c) Evidently {version} DataDriftPreset on {BIG:,} rows: {result['seconds']:.2f} s "
        f"(Dataset.from_pandas + Report.run; DataFrames built before the clock in "
        f"{result['frame_seconds']:.2f} s), peak {result['peak_mb']:.0f} MB (at start "
        f"{result['start_mb']:.0f}); tests {', '.join(tests)}"
    )
    say(
        f"    Handoff's Mode.EVIDENTLY {handoff['seconds']:.3f} s: {speedup:.1f}x faster; "
        f"largest score difference {diff:.2e} ({worst}; target <= 1e-9); verdicts "
        f"{'all equal' if not disagree else 'differ on ' + ', '.join(disagree)}; "
        f"drift share Evidently {result['share']:.2f}, Handoff {handoff['dataset']['share']:.2f}"
    )
    figures["evidently_1m_seconds"] = round(result["seconds"], 2)
    figures["evidently_1m_peak_rss_mb"] = round(result["peak_mb"])
    figures["vs_evidently_speedup"] = round(speedup, 1)
    figures["max_stat_diff_vs_evidently"] = diff
    figures["evidently_verdicts_equal"] = not disagree


# (d) The bounded mode ------------------------------------------------------------------------


def _bounded(
    exact: dict[int, dict[str, dict[str, Any]]],
    big_rows: int,
    exact_big: bool,
    figures: dict[str, Any],
) -> None:
    say(
        f"(d) bounded mode: ReferenceSummary.from_values, the current window streamed "
        f"{CHUNK:,} rows at a time into CurrentAccumulator (generated chunk by chunk, "
        f"generation off the clock), column_drift_bounded in both modes"
    )
    disagreements: dict[str, int] = {}
    for rows in (100_000, BIG):
        result = _run_child("bounded", {"rows": rows, "reference_rows": rows})
        label = _label(rows)
        found = _compare(result, {mode: exact[rows][mode]["columns"] for mode in MODES})
        disagreements[label] = found
        _bounded_line(rows, rows, result, found, "exact mode of (a)")
        figures[f"bounded_{label}_seconds"] = round(result["seconds"], 2)
        figures[f"bounded_{label}_peak_rss_mb"] = round(result["peak_mb"])
    payload = {"rows": big_rows, "reference_rows": BOUNDED_REFERENCE_ROWS}
    result = _run_child("bounded", payload)
    label = _label(big_rows)
    figures[f"bounded_{label}_seconds"] = round(result["seconds"], 2)
    figures[f"bounded_{label}_peak_rss_mb"] = round(result["peak_mb"])
    if exact_big:
        whole = _run_child("exact_stream", payload)
        found = _compare(result, whole["columns"])
        disagreements[label] = found
        _bounded_line(big_rows, BOUNDED_REFERENCE_ROWS, result, found, "exact mode below")
        say(
            f"    exact mode on the same {big_rows:,} rows, a column at a time: "
            f"{whole['seconds']:.1f} s for both modes, peak {whole['peak_mb']:.0f} MB"
        )
        figures[f"exact_{label}_seconds"] = round(whole["seconds"], 1)
        figures[f"exact_{label}_peak_rss_mb"] = round(whole["peak_mb"])
    else:
        _bounded_line(big_rows, BOUNDED_REFERENCE_ROWS, result, None, "")
        say(f"    exact mode at {big_rows:,} rows skipped (--skip-exact-10m): not compared")
    figures["bounded_vs_exact_disagreements"] = sum(disagreements.values())
    figures["bounded_vs_exact_compared_at"] = list(disagreements)


def _compare(bounded: dict[str, Any], exact: dict[str, dict[str, Any]]) -> int:
    """Column verdicts (both modes) where the bounded mode differs from the exact one; the
    statistics must lie within the bounded mode's error bound of the exact ones."""
    differ = 0
    for mode in MODES:
        for name in COLUMNS:
            ours, theirs = bounded["columns"][mode][name], exact[mode][name]
            if ours["drifted"] != theirs["drifted"]:
                differ += 1
                say(f"    DISAGREEMENT {mode} {name}: bounded {ours}, exact {theirs}")
            bound = ours["error_bound"] or 1e-9 * max(1.0, abs(theirs["score"]))
            if abs(ours["score"] - theirs["score"]) > bound:
                raise SystemExit(f"{mode} {name}: bounded {ours} outside its bound of {theirs}")
    return differ


def _bounded_line(
    rows: int, reference_rows: int, result: dict[str, Any], differ: int | None, against: str
) -> None:
    worst = max(result["columns"]["two_sample"].values(), key=lambda c: c["error_bound"] or 0)
    if differ is None:
        verdicts = "verdicts not compared"
    else:
        verdicts = f"{differ} of {len(COLUMNS) * len(MODES)} verdicts differ from {against}"
    say(
        f"    {rows:>10,} rows against {reference_rows:,}: {result['seconds']:6.2f} s "
        f"(summary {result['summary_seconds']:.2f}, streaming {result['add_seconds']:.2f}, "
        f"checks {result['check_seconds']:.3f}; generating the data took "
        f"{result['generate_seconds']:.1f} s more)  peak {result['peak_mb']:5.0f} MB (at start "
        f"{result['start_mb']:.0f})   {verdicts}; largest error bound "
        f"{worst['error_bound'] or 0:.2e}"
    )


# The children --------------------------------------------------------------------------------


def _child(what: str, payload_text: str) -> None:
    payload = json.loads(payload_text)
    pieces = {
        "stats": _child_stats,
        "numpy": _child_numpy,
        "evidently": _child_evidently,
        "bounded": _child_bounded,
        "exact_stream": _child_exact_stream,
    }
    result = pieces[what](payload)
    print("RESULT " + json.dumps(result), flush=True)


def _pure_handoff() -> None:
    """registry.monitoring is pure: importable without Django. The script's own folder
    (bench/, first on sys.path) holds a registry.py of its own, so the project comes first."""
    sys.path.insert(0, str(ROOT))


def _summary(result: Any) -> dict[str, Any]:
    score = result.p_value if result.p_value is not None else result.statistic
    return {
        "kind": str(result.kind),
        "test": str(result.test),
        "score": float(score),
        "drifted": bool(result.drifted),
        "error_bound": result.error_bound,
    }


def _child_stats(payload: dict[str, Any]) -> dict[str, Any]:
    _pure_handoff()
    from registry.monitoring.parallel import in_parallel
    from registry.monitoring.stats import column_drift, dataset_drift

    data = generate(payload["rows"])
    mode = payload["mode"]
    seconds: dict[str, float] = {}

    def column(name: str, kind: str, reference: Any, current: Any) -> Any:
        started = time.perf_counter()
        result = column_drift(reference, current, kind=kind, mode=mode)
        seconds[name] = time.perf_counter() - started
        return result

    def work() -> tuple[dict[str, Any], Any]:
        # As the report service runs them: a column per core (comparison.in_parallel).
        results = in_parallel(
            {name: partial(column, name, *columns) for name, columns in data.items()}
        )
        return results, dataset_drift(results)

    (results, dataset), figures = timed(work)
    columns = {
        name: {**_summary(result), "seconds": seconds[name]} for name, result in results.items()
    }
    return {**figures, "columns": columns, "dataset": dataset.as_dict()}


def _child_numpy(payload: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import wasserstein_distance

    data = generate(payload["rows"])
    seconds: dict[str, float] = {}

    def work() -> tuple[dict[str, Any], dict[str, Any]]:
        columns = {}
        for name, (kind, reference, current) in data.items():
            started = time.perf_counter()
            if kind == "numeric":
                norm = max(float(np.std(reference)), STD_FLOOR)
                value = float(wasserstein_distance(reference, current)) / norm
            else:
                ref_keys, ref_counts = np.unique(reference, return_counts=True)
                cur_keys, cur_counts = np.unique(current, return_counts=True)
                keys = np.union1d(ref_keys, cur_keys)
                ref_shares, cur_shares = np.zeros(keys.size), np.zeros(keys.size)
                ref_shares[np.searchsorted(keys, ref_keys)] = ref_counts / reference.size
                cur_shares[np.searchsorted(keys, cur_keys)] = cur_counts / current.size
                value = float(jensenshannon(ref_shares, cur_shares))
            seconds[name] = time.perf_counter() - started
            columns[name] = {"kind": kind, "score": value, "drifted": value >= THRESHOLD}
        drifted = sum(column["drifted"] for column in columns.values())
        share = drifted / len(columns)
        return columns, {"share": share, "drifted": share >= DATASET_SHARE}

    (columns, dataset), figures = timed(work)
    for name, column in columns.items():
        column["seconds"] = seconds[name]
    return {**figures, "columns": columns, "dataset": dataset}


def _child_evidently(payload: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    data = generate(payload["rows"])
    started = time.perf_counter()
    reference = pd.DataFrame({name: column[1] for name, column in data.items()})
    current = pd.DataFrame({name: column[2] for name, column in data.items()})
    frame_seconds = time.perf_counter() - started
    del data
    definition = DataDefinition(
        numerical_columns=[name for name, *_ in NUMERIC],
        categorical_columns=[name for name, *_ in CATEGORICAL],
    )

    def work() -> Any:
        report = Report([DataDriftPreset()])
        return report.run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )

    snapshot, figures = timed(work)
    columns: dict[str, Any] = {}
    share = math.nan
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith(":ValueDrift"):
            value = float(metric["value"])
            columns[config["column"]] = {
                "score": value,
                "method": config["method"],
                # Evidently's distances drift at value >= threshold (the default tests here).
                "drifted": value >= config["threshold"],
            }
        elif config["type"].endswith(":DriftedColumnsCount"):
            share = float(metric["value"]["share"])
    if set(columns) != set(COLUMNS):
        raise SystemExit(f"Evidently reported columns {sorted(columns)}")
    return {**figures, "frame_seconds": frame_seconds, "columns": columns, "share": share}


def _child_bounded(payload: dict[str, Any]) -> dict[str, Any]:
    """Summaries a column at a time (the reference is generated whole, one column at a
    time), then the current window a chunk of every column at a time; only the calls into
    Handoff are on the clock."""
    _pure_handoff()
    from registry.monitoring.stats import (
        CurrentAccumulator,
        ReferenceSummary,
        column_drift_bounded,
        dataset_drift,
    )

    rows, reference_rows = payload["rows"], payload["reference_rows"]
    start_mb = peak_mb()
    clock = {"summary": 0.0, "add": 0.0, "check": 0.0, "generate": 0.0}
    summaries, accumulators = {}, {}
    for index, name in enumerate(COLUMNS):
        started = time.perf_counter()
        reference = ColumnStream(index, "reference").whole(reference_rows)
        clock["generate"] += time.perf_counter() - started
        started = time.perf_counter()
        summaries[name] = ReferenceSummary.from_values(reference, column_kind(index))
        accumulators[name] = CurrentAccumulator(column_kind(index), summaries[name])
        clock["summary"] += time.perf_counter() - started
        del reference
    streams = [ColumnStream(index, "current").chunks(rows) for index in range(len(COLUMNS))]
    for _ in range(math.ceil(rows / CHUNK)):
        for name, stream in zip(COLUMNS, streams, strict=True):
            started = time.perf_counter()
            chunk = next(stream)
            clock["generate"] += time.perf_counter() - started
            started = time.perf_counter()
            accumulators[name].add(chunk)
            clock["add"] += time.perf_counter() - started
    started = time.perf_counter()
    columns: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        results = {
            name: column_drift_bounded(summaries[name], accumulators[name], mode=mode)
            for name in COLUMNS
        }
        dataset_drift(results)
        columns[mode] = {name: _summary(result) for name, result in results.items()}
    clock["check"] = time.perf_counter() - started
    if any(acc.n != rows for acc in accumulators.values()):
        raise SystemExit("an accumulator missed rows")
    return {
        "seconds": clock["summary"] + clock["add"] + clock["check"],
        **{f"{key}_seconds": value for key, value in clock.items()},
        "peak_mb": peak_mb(),
        "start_mb": start_mb,
        "columns": columns,
    }


def _child_exact_stream(payload: dict[str, Any]) -> dict[str, Any]:
    """Exact mode on a window too long to hold every column at once: one column at a time,
    on the same values the bounded child streamed."""
    _pure_handoff()
    from registry.monitoring.stats import column_drift

    columns: dict[str, dict[str, Any]] = {mode: {} for mode in MODES}
    seconds = 0.0
    for index, name in enumerate(COLUMNS):
        reference = ColumnStream(index, "reference").whole(payload["reference_rows"])
        current = ColumnStream(index, "current").whole(payload["rows"])
        for mode in MODES:
            started = time.perf_counter()
            result = column_drift(reference, current, kind=column_kind(index), mode=mode)
            seconds += time.perf_counter() - started
            columns[mode][name] = _summary(result)
        del reference, current
    return {"seconds": seconds, "peak_mb": peak_mb(), "columns": columns}


if __name__ == "__main__":
    main()
