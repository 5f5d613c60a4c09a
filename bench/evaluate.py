"""Evaluation, dataset validation and profiling at scale, each next to a bare implementation.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/evaluate.py

Creates its own database on the server of DATABASE_URL (handoff_bench_evaluate_<pid>) and a
temporary directory for the files and the media root, migrates, and through the services
makes a user, a team, the demo's breast-cancer classifier (release 1.1.0 trained as
registry.demo.breast trains it, converted with skl2onnx, uploaded and validated) and a
second model whose contract holds 50 dataset checks. Then, every piece in a child process
of its own so its peak memory is its own:

(a) evaluation: rows synthesised from the training distribution (per-class mean and
    covariance of the 30 features, the class prior, a fixed seed) as Parquet datasets of
    200,000 and 1,000,000 rows; ``run_evaluation`` of an evaluation started beforehand,
    next to a bare script (numpy, pyarrow, onnxruntime and scikit-learn only) that reads the
    same file a batch at a time, keeps every row's labels and scores, and computes the same
    metrics and permutation importance with scikit-learn on all rows at once; their metrics
    must agree (ROC and PR AUC within the bound the task states when it had more distinct
    scores than it keeps: see registry/evaluation/score_counts.py);
(b) dataset checks on a generated 1,000,000-row file (an id, 20 numeric and 5 categorical
    columns with planted problems): ``check_against_contract`` against 50 checks and
    ``profile``, each next to a plain pyarrow.compute / numpy implementation of the same
    work, which must find the same problems and agree on the figures; both again through
    the services (``validate_dataset``, ``profile_dataset``); and ``profile`` of a
    10,000,000-row file, written a chunk at a time, for its peak memory.

``--only evaluation`` runs (a) alone, ``--only checks`` (b) alone.

The database and the directory (with the 10M-row file) are removed at the end, whether or
not the run succeeded. Last line: ``BENCH {...}`` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from databases import configure_django, own_database, url_with_database
from measure import load_average, say, timed

ROOT = Path(__file__).resolve().parent.parent
SEED = 20260
# The synthetic rows' seed. About one row in three million gets a float32 probability of
# 1.0000001 from the graph, and run_evaluation then stops (see bench/README.md): with this
# seed no row of either file does (the bare script counts them).
EVAL_SEED = 1
EVAL_SIZES = (200_000, 1_000_000)
CHECK_ROWS = 1_000_000
# Rows generated and written at a time, one Parquet row group each. Reading holds about a row
# group, so the files compared by row count have row groups of one size; the big profiling
# file has pyarrow's (and pandas') default, 1,048,576 rows.
ROW_GROUP = 100_000
BIG_ROW_GROUP = 1_048_576
LABEL = "malignant"
RELEASE = "1.1.0"  # the release that serves breast-cancer-screening (feedback/demo.py)
BATCH_ROWS = 65_536  # datafiles.BATCH_ROWS: how the bare script reads the file
VALIDATE_BATCH_ROWS = 4 * BATCH_ROWS  # validation.BATCH_ROWS
SAMPLE_ROWS_REFERENCE = 100_000  # rows the reference profile keeps for quantiles
DISTINCT_KEPT = 8_192  # smallest hashes the reference keeps per column (KMV distinct count)
HISTOGRAM_BINS = 40
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)

COUNTRIES = ["DE", "FR", "NL", "GB", "ES", "IT", "PL", "SE"]
PLANS = ["basic", "plus", "pro"]
STAGES = ["new", "active", "churned", "won_back", "paused"]
CHANNELS = ["web", "ios", "android", "store"]
SEGMENTS = [f"s{n}" for n in range(10)]
CATEGORIES = {
    "cat_0": COUNTRIES,
    "cat_1": PLANS,
    "cat_2": STAGES,
    "cat_3": CHANNELS,
    "cat_4": SEGMENTS,
}
FLOAT_COLUMNS = [f"num_{n:02d}" for n in range(15)]
INT_COLUMNS = [f"num_{n:02d}" for n in range(15, 20)]


# The parent ---------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each piece")
    parser.add_argument(
        "--profile-rows", type=int, default=10_000_000, help="rows of the big profiling file"
    )
    parser.add_argument(
        "--only",
        choices=("evaluation", "checks"),
        help="run only (a) the evaluations or (b) the dataset checks",
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL=postgres://… (the bench creates its own database there).")
    server = os.environ["DATABASE_URL"]
    name = f"handoff_bench_evaluate_{os.getpid()}"
    say(f"host: {os.cpu_count()} cores, load average {load_average()} before the run")
    with (
        tempfile.TemporaryDirectory(prefix="handoff_bench_evaluate_") as work,
        own_database(server, name),
    ):
        folder = Path(work)
        # Uploads up to 1 GiB: the 1M-row files are larger than the default cap.
        os.environ["HANDOFF_MAX_UPLOAD_BYTES"] = str(1 << 30)
        configure_django(url_with_database(server, name), str(folder / "var"))
        _no_task_sending()
        from django.core.management import call_command
        from django.db import connections

        try:
            call_command("migrate", verbosity=0)
            setup = _setup(folder, args.rounds)
        finally:
            connections.close_all()
        figures = _evaluations(setup, args.rounds) if args.only != "checks" else {}
        if args.only != "evaluation":
            figures.update(_dataset_checks(setup, folder, args.rounds, args.profile_rows))
    say(f"load average {load_average()} after the run")
    print("BENCH " + json.dumps(figures), flush=True)


def _no_task_sending() -> None:
    """No job is handed to Celery (with no broker it would run at once, eagerly, in this
    process): jobs stay queued and the bench runs each job's body itself, in a child."""
    from portal.services import jobs

    jobs.send_job = lambda model, pk: None


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


# Setting up: files, people, models, datasets, evaluations --------------------------------


def _setup(folder: Path, rounds: int) -> dict[str, Any]:
    from portal.roles import Role
    from portal.services.accounts import create_team, create_user

    data = folder / "data"
    data.mkdir()
    user = create_user(username="alice", password=None, roles=[Role.DATA_SCIENTIST])
    team = create_team(name="Bench", members=[user])
    version, names, onnx_path = _classifier(user, team, data)
    evaluations: dict[int, list[int]] = {}
    files: dict[int, str] = {}
    for rows in EVAL_SIZES:
        path = data / f"breast-{rows}.parquet"
        started = time.perf_counter()
        _write_breast_rows(path, rows, names)
        took = time.perf_counter() - started
        say(f"    wrote {rows:,} synthetic rows ({_mb(path)} MB Parquet) in {took:.1f} s")
        dataset = _upload(user, team, path, f"breast-synthetic-{rows}", "evaluation")
        evaluations[rows] = [_start(user, version, dataset) for _ in range(rounds)]
        files[rows] = str(path)
    checks_path = data / "checks-1m.parquet"
    started = time.perf_counter()
    _write_check_rows(checks_path, CHECK_ROWS)
    took = time.perf_counter() - started
    say(
        f"    wrote the {CHECK_ROWS:,}-row dataset-check file ({_mb(checks_path)} MB) in "
        f"{took:.1f} s"
    )
    checks_version = _checks_version(user, team)
    checks_dataset = _upload(user, team, checks_path, "checks", "reference")
    return {
        "features": names,
        "onnx": str(onnx_path),
        "files": files,
        "evaluations": evaluations,
        "checks_path": str(checks_path),
        "checks_dataset": checks_dataset.pk,
        "checks_version": checks_version.pk,
    }


def _mb(path: Path) -> str:
    return f"{path.stat().st_size / 2**20:,.0f}"


def _classifier(user: Any, team: Any, data: Path) -> tuple[Any, list[str], Path]:
    """breast-cancer-screening 1.1.0 as the demo builds it, uploaded and validated."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from sklearn.datasets import load_breast_cancer

    from registry.choices import TaskType
    from registry.demo.breast import _breast_contract, _breast_releases
    from registry.demo.common import _snake, _split, _to_onnx
    from registry.evaluation.services.mappings import mapping_for, problems_of, valid_artifact
    from registry.services.artifacts import store_artifact, validate_artifact
    from registry.services.models import create_model
    from registry.services.versions import create_version

    bundled = load_breast_cancer()
    names = [_snake(n) for n in bundled.feature_names]
    split = _split(bundled.data, (bundled.target == 0).astype(int))  # 1 = malignant
    release = next(r for r in _breast_releases() if r.version == RELEASE)
    release.estimator.fit(split.x_train, split.y_train)
    onnx = _to_onnx(release.estimator, len(names))
    onnx_path = data / "breast.onnx"
    onnx_path.write_bytes(onnx)
    request, response = _breast_contract(names, RELEASE)
    model = create_model(
        actor=user,
        name="breast-cancer-screening",
        title="Breast cancer screening (FNA cytology)",
        team=team,
        task_type=TaskType.BINARY_CLASSIFICATION,
    )
    # The demo's request nests the 30 measurements in an object, which no column holds and
    # the mapping draft skips; a dataset has them as columns: the measurements' own schema.
    version = create_version(
        actor=user,
        model=model,
        version=RELEASE,
        input_schema=request["properties"]["measurements"],
        output_schema=response,
    )
    upload = SimpleUploadedFile("breast.onnx", onnx, content_type="application/octet-stream")
    artifact = store_artifact(actor=user, version=version, upload=upload)
    validate_artifact(artifact_id=artifact.pk)
    if valid_artifact(version) is None:
        raise SystemExit("the classifier's artifact did not validate")
    saved = mapping_for(version)
    problems = problems_of(saved, valid_artifact(version))
    if problems:
        raise SystemExit(f"the drafted mapping does not fit: {problems}")
    say(
        f"classifier: {model.name} {RELEASE} ({release.algorithm}), ONNX {len(onnx):,} bytes; "
        f"mapping drafted: {len(saved.inputs[0]['columns'])} columns -> "
        f"{saved.inputs[0]['name']}, outputs {saved.outputs}"
    )
    return version, names, onnx_path


def _upload(user: Any, team: Any, path: Path, name: str, kind: str) -> Any:
    from django.core.files.uploadedfile import UploadedFile

    from registry.evaluation.services.datasets import create_dataset

    with path.open("rb") as handle:
        upload = UploadedFile(handle, name=path.name, size=path.stat().st_size)
        return create_dataset(
            actor=user,
            team=team,
            name=name,
            version="1",
            kind=kind,
            description="Generated by bench/evaluate.py",
            upload=upload,
        )


def _start(user: Any, version: Any, dataset: Any) -> int:
    from registry.evaluation.services.evaluations import start_evaluation

    return int(
        start_evaluation(actor=user, version=version, dataset=dataset, label_column=LABEL).pk
    )


def _write_breast_rows(path: Path, rows: int, names: list[str]) -> None:
    """Rows drawn from each class's multivariate normal (mean and covariance of the bundled
    data), the class drawn with its prior; 30 float32 features and the 0/1 label."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.datasets import load_breast_cancer

    bundled = load_breast_cancer()
    features, labels = bundled.data, (bundled.target == 0).astype(np.int64)
    classes = [
        (features[labels == c].mean(axis=0), np.cov(features[labels == c], rowvar=False))
        for c in (0, 1)
    ]
    prior = float(labels.mean())
    rng = np.random.default_rng(EVAL_SEED + rows)
    schema = pa.schema([(name, pa.float32()) for name in names] + [(LABEL, pa.int64())])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, ROW_GROUP):
            count = min(ROW_GROUP, rows - start)
            label = (rng.random(count) < prior).astype(np.int64)
            matrix = np.empty((count, len(names)), dtype=np.float32)
            for c, (mean, cov) in enumerate(classes):
                chosen = np.flatnonzero(label == c)
                drawn = rng.multivariate_normal(mean, cov, size=len(chosen), method="eigh")
                matrix[chosen] = drawn
            columns = [pa.array(matrix[:, i]) for i in range(len(names))]
            writer.write_table(pa.Table.from_arrays([*columns, pa.array(label)], schema=schema))


# The dataset-check file and its contract -------------------------------------------------


def _write_check_rows(path: Path, rows: int, row_group: int = ROW_GROUP) -> None:
    """An id, 20 numeric and 5 categorical columns, written a row group at a time, with
    planted problems: nulls (num_01 and cat_1 are required; num_12 is optional), values
    above a maximum (num_03) and below a minimum (num_16), NaN in a number column (num_05),
    values outside the allowed ones (cat_0, cat_3) and one repeated id."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(SEED)
    schema = pa.schema(
        [("id", pa.int64())]
        + [(name, pa.float64()) for name in FLOAT_COLUMNS]
        + [(name, pa.int64()) for name in INT_COLUMNS]
        + [(name, pa.string()) for name in CATEGORIES]
    )
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, rows, row_group):
            count = min(row_group, rows - start)
            writer.write_table(_check_chunk(rng, start, count, rows, schema))


def _check_chunk(rng: Any, start: int, count: int, rows: int, schema: Any) -> Any:
    import numpy as np
    import pyarrow as pa

    def planted(rate: float) -> Any:
        return rng.random(count) < rate

    ids = np.arange(start, start + count, dtype=np.int64)
    repeat = rows // 2  # this row repeats the id of row 7
    if start <= repeat < start + count:
        ids[repeat - start] = 7
    arrays = [pa.array(ids)]
    for n, name in enumerate(FLOAT_COLUMNS):
        if n < 10:
            values = rng.normal(50 + 10 * n, 5 + n, count)
        else:
            values = rng.lognormal(3 + 0.2 * (n - 10), 0.6, count)
        if name == "num_03":
            values[planted(5e-5)] = 999.0
        if name == "num_05":
            values[planted(5e-5)] = np.nan
        mask = planted(1e-4) if name == "num_01" else planted(1e-3) if name == "num_12" else None
        arrays.append(pa.array(values, mask=mask))
    for name in INT_COLUMNS:
        values = rng.integers(0, 100, count, dtype=np.int64)
        if name == "num_16":
            values[planted(5e-5)] = -1
        arrays.append(pa.array(values))
    for name, allowed in CATEGORIES.items():
        dictionary = pa.array([*allowed, "XX" if name == "cat_0" else "fax"])
        codes = rng.integers(0, len(allowed), count).astype(np.int32)
        if name in ("cat_0", "cat_3"):
            codes[planted(1e-4 if name == "cat_0" else 2e-5)] = len(allowed)
        mask = planted(1e-4) if name == "cat_1" else None
        indices = pa.array(codes, mask=mask)
        arrays.append(pa.DictionaryArray.from_arrays(indices, dictionary).dictionary_decode())
    return pa.Table.from_arrays(arrays, schema=schema)


def checks_contract() -> dict[str, Any]:
    """The contract of the check file: exactly 50 checks (see ``count_checks``)."""
    properties: dict[str, Any] = {"id": {"type": "integer", "x-unique": True}}
    bounds = {
        "num_00": {"minimum": 0, "maximum": 200},
        "num_03": {"minimum": 0, "maximum": 150},
        "num_10": {"minimum": 0},
        "num_11": {"minimum": 0},
        "num_16": {"minimum": 0, "maximum": 99},
        "num_17": {"minimum": 0, "maximum": 99},
    }
    for name in FLOAT_COLUMNS:
        properties[name] = {"type": "number", **bounds.get(name, {})}
    for name in INT_COLUMNS:
        properties[name] = {"type": "integer", **bounds.get(name, {})}
    for name, allowed in CATEGORIES.items():
        properties[name] = {"type": "string", "enum": allowed}
    required = ["id", "num_00", "num_01", "num_02", "num_03", "cat_0", "cat_1", "cat_2"]
    return {"type": "object", "properties": properties, "required": required}


def count_checks(contract: dict[str, Any]) -> Counter[str]:
    """One check per column's type, per required column (not null), per enum, per bound and
    per x-unique."""
    found: Counter[str] = Counter()
    for name, rule in contract["properties"].items():
        found["type"] += 1
        found["not null"] += name in contract["required"]
        found["allowed values"] += "enum" in rule
        found["min/max"] += ("minimum" in rule) + ("maximum" in rule)
        found["unique"] += rule.get("x-unique") is True
    return found


def _checks_version(user: Any, team: Any) -> Any:
    from registry.choices import TaskType
    from registry.services.models import create_model
    from registry.services.versions import create_version

    model = create_model(
        actor=user,
        name="customer-checks",
        title="Customer table contract",
        team=team,
        task_type=TaskType.BINARY_CLASSIFICATION,
    )
    return create_version(actor=user, model=model, version="1.0.0", input_schema=checks_contract())


# (a) Evaluations -------------------------------------------------------------------------


def _evaluations(setup: dict[str, Any], rounds: int) -> dict[str, Any]:
    say(
        f"(a) run_evaluation (through the service, in a child with Django) next to a bare "
        f"script (numpy, pyarrow, onnxruntime, scikit-learn) on the same Parquet file; "
        f"{rounds} turns each, the faster kept; peak RSS of each child"
    )
    figures: dict[str, Any] = {}
    for rows in EVAL_SIZES:
        task_runs, bare_runs = [], []
        for turn in range(rounds):
            bare_payload = {
                "path": setup["files"][rows],
                "onnx": setup["onnx"],
                "features": setup["features"],
            }
            task_payload = {"evaluation": setup["evaluations"][rows][turn]}
            pieces = [("task", task_payload), ("bare", bare_payload)]
            for what, payload in pieces[:: 1 if turn % 2 == 0 else -1]:
                result = _run_child(what, payload)
                (task_runs if what == "task" else bare_runs).append(result)
        task = min(task_runs, key=lambda run: run["seconds"])
        bare = min(bare_runs, key=lambda run: run["seconds"])
        _same_metrics(task, bare, rows)
        say(
            "               areas: task - bare "
            + ", ".join(
                f"{name} {task['metrics'][name] - bare['metrics'][name]:+.1e} (stated bound "
                f"{task['auc_error'][name]:.1e})"
                for name in ("roc_auc", "pr_auc")
            )
        )
        ratio = task["seconds"] / bare["seconds"]
        label = f"{rows // 1000}k" if rows < 1_000_000 else f"{rows // 1_000_000}m"
        say(
            f"    {rows:>9,} rows   task {task['seconds']:6.2f} s  peak {task['peak_mb']:5.0f} MB "
            f"(at start {task['start_mb']:.0f})   bare {bare['seconds']:6.2f} s  peak "
            f"{bare['peak_mb']:5.0f} MB (at start {bare['start_mb']:.0f})   ratio {ratio:.2f}"
        )
        say(
            f"               task: {_spread(task_runs)}; bare: {_spread(bare_runs)}; "
            f"ROC AUC {task['metrics']['roc_auc']:.4f}, accuracy "
            f"{task['metrics']['accuracy']:.4f}; importance on {bare['sample']:,} rows x "
            f"{bare['repeats']} repeats of {bare['metric']}: top {task['importance']}; "
            f"probabilities above 1: {bare['above_one']}"
        )
        figures[f"task_seconds_{label}"] = round(task["seconds"], 2)
        figures[f"bare_seconds_{label}"] = round(bare["seconds"], 2)
        figures["overhead_ratio" if rows == 200_000 else f"overhead_ratio_{label}"] = round(
            ratio, 2
        )
        figures[f"peak_rss_mb_{label}"] = round(task["peak_mb"])
        figures[f"bare_peak_rss_mb_{label}"] = round(bare["peak_mb"])
    small, large = EVAL_SIZES
    for who, key in (("task", "peak_rss_mb"), ("bare", "bare_peak_rss_mb")):
        grown = figures[f"{key}_1m"] - figures[f"{key}_200k"]
        say(
            f"    {who} peak grows {grown} MB from {small:,} to {large:,} rows "
            f"({grown * 2**20 / (large - small):.0f} bytes a row)"
        )
    return figures


def _spread(runs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{run['seconds']:.2f}" for run in runs) + " s"


def _same_metrics(task: dict[str, Any], bare: dict[str, Any], rows: int) -> None:
    """The task's figures are scikit-learn's on the same arrays: the bare script's."""
    if task["rows"] != rows or bare["rows"] != rows:
        raise SystemExit(f"rows evaluated: task {task['rows']}, bare {bare['rows']}, file {rows}")
    for name, value in bare["metrics"].items():
        found = task["metrics"].get(name)
        # Past its bound of distinct scores the task states how far an area may be.
        allowed = 1e-9 * max(1.0, abs(value)) + task["auc_error"].get(name, 0.0)
        if found is None or abs(found - value) > allowed:
            raise SystemExit(f"{name} at {rows:,} rows: task {found}, bare script {value}")
    if task["confusion"] != bare["confusion"]:
        raise SystemExit(f"confusion at {rows:,} rows: {task['confusion']} != {bare['confusion']}")


# (b) Dataset checks ------------------------------------------------------------------------


def _dataset_checks(
    setup: dict[str, Any], folder: Path, rounds: int, big_rows: int
) -> dict[str, Any]:
    contract = checks_contract()
    counted = count_checks(contract)
    if sum(counted.values()) != 50:
        raise SystemExit(f"the contract holds {sum(counted.values())} checks, not 50")
    shown = " + ".join(f"{n} {kind}" for kind, n in counted.items())
    path = setup["checks_path"]
    say(
        f"(b) {CHECK_ROWS:,} rows x (id + 20 numeric + 5 categorical), contract of 50 checks "
        f"= {shown}; {rounds} turns each, the faster kept"
    )
    figures: dict[str, Any] = {}
    validate = _pair("validate", "validate_reference", {"path": path, "contract": contract}, rounds)
    _same_problems(validate["validate"]["problems"], validate["validate_reference"]["problems"])
    problems = validate["validate"]["problems"]
    total = sum(problem["count"] for problem in problems)
    say(
        f"    both find {total:,} problems: "
        + ", ".join(f"{p['column']} {p['kind']} {p['count']:,}" for p in problems)
    )
    figures.update(_pair_figures(validate, "validate", "validate_seconds_1m"))
    profile = _pair("profile", "profile_reference", {"path": path}, rounds)
    _same_profile(profile["profile"], profile["profile_reference"])
    say("    both profiles agree: rows, nulls, min, max, mean, std; quantiles and distinct close")
    figures.update(_pair_figures(profile, "profile", "profile_seconds_1m"))
    figures.update(_through_services(setup))
    figures.update(_big_profile(folder, big_rows))
    return figures


def _pair(first: str, second: str, payload: dict[str, Any], rounds: int) -> dict[str, Any]:
    """The faster of ``rounds`` turns of each child, taking turns; every run kept as
    ``runs``."""
    runs: dict[str, list[dict[str, Any]]] = {first: [], second: []}
    for turn in range(rounds):
        for what in (first, second)[:: 1 if turn % 2 == 0 else -1]:
            runs[what].append(_run_child(what, payload))
    best = {what: min(found, key=lambda run: run["seconds"]) for what, found in runs.items()}
    for what, found in runs.items():
        best[what]["runs"] = [run["seconds"] for run in found]
    return best


def _pair_figures(pair: dict[str, Any], name: str, key: str) -> dict[str, Any]:
    handoff, reference = pair[name], pair[f"{name}_reference"]
    ratio = handoff["seconds"] / reference["seconds"]
    say(
        f"    {name:<9} Handoff {handoff['seconds']:6.2f} s  peak {handoff['peak_mb']:5.0f} MB   "
        f"plain {reference['seconds']:6.2f} s  peak {reference['peak_mb']:5.0f} MB   "
        f"ratio {ratio:.2f}   (runs: {_listed(handoff['runs'])} / {_listed(reference['runs'])})"
    )
    reference_key = key.replace("_seconds", "_reference_seconds")
    return {
        key: round(handoff["seconds"], 2),
        reference_key: round(reference["seconds"], 2),
        f"{name}_ratio_1m": round(ratio, 2),
        f"{name}_peak_rss_mb_1m": round(handoff["peak_mb"]),
    }


def _listed(seconds: list[float]) -> str:
    return ", ".join(f"{value:.2f}" for value in seconds) + " s"


def _same_problems(handoff: list[dict[str, Any]], reference: list[dict[str, Any]]) -> None:
    def keyed(problems: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[int, list[int]]]:
        return {(p["column"], p["kind"]): (p["count"], p["rows"]) for p in problems}

    mine, theirs = keyed(handoff), keyed(reference)
    if mine != theirs:
        lines = [
            f"{column} {kind}: Handoff {mine.get(key)}, plain {theirs.get(key)}"
            for key in sorted(set(mine) | set(theirs))
            for column, kind in [key]
            if mine.get(key) != theirs.get(key)
        ]
        raise SystemExit("validation: the two disagree\n  " + "\n  ".join(lines))
    if not mine:
        raise SystemExit("validation found no problems: the planted ones are missing")


def _same_profile(handoff: dict[str, Any], reference: dict[str, Any]) -> None:
    """Exact figures equal; the sketches' answers close to the sample's."""
    ours = {column["name"]: column for column in handoff["columns"]}
    problems = []
    if handoff["rows"] != reference["rows"]:
        problems.append(f"rows: Handoff {handoff['rows']}, plain {reference['rows']}")
    for plain in reference["columns"]:
        name, mine = plain["name"], ours.get(plain["name"])
        if mine is None:
            problems.append(f"{name}: missing from Handoff's profile")
            continue
        for key in ("nulls", "min", "max", "non_finite"):
            if key in plain and mine.get(key) != plain[key]:
                problems.append(f"{name} {key}: Handoff {mine.get(key)}, plain {plain[key]}")
        for key, tolerance in (("mean", 1e-9), ("std", 1e-6)):
            if key in plain and not _close(mine.get(key), plain[key], tolerance):
                problems.append(f"{name} {key}: Handoff {mine.get(key)}, plain {plain[key]}")
        if "quantiles" in plain:
            spread = plain["max"] - plain["min"]
            for (label, found), wanted in zip(
                mine["quantiles"].items(), plain["quantiles"], strict=True
            ):
                if abs(found - wanted) > 0.01 * spread:
                    problems.append(f"{name} {label}: Handoff {found}, plain sample {wanted}")
        distinct, wanted = mine["distinct"], plain["distinct"]
        if abs(distinct - wanted) > 0.06 * wanted:
            problems.append(f"{name} distinct: Handoff {distinct}, plain {wanted}")
        if "top" in plain and [[t["value"], t["count"]] for t in mine["top"]] != plain["top"]:
            problems.append(f"{name} top values: Handoff {mine['top']}, plain {plain['top']}")
    if problems:
        raise SystemExit("profile: the two disagree\n  " + "\n  ".join(problems))


def _close(found: float | None, wanted: float, tolerance: float) -> bool:
    return found is not None and abs(found - wanted) <= tolerance * max(1.0, abs(wanted))


def _through_services(setup: dict[str, Any]) -> dict[str, Any]:
    payload = {"dataset": setup["checks_dataset"], "version": setup["checks_version"]}
    validated = _run_child("validate_service", payload)
    profiled = _run_child("profile_service", payload)
    say(
        f"    through the services: validate_dataset {validated['seconds']:.2f} s "
        f"({validated['problems']:,} problems), profile_dataset {profiled['seconds']:.2f} s "
        f"({profiled['rows']:,} rows, {profiled['columns']} columns, job {profiled['status']})"
    )
    return {
        "validate_service_seconds_1m": round(validated["seconds"], 2),
        "profile_service_seconds_1m": round(profiled["seconds"], 2),
    }


def _big_profile(folder: Path, rows: int) -> dict[str, Any]:
    path = folder / "data" / f"checks-{rows}.parquet"
    started = time.perf_counter()
    _write_check_rows(path, rows, BIG_ROW_GROUP)
    took = time.perf_counter() - started
    say(
        f"    wrote {rows:,} rows ({_mb(path)} MB Parquet, row groups of {BIG_ROW_GROUP:,}) "
        f"in {took:.0f} s"
    )
    try:
        handoff = _run_child("profile", {"path": str(path)})
        reference = _run_child("profile_reference", {"path": str(path)})
    finally:
        path.unlink()
    _same_profile(handoff, reference)
    say(
        f"    profile of {rows:,} rows: Handoff {handoff['seconds']:.1f} s, peak "
        f"{handoff['peak_mb']:.0f} MB (at start {handoff['start_mb']:.0f}); plain "
        f"{reference['seconds']:.1f} s, peak {reference['peak_mb']:.0f} MB"
    )
    label = f"{rows // 1_000_000}m" if rows % 1_000_000 == 0 else str(rows)
    return {
        f"profile_peak_rss_mb_{label}": round(handoff["peak_mb"]),
        f"profile_seconds_{label}": round(handoff["seconds"], 1),
        f"profile_reference_seconds_{label}": round(reference["seconds"], 1),
        f"profile_reference_peak_rss_mb_{label}": round(reference["peak_mb"]),
    }


# The children ------------------------------------------------------------------------------


def _child(what: str, payload_text: str) -> None:
    payload = json.loads(payload_text)
    pieces = {
        "task": _child_task,
        "bare": _child_bare,
        "validate": _child_validate,
        "validate_reference": _child_validate_reference,
        "profile": _child_profile,
        "profile_reference": _child_profile_reference,
        "validate_service": _child_validate_service,
        "profile_service": _child_profile_service,
    }
    result = pieces[what](payload)
    print("RESULT " + json.dumps(result), flush=True)


def _django_child() -> None:
    configure_django(os.environ["DATABASE_URL"], os.environ["HANDOFF_VAR_DIR"])
    _no_task_sending()


def _child_task(payload: dict[str, Any]) -> dict[str, Any]:
    _django_child()
    # What a worker has loaded by its second evaluation: not counted in the time.
    _preload("onnxruntime", "sklearn.calibration", "registry.evaluation.metrics")
    from registry.evaluation.services.evaluations import run_evaluation

    try:
        evaluation, figures = timed(lambda: run_evaluation(evaluation_id=payload["evaluation"]))
    except ValueError as exc:
        if "greater than 1" not in str(exc):
            raise
        raise SystemExit(
            "run_evaluation stopped: the graph gave a float32 probability just above 1 and "
            f"log_loss refuses it ({exc}); scoring.py should clip the scores for log loss"
        ) from exc
    if evaluation.status != "succeeded":
        raise SystemExit(f"the evaluation ended {evaluation.status}: {evaluation.error}")
    return {
        **figures,
        "rows": evaluation.rows,
        "metrics": evaluation.metrics,
        "confusion": evaluation.curves["confusion"],
        "importance": [row["column"] for row in evaluation.importance[:3]],
        "auc_error": {
            "roc_auc": evaluation.curves["roc"]["1"].get("auc_error", 0.0),
            "pr_auc": evaluation.curves["pr"]["1"].get("auc_error", 0.0),
        },
    }


def _child_bare(payload: dict[str, Any]) -> dict[str, Any]:
    """Only numpy, pyarrow, onnxruntime and scikit-learn: every row kept, then scikit-learn's
    metrics on all of them."""
    import numpy as np
    import onnxruntime
    import pyarrow.parquet as pq
    from sklearn import metrics as skm
    from sklearn.calibration import calibration_curve

    sample_rows, repeats, seed = 20_000, 5, 0  # the task's SAMPLE_ROWS, REPEATS, SEED

    def work() -> dict[str, Any]:
        session = onnxruntime.InferenceSession(payload["onnx"], providers=["CPUExecutionProvider"])
        names = payload["features"]
        parquet = pq.ParquetFile(payload["path"])
        total = parquet.metadata.num_rows
        rng = np.random.default_rng(seed)
        chosen = np.sort(rng.choice(total, size=min(sample_rows, total), replace=False))
        truth, predicted, scores, sample, sample_truth = [], [], [], [], []
        start = 0
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=[*names, LABEL]):
            matrix = np.column_stack([batch.column(name).to_numpy() for name in names])
            label, proba = session.run(["label", "probabilities"], {"features": matrix})
            true = batch.column(LABEL).to_numpy().astype(np.int32)
            truth.append(true)
            predicted.append(label.astype(np.int32))
            scores.append(proba)
            inside = chosen[(chosen >= start) & (chosen < start + len(true))] - start
            sample.append(matrix[inside])
            sample_truth.append(true[inside])
            start += len(true)
        y, y_hat, p = np.concatenate(truth), np.concatenate(predicted), np.concatenate(scores)
        for parts in (truth, predicted, scores):
            parts.clear()  # the rows are held once
        found = _bare_metrics(skm, calibration_curve, y, y_hat, p)
        x_sample, y_sample = np.concatenate(sample), np.concatenate(sample_truth)
        importance = _bare_importance(skm, session, x_sample, y_sample, repeats, seed)
        above = int(np.count_nonzero(p > 1))
        return {"rows": len(y), **found, "importance": importance[:3], "above_one": above}

    found, figures = timed(work)
    return {**figures, **found, "sample": sample_rows, "repeats": repeats, "metric": "roc_auc"}


def _bare_metrics(skm: Any, calibration_curve: Any, y: Any, y_hat: Any, p: Any) -> dict[str, Any]:
    """The figures scoring.class_figures gives for a binary model with scores, from all
    rows."""
    import warnings

    import numpy as np

    present = np.flatnonzero(np.bincount(y, minlength=2) + np.bincount(y_hat, minlength=2))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y, y_hat, labels=present, zero_division=0
    )
    metrics = {"accuracy": float(skm.accuracy_score(y, y_hat))}
    for name, values in (("precision", precision), ("recall", recall), ("f1", f1)):
        metrics[f"{name}_macro"] = float(np.mean(values))
        metrics[f"{name}_weighted"] = float(np.average(values, weights=support))
    confusion = skm.confusion_matrix(y, y_hat, labels=np.arange(2))
    positive, score = y == 1, p[:, 1]
    fpr, tpr, _ = skm.roc_curve(positive, score)
    curve_precision, curve_recall, _ = skm.precision_recall_curve(positive, score)
    probability = np.clip(score.astype(np.float64), 0.0, 1.0)
    observed, expected = calibration_curve(positive, probability, n_bins=10)
    edges = np.linspace(0.0, 1.0, 11)
    counts = np.bincount(np.searchsorted(edges[1:-1], probability), minlength=10)
    curves = {
        "roc": {"fpr": _thin(np, fpr), "tpr": _thin(np, tpr)},
        "pr": {"recall": _thin(np, curve_recall), "precision": _thin(np, curve_precision)},
        "calibration": {
            "predicted": expected.tolist(),
            "observed": observed.tolist(),
            "count": [int(n) for n in counts[counts != 0]],
        },
    }
    metrics["roc_auc"] = float(skm.auc(fpr, tpr))
    metrics["pr_auc"] = float(max(0.0, -np.sum(np.diff(curve_recall) * curve_precision[:-1])))
    # In float64: on float32 scores scikit-learn sums in float32 (rounding at about 1e-7),
    # and the task sums exactly; clipped to float32's eps as scikit-learn clips float32.
    eps = float(np.finfo(np.float32).eps)
    p64 = np.clip(p.astype(np.float64), eps, 1 - eps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # clipped rows may not sum to one by an eps
        metrics["log_loss"] = float(skm.log_loss(y, p64, labels=np.arange(2)))
    return {
        "metrics": metrics,
        "confusion": confusion.tolist(),
        "points": len(curves["roc"]["fpr"]),
    }


def _thin(np: Any, values: Any, points: int = 200) -> list[float]:
    """scoring._thin: at most 200 evenly spaced points of a curve, its ends kept."""
    if len(values) > points:
        values = values[np.unique(np.linspace(0, len(values) - 1, points).round().astype(int))]
    return [float(v) for v in values]


def _bare_importance(
    skm: Any, session: Any, x: Any, y: Any, repeats: int, seed: int
) -> list[tuple[int, float]]:
    """Permutation importance of each column by the drop of ROC AUC, as scoring.py does."""
    import numpy as np

    rng = np.random.default_rng(seed)

    def auc(matrix: Any) -> float:
        _, proba = session.run(["label", "probabilities"], {"features": matrix})
        return float(skm.roc_auc_score(y == 1, proba[:, 1]))

    baseline = auc(x)
    drops = []
    for column in range(x.shape[1]):
        found = []
        for _ in range(repeats):
            shuffled = x.copy()
            shuffled[:, column] = x[rng.permutation(len(y)), column]
            found.append(baseline - auc(shuffled))
        drops.append((column, float(np.mean(found))))
    return sorted(drops, key=lambda item: -item[1])


def _preload(*modules: str) -> None:
    """Import before the clock starts, as the other side of each pair does."""
    for module in modules:
        importlib.import_module(module)


def _pure_handoff() -> None:
    """registry.evaluation's pure modules, without Django."""
    sys.path.insert(0, str(ROOT))


def _child_validate(payload: dict[str, Any]) -> dict[str, Any]:
    _pure_handoff()
    from registry.evaluation.validation import check_against_contract

    report, figures = timed(
        lambda: check_against_contract(payload["path"], "parquet", payload["contract"])
    )
    return {**figures, "problems": _problems_of(report)}


def _problems_of(report: Any) -> list[dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for column in report.columns:
        for problem in column.problems:
            entry = found.setdefault(
                (column.column, problem.kind),
                {"column": column.column, "kind": problem.kind, "count": 0, "rows": []},
            )
            entry["count"] += problem.count
            entry["rows"] = sorted(entry["rows"] + [e["row"] for e in problem.examples])[:5]
    return list(found.values())


def _child_validate_reference(payload: dict[str, Any]) -> dict[str, Any]:
    _preload("numpy", "pyarrow.compute", "pyarrow.parquet")
    problems, figures = timed(lambda: reference_validate(payload["path"], payload["contract"]))
    return {**figures, "problems": problems}


def reference_validate(path: str, contract: dict[str, Any]) -> list[dict[str, Any]]:
    """The contract's 50 checks with pyarrow.compute, a batch at a time: counts and the
    first five rows of each problem. Types the file's schema already satisfies (integer
    and string columns) are settled from the schema; a float column typed number is
    checked for NaN and infinities."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    required = set(contract["required"])
    plans = []
    for name, rule in contract["properties"].items():
        kind = schema.field(name).type
        wanted = rule["type"]
        if pa.types.is_floating(kind) and wanted == "number":
            finite = True
        elif (pa.types.is_integer(kind) and wanted in ("integer", "number")) or (
            pa.types.is_string(kind) and wanted == "string"
        ):
            finite = False
        else:
            raise SystemExit(f"the plain validation has no check for {kind} as {wanted}")
        allowed = pa.array(rule["enum"]) if "enum" in rule else None
        plans.append((name, name in required, finite, allowed, rule))
    counts: Counter[tuple[str, str]] = Counter()
    rows: dict[tuple[str, str], list[int]] = defaultdict(list)
    ids = []
    offset = 0

    def count(key: tuple[str, str], found: int, mask: Any) -> None:
        if not found:
            return
        counts[key] += found
        if len(rows[key]) < 5:
            first = pc.indices_nonzero(mask)[: 5 - len(rows[key])].to_numpy()
            rows[key] += (first + offset).tolist()

    names = [plan[0] for plan in plans]
    for batch in parquet.iter_batches(batch_size=VALIDATE_BATCH_ROWS, columns=names):
        for name, is_required, finite, allowed, rule in plans:
            array = batch.column(name)
            valid = len(array) - array.null_count
            if is_required and array.null_count:
                count((name, "null"), array.null_count, array.is_null())
            if finite:
                mask = pc.invert(pc.is_finite(array))
                count((name, "type"), mask.true_count, mask)
            if allowed is not None:
                inside = pc.is_in(array, value_set=allowed)
                if valid - inside.true_count:
                    mask = pc.and_(pc.invert(inside), array.is_valid())
                    count((name, "enum"), valid - inside.true_count, mask)
            for side, compare in (("minimum", pc.less), ("maximum", pc.greater)):
                if side in rule:
                    mask = compare(array, rule[side])
                    count((name, side), mask.true_count, mask)
            if rule.get("x-unique"):
                ids.append(array.to_numpy(zero_copy_only=False))
        offset += batch.num_rows
    if ids:
        values = np.concatenate(ids)
        ordered = np.sort(values)
        repeats = ordered[1:] == ordered[:-1]
        name = next(plan[0] for plan in plans if plan[4].get("x-unique"))
        if repeats.any():
            counts[(name, "unique")] = int(np.count_nonzero(repeats))
            candidates = np.flatnonzero(np.isin(values, np.unique(ordered[1:][repeats])))
            _, firsts = np.unique(values[candidates], return_index=True)
            rows[(name, "unique")] = np.delete(candidates, firsts)[:5].tolist()
    return [
        {"column": column, "kind": kind, "count": found, "rows": sorted(rows[(column, kind)])[:5]}
        for (column, kind), found in counts.items()
    ]


def _child_profile(payload: dict[str, Any]) -> dict[str, Any]:
    _pure_handoff()
    from registry.evaluation.profiling import profile

    result, figures = timed(lambda: profile(payload["path"], "parquet"))
    return {**figures, "rows": result.row_count, "columns": result.columns}


def _child_profile_reference(payload: dict[str, Any]) -> dict[str, Any]:
    _preload("numpy", "pyarrow.compute", "pyarrow.parquet")
    found, figures = timed(lambda: reference_profile(payload["path"]))
    return {**figures, **found}


_GAMMA, _MUL1, _MUL2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def reference_profile(path: str) -> dict[str, Any]:
    """Every column a batch at a time with numpy and pyarrow.compute: numbers get nulls,
    non-finite values, min, max, mean and std (exact), quantiles and a 40-bin histogram
    from a uniform sample of SAMPLE_ROWS_REFERENCE rows (the rows with the smallest random
    keys), and a distinct count from the DISTINCT_KEPT smallest 64-bit hashes (KMV);
    text gets nulls and exact value counts, the top ten and the number of values."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    numeric = [
        f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
    ]
    text = [f.name for f in schema if f.name not in numeric]
    stats = {name: _NumberSummary(np) for name in numeric}
    values: dict[str, Counter[str]] = {name: Counter() for name in text}
    nulls: Counter[str] = Counter()
    rng = np.random.default_rng(SEED)
    kept_keys = np.empty(0)
    kept = np.empty((0, len(numeric)))
    rows = 0
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
        count = batch.num_rows
        rows += count
        floats = []
        for name in numeric:
            array = batch.column(name)
            nulls[name] += array.null_count
            as_float = array.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
            stats[name].add(pa, pc, array, as_float)
            floats.append(as_float)
        for name in text:
            array = batch.column(name)
            nulls[name] += array.null_count
            found = pc.value_counts(array)
            for value, times in zip(
                found.field("values").to_pylist(), found.field("counts").to_pylist(), strict=True
            ):
                if value is not None:
                    values[name][value] += times
        # The sample: every row gets a random key; the smallest keys so far are kept.
        keys = rng.random(count)
        if len(kept_keys) >= SAMPLE_ROWS_REFERENCE:
            picked = np.flatnonzero(keys < kept_keys.max())
        else:
            picked = np.arange(count)
        if len(picked):
            picked_rows = np.column_stack([column[picked] for column in floats])
            kept_keys = np.concatenate((kept_keys, keys[picked]))
            kept = np.concatenate((kept, picked_rows))
            if len(kept_keys) > SAMPLE_ROWS_REFERENCE:
                best = np.argpartition(kept_keys, SAMPLE_ROWS_REFERENCE - 1)[:SAMPLE_ROWS_REFERENCE]
                kept_keys, kept = kept_keys[best], kept[best]
    found: list[dict[str, Any]] = []
    for index, name in enumerate(numeric):
        sample = kept[:, index]
        found.append({"name": name, "nulls": nulls[name], **stats[name].result(sample)})
    for name in text:
        top = values[name].most_common()
        top.sort(key=lambda item: (-item[1], item[0]))
        found.append(
            {
                "name": name,
                "nulls": nulls[name],
                "distinct": len(top),
                "top": [[value, times] for value, times in top[:10]],
            }
        )
    return {"rows": rows, "columns": found}


class _NumberSummary:
    """Exact count, min, max, mean and sum of squares; the KMV distinct sketch."""

    def __init__(self, np: Any) -> None:
        self.np = np
        self.count = self.non_finite = 0
        self.low = self.high = None
        self.shift: float | None = None
        self.sum = self.squares = 0.0
        self.hashes = np.empty(0, dtype=np.uint64)
        self.integer = False

    def add(self, pa: Any, pc: Any, array: Any, values: Any) -> None:
        np = self.np
        self.integer = str(array.type).startswith(("int", "uint"))
        finite = np.isfinite(values)
        dropped = len(values) - int(np.count_nonzero(finite))
        if dropped:
            self.non_finite += dropped - array.null_count
            values = values[finite]
        if not len(values):
            return
        low, high = float(values.min()), float(values.max())
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)
        if self.shift is None:
            self.shift = float(values[0])
        moved = values - self.shift
        self.sum += float(moved.sum())
        self.squares += float(np.square(moved, out=moved).sum())
        self.count += len(values)
        full = len(self.hashes) >= DISTINCT_KEPT
        if not full:
            values = pc.unique(pa.array(values)).to_numpy()  # a hash table: few stay few
        hashes = _mix(np, (values + 0.0).view(np.uint64))
        if full:
            hashes = hashes[hashes < self.hashes[-1]]
        if full and len(hashes):
            # A few new small hashes: put the ones not kept yet in their places.
            hashes = np.unique(hashes)
            where = np.searchsorted(self.hashes, hashes)
            new = self.hashes[where.clip(max=len(self.hashes) - 1)] != hashes
            kept = np.insert(self.hashes, where[new], hashes[new])
            self.hashes = kept[:DISTINCT_KEPT]
        elif len(hashes):
            self.hashes = np.unique(np.concatenate((self.hashes, hashes)))[:DISTINCT_KEPT]

    def result(self, sample: Any) -> dict[str, Any]:
        np = self.np
        sample = sample[np.isfinite(sample)]
        mean = self.shift + self.sum / self.count
        variance = (self.squares - self.sum * self.sum / self.count) / (self.count - 1)
        counts, _ = np.histogram(sample, bins=HISTOGRAM_BINS, range=(self.low, self.high))
        if len(self.hashes) < DISTINCT_KEPT:
            distinct = len(self.hashes)
        else:
            distinct = round((DISTINCT_KEPT - 1) / (float(self.hashes[-1]) / 2.0**64))
        low, high = (int(self.low), int(self.high)) if self.integer else (self.low, self.high)
        return {
            "non_finite": self.non_finite,
            "min": low,
            "max": high,
            "mean": mean,
            "std": float(np.sqrt(variance)),
            "quantiles": [float(q) for q in np.quantile(sample, QUANTILES)],
            "histogram": (counts * (self.count / len(sample))).round().astype(int).tolist(),
            "distinct": distinct,
        }


def _mix(np: Any, bits: Any) -> Any:
    """splitmix64's finaliser, in place on a fresh array."""
    bits += np.uint64(_GAMMA)
    bits ^= bits >> np.uint64(30)
    bits *= np.uint64(_MUL1)
    bits ^= bits >> np.uint64(27)
    bits *= np.uint64(_MUL2)
    bits ^= bits >> np.uint64(31)
    return bits


def _child_validate_service(payload: dict[str, Any]) -> dict[str, Any]:
    _django_child()
    from registry.evaluation.models import Dataset
    from registry.evaluation.services.datasets import validate_dataset
    from registry.models import ModelVersion

    dataset = Dataset.objects.get(pk=payload["dataset"])
    version = ModelVersion.objects.get(pk=payload["version"])
    report, figures = timed(lambda: validate_dataset(dataset=dataset, version=version))
    return {**figures, "problems": report.problem_count}


def _child_profile_service(payload: dict[str, Any]) -> dict[str, Any]:
    _django_child()
    from registry.evaluation.services.datasets import profile_dataset

    dataset, figures = timed(lambda: profile_dataset(dataset_id=payload["dataset"]))
    return {
        **figures,
        "rows": dataset.row_count,
        "columns": len(dataset.columns),
        "status": dataset.status,
    }


if __name__ == "__main__":
    main()
