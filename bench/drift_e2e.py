"""The drift report end to end on PostgreSQL: 1M logged predictions → DriftReport.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/drift_e2e.py

bench/drift.py calls ``run_e2e``; run alone, this prints the same figures. It creates its own
database on the server of DATABASE_URL (handoff_bench_drift_<pid>), migrates it, makes a
user, team, model and version (a contract of bench/drift.py's 25 columns) through the
services, uploads and profiles a 1M-row reference (bench/drift.py's reference side), and
stores 1M predictions of the last day whose features are bench/drift.py's current side
(loaded with COPY into a scratch table, the jsonb built by PostgreSQL). Not timed: all that.

Timed, each in a fresh child process (its own peak RSS): the report task as a worker runs
it (``run_report``: count the window, read the reference, stream the window out of
PostgreSQL with COPY, compare the 25 columns, save), once in exact mode and once in the
bounded mode (HANDOFF_DRIFT_EXACT_ROWS=0). The database is dropped at the end.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from databases import configure_django, own_database, url_with_database
from measure import peak_mb

ROOT = Path(__file__).resolve().parent.parent
ROWS = 1_000_000
MODEL, VERSION = "bench-drift", "1.0.0"


def _load(name: str) -> Any:
    """A bench module by path (``registry`` is the name of a Django app)."""
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}", Path(__file__).parent / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_e2e(database_url: str, rows: int = ROWS) -> dict[str, Any]:
    name = f"handoff_bench_drift_{os.getpid()}"
    url = url_with_database(database_url, name)
    with (
        tempfile.TemporaryDirectory(prefix="handoff_bench_drift_") as var,
        own_database(database_url, name),
    ):
        os.environ["HANDOFF_MAX_UPLOAD_BYTES"] = str(1 << 30)
        configure_django(url, var)
        _no_task_sending()
        from django.core.management import call_command
        from django.db import connections

        try:
            call_command("migrate", verbosity=0)
            exact, bounded = _setup(Path(var), rows)
        finally:
            connections.close_all()
        env = {"DATABASE_URL": url, "HANDOFF_VAR_DIR": var}
        first = _child({"report": exact}, env)
        second = _child({"report": bounded}, {**env, "HANDOFF_DRIFT_EXACT_ROWS": "0"})
    for label, found in (("exact", first), ("bounded", second)):
        print(
            f"  end to end, {label}: {found['rows']:,} logged rows in {found['seconds']:.2f} s, "
            f"peak RSS {found['peak_mb']:.0f} MB; {len(found['drifted'])} columns drifted: "
            f"{', '.join(found['drifted'])}",
            flush=True,
        )
    same = first["drifted"] == second["drifted"]
    print(f"  bounded and exact report the same drifted columns: {same}", flush=True)
    return {
        "e2e_1m_seconds": round(first["seconds"], 2),
        "e2e_1m_peak_rss_mb": round(first["peak_mb"]),
        "e2e_bounded_1m_seconds": round(second["seconds"], 2),
        "e2e_bounded_1m_peak_rss_mb": round(second["peak_mb"]),
        "e2e_bounded_matches_exact": same,
    }


def _no_task_sending() -> None:
    # Jobs stay queued: the children run each report's body themselves.
    from portal.services import jobs

    jobs.send_job = lambda model, pk: None


def _setup(folder: Path, rows: int) -> tuple[int, int]:
    from django.utils import timezone

    from portal.roles import Role
    from portal.services.accounts import create_team, create_user
    from registry.monitoring.services.configs import save_config
    from registry.monitoring.services.reports import start_report
    from registry.services.models import create_model
    from registry.services.versions import create_version

    drift = _load("drift")
    user = create_user(username="alice", password=None, roles=[Role.DATA_SCIENTIST])
    team = create_team(name="Bench", members=[user])
    model = create_model(actor=user, name=MODEL, title="Bench", team=team, task_type="regression")
    kinds = {name: drift.column_kind(i) for i, name in enumerate(drift.COLUMNS)}
    schema = {
        "type": "object",
        "properties": {
            name: {"type": "number"} if kind == "numeric" else {"type": "string"}
            for name, kind in kinds.items()
        },
    }
    example = {name: 1.0 if kind == "numeric" else "c00" for name, kind in kinds.items()}
    version = create_version(
        actor=user, model=model, version=VERSION, input_schema=schema,
        output_schema={"type": "object"}, example_request=example,
        example_response={"value": 1.0},
    )  # fmt: skip
    started = time.perf_counter()
    reference = _reference(folder, drift, user, team, rows)
    print(
        f"  reference: {rows:,} rows uploaded and profiled in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    _log(drift, version, rows)
    print(f"  window: {rows:,} predictions stored in {time.perf_counter() - started:.1f} s")
    config = save_config(actor=user, version=version, reference=reference, schedule="manual")
    now = timezone.now()
    exact, _ = start_report(actor=user, config=config, trigger="manual", now=now)
    bounded, _ = start_report(
        actor=user, config=config, trigger="manual", now=now + timedelta(minutes=1)
    )
    return exact.pk, bounded.pk


def _reference(folder: Path, drift: Any, user: Any, team: Any, rows: int) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from django.core.files.uploadedfile import TemporaryUploadedFile

    from registry.evaluation.services.datasets import create_dataset, profile_dataset

    path = folder / "reference.parquet"
    streams = [drift.ColumnStream(i, "reference") for i in range(len(drift.COLUMNS))]
    schema = pa.schema(
        [(s.name, pa.float64() if s.kind == "numeric" else pa.string()) for s in streams]
    )
    with pq.ParquetWriter(path, schema) as writer:
        done = 0
        while done < rows:
            size = min(drift.CHUNK, rows - done)
            writer.write_table(pa.table({s.name: s.draw(size) for s in streams}, schema=schema))
            done += size
    upload = TemporaryUploadedFile(
        "reference.parquet", "application/octet-stream", path.stat().st_size, None
    )
    with path.open("rb") as source:
        upload.write(source.read())
    upload.seek(0)
    dataset = create_dataset(
        actor=user, team=team, name="bench-reference", version="1", kind="reference",
        description="", upload=upload,
    )  # fmt: skip
    return profile_dataset(dataset_id=dataset.pk)


def _log(drift: Any, version: Any, rows: int) -> None:
    """The current side as predictions of the last 23 hours, through a scratch table."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pa_csv
    from django.db import connection
    from django.utils import timezone

    streams = [drift.ColumnStream(i, "current") for i in range(len(drift.COLUMNS))]
    typed = ", ".join(
        f"{s.name} {'double precision' if s.kind == 'numeric' else 'text'}" for s in streams
    )
    pairs = ", ".join(f"'{s.name}', {s.name}" for s in streams)
    start = timezone.now() - timedelta(hours=23)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE UNLOGGED TABLE bench_window (n bigint, {typed})")
        done = 0
        while done < rows:
            size = min(drift.CHUNK, rows - done)
            table = pa.table(
                {"n": range(done, done + size), **{s.name: s.draw(size) for s in streams}}
            )
            buffer = io.BytesIO()
            pa_csv.write_csv(table, buffer, pa_csv.WriteOptions(include_header=False))
            with cursor.copy("COPY bench_window FROM STDIN (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            done += size
        cursor.execute(
            "INSERT INTO feedback_predictionlog (model_id, version_id, prediction_id, "  # noqa: S608
            "predicted_at, received_at, features, output, label, value, latency_ms, end_user, "
            "metadata, contract_violation, violations) "
            "SELECT %s, %s, 'p-' || n, %s + n * interval '80 milliseconds', %s, "
            f"jsonb_build_object({pairs}), '{{\"value\": 1.0}}', '', 1.0, 5.0, '', '{{}}', "
            "false, '[]' FROM bench_window",
            [version.model_id, version.pk, start, timezone.now()],
        )
        cursor.execute("DROP TABLE bench_window")
        cursor.execute("ANALYZE feedback_predictionlog")


def _child(payload: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", json.dumps(payload)]
    done = subprocess.run(  # noqa: S603
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the drift report child failed (exit code {done.returncode})")
    return json.loads(lines[-1].removeprefix("RESULT "))


def _run_child(payload: dict[str, Any]) -> None:
    configure_django(os.environ["DATABASE_URL"], os.environ["HANDOFF_VAR_DIR"])
    _no_task_sending()
    # What a worker has loaded by its second report: not counted in the time.
    import pyarrow.csv  # noqa: F401
    import scipy.stats  # noqa: F401

    from registry.monitoring.services.reports import run_report

    started = time.perf_counter()
    report = run_report(report_id=payload["report"])
    seconds = time.perf_counter() - started
    if report.status != "succeeded":
        raise SystemExit(f"the report ended {report.status}: {report.error}")
    result = {
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "rows": report.current_rows,
        "bounded": report.bounded,
        "drifted": report.drifted_columns,
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _run_child(json.loads(sys.argv[2]))
    else:
        server = os.environ.get("DATABASE_URL", "")
        if not server.startswith(("postgres://", "postgresql://")):
            sys.exit("Set DATABASE_URL=postgres://… (the bench creates its own database there).")
        figures = run_e2e(server)
        print("BENCH " + json.dumps(figures), flush=True)
