"""Handoff's MLflow-compatible API next to MLflow's own tracking server, through the stock client.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/mlflow_compat.py

Creates its own database on the server of DATABASE_URL (handoff_bench_mlflow_<pid>), migrates
it, makes a data scientist in one team with a personal write token through the services, and
starts gunicorn on a free port of 127.0.0.1 (DEBUG off, no Redis, Celery eager). Beside it, it
starts ``mlflow server`` (the executable in MLFLOW_SERVER_BIN, else /tmp/mlflowvenv/bin/mlflow)
with a SQLite backend in a temporary directory on another free port, with as many worker
processes. When there is no such executable, MLflow's figures are null and the output says why.

The same workload runs against each, driven by ``mlflow.tracking.MlflowClient`` in this
process: one experiment, RUNS runs, each ``log_batch`` call BATCH metrics (the client's limit),
METRICS keys x STEPS steps a run; then ``get_metric_history`` for every run and key, each answer
checked against what was sent (a wrong or missing point fails the bench). The sides take turns
phase by phase, so load on the host slows both alike; next to each time it prints the CPU the
server spent (its processes, and PostgreSQL's backends for Handoff), read from /proc. Both
servers stop, the database is dropped and the temporary directories are removed at the end,
whether or not the run succeeded. Last line: ``BENCH {...}`` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from databases import configure_django, own_database, url_with_database
from measure import load_average, say, timed
from servers import (
    environment_without,
    free_port,
    portal_environment,
    portal_gunicorn,
    server,
    wait_until_up,
)

RUNS, METRICS, STEPS = 20, 10, 2_000
BATCH = 1_000  # metrics per log_batch call: the client's MAX_METRICS_PER_BATCH
POINTS = RUNS * METRICS * STEPS
KEYS = [f"metric_{m}" for m in range(METRICS)]
EXPERIMENT = "bench-mlflow-compat"
SERVER_START_SECONDS = 180  # MLflow migrates its SQLite database on first start
PROBE = "/api/2.0/mlflow/experiments/get-by-name"  # asked with a wrong token: 401 if mounted
NO_TELEMETRY = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


@dataclass
class Side:
    """One server under test: where it listens, what to send, how to count its CPU."""

    name: str
    port: int
    pid: int  # the process started; its descendants are the server
    token: str | None = None  # MLFLOW_TRACKING_TOKEN while talking to it
    database_url: str | None = None  # PostgreSQL backends of this database count as its CPU

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="worker processes of each server")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument(
        "--sides", default="handoff,mlflow", help="servers to measure: handoff, mlflow or both"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL=postgres://… (the bench creates its own database there).")
    sides = {part.strip() for part in args.sides.split(",")}
    if not sides <= {"handoff", "mlflow"}:
        sys.exit(f"--sides takes handoff, mlflow or both, not {args.sides!r}")
    # Every request answers once: a throttled (429) or failing request fails the bench instead
    # of hiding the client's back-off sleeps inside the figures.
    os.environ.update({"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", **NO_TELEMETRY})
    os.environ.pop("MLFLOW_TRACKING_TOKEN", None)
    say(f"host: {os.cpu_count()} cores, load average {load_average()} before the run")
    data = _workload()
    figures: dict[str, Any] = {
        "handoff_log_seconds": None,
        "handoff_history_seconds": None,
        "mlflow_log_seconds": None,
        "mlflow_history_seconds": None,
        "log_ratio": None,
        "history_ratio": None,
        "points": POINTS,
        "workers": args.workers,
        "mlflow_version": None,
        "handoff_log_server_cpu_seconds": None,
        "handoff_history_server_cpu_seconds": None,
        "mlflow_log_server_cpu_seconds": None,
        "mlflow_history_server_cpu_seconds": None,
        "log_cpu_ratio": None,
        "history_cpu_ratio": None,
    }
    with ExitStack() as stack:
        running = []
        if "handoff" in sides:
            running.append(stack.enter_context(_handoff(args.workers, args.threads)))
        if "mlflow" in sides:
            binary = _mlflow_binary()
            if binary is None:
                say("MLflow: no server (set MLFLOW_SERVER_BIN or install /tmp/mlflowvenv)")
            else:
                figures["mlflow_version"] = _mlflow_version(binary)
                running.append(stack.enter_context(_mlflow(binary, args.workers)))
        figures.update(_measure(running, data))
    for phase in ("log", "history"):
        for measure, ratio in (("seconds", "ratio"), ("server_cpu_seconds", "cpu_ratio")):
            handoff = figures[f"handoff_{phase}_{measure}"]
            mlflow = figures[f"mlflow_{phase}_{measure}"]
            if handoff and mlflow:
                figures[f"{phase}_{ratio}"] = round(mlflow / handoff, 2)
    say(
        "mlflow / handoff (> 1: Handoff is faster): "
        f"log {figures['log_ratio']}, history {figures['history_ratio']}; "
        f"server CPU: log {figures['log_cpu_ratio']}, history {figures['history_cpu_ratio']}"
    )
    say(f"load average {load_average()} after the run")
    print("BENCH " + json.dumps(figures))


# The workload ---------------------------------------------------------------------------


def _workload() -> list[list[Any]]:
    """Every run's metrics in the order a training loop logs them: each step's keys in turn.
    Values are random doubles, so a point that loses a bit on the way back fails the check."""
    from mlflow.entities import Metric

    rng = random.Random(20)  # noqa: S311 - made-up data, not secrets
    start_ms = 1_700_000_000_000
    return [
        [
            Metric(key=key, value=rng.random(), timestamp=start_ms + step * 100, step=step)
            for step in range(STEPS)
            for key in KEYS
        ]
        for _ in range(RUNS)
    ]


def _measure(sides: list[Side], data: list[list[Any]]) -> dict[str, Any]:
    """Log phase on each side in turn, then the history phase on each side in turn."""
    figures: dict[str, Any] = {}
    runs: dict[str, list[str]] = {}
    say(
        f"workload: {RUNS} runs x {METRICS} metrics x {STEPS:,} steps = {POINTS:,} points, "
        f"log_batch of {BATCH:,}, then get_metric_history of every run and key"
    )
    for side in sides:
        with _talking_to(side):
            runs[side.name] = _create_runs(side)
    for side in sides:
        with _talking_to(side):
            figures.update(_phase(side, "log", lambda s=side: _log(s, runs[s.name], data)))
    for side in sides:
        with _talking_to(side):
            histories, measured = _history(side, runs[side.name])
        _check(side, runs[side.name], data, histories)
        figures.update(measured)
    return figures


def _create_runs(side: Side) -> list[str]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=side.uri)
    experiment_id = client.create_experiment(EXPERIMENT)
    return [
        client.create_run(experiment_id, run_name=f"run-{n:02d}").info.run_id for n in range(RUNS)
    ]


def _log(side: Side, run_ids: list[str], data: list[list[Any]]) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=side.uri)
    for run_id, metrics in zip(run_ids, data, strict=True):
        for start in range(0, len(metrics), BATCH):
            client.log_batch(run_id, metrics=metrics[start : start + BATCH])


def _history(side: Side, run_ids: list[str]) -> tuple[list[list[Any]], dict[str, float]]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=side.uri)
    found: list[list[Any]] = []

    def fetch() -> None:
        for run_id in run_ids:
            found.extend(client.get_metric_history(run_id, key) for key in KEYS)

    return found, _phase(side, "history", fetch)


def _check(
    side: Side, run_ids: list[str], data: list[list[Any]], histories: list[list[Any]]
) -> None:
    """Every history holds exactly the points sent: key, step, value and timestamp."""
    answers = iter(histories)
    for run_id, metrics in zip(run_ids, data, strict=True):
        for key in KEYS:
            sent = sorted((m.step, m.value, m.timestamp) for m in metrics if m.key == key)
            history = next(answers)
            got = sorted((m.step, m.value, m.timestamp) for m in history)
            wrong_keys = {m.key for m in history} - {key}
            if got != sent or wrong_keys:
                raise SystemExit(
                    f"{side.name}: run {run_id} metric {key}: {len(got)} points came back, "
                    f"{len(sent)} were sent; first difference "
                    f"{_first_difference(sent, got)}; other keys {sorted(wrong_keys)}"
                )
    say(f"{side.name}: every history holds the {STEPS:,} points sent, bit for bit")


def _first_difference(sent: list[Any], got: list[Any]) -> str:
    for index, (one, other) in enumerate(zip(sent, got, strict=False)):
        if one != other:
            return f"at {index}: sent {one}, got {other}"
    return f"at {min(len(sent), len(got))}: one list is longer"


def _phase(side: Side, phase: str, work: Any) -> dict[str, float]:
    """``work``'s seconds and the CPU seconds the server spent on it, printed and returned."""
    cpu = CpuMeter(side)
    client_cpu = time.process_time()
    _, measured = timed(work)
    client_cpu = time.process_time() - client_cpu
    server, database = cpu.spent()
    seconds = round(measured["seconds"], 2)
    spent = f"server {server:.1f} s"
    if side.database_url:
        spent += f" + PostgreSQL {database:.1f} s"
    say(
        f"{side.name:8} {phase:8} {seconds:7.2f} s  {POINTS / measured['seconds']:>9,.0f} points/s"
        f"   CPU: {spent}, client {client_cpu:.1f} s   load average {load_average()}"
    )
    return {
        f"{side.name}_{phase}_seconds": seconds,
        f"{side.name}_{phase}_server_cpu_seconds": round(server + database, 1),
    }


@contextmanager
def _talking_to(side: Side) -> Iterator[None]:
    """The token in the environment while the client talks to Handoff, none for MLflow: the
    client reads MLFLOW_TRACKING_TOKEN on every request."""
    if side.token:
        os.environ["MLFLOW_TRACKING_TOKEN"] = side.token
    try:
        yield
    finally:
        os.environ.pop("MLFLOW_TRACKING_TOKEN", None)


# Handoff --------------------------------------------------------------------------------


@contextmanager
def _handoff(workers: int, threads: int) -> Iterator[Side]:
    server = os.environ["DATABASE_URL"]
    name = f"handoff_bench_mlflow_{os.getpid()}"
    url = url_with_database(server, name)
    with own_database(server, name), tempfile.TemporaryDirectory() as var_dir:
        configure_django(url, var_dir)
        from django.core.management import call_command
        from django.db import connections

        try:
            call_command("migrate", verbosity=0)
            token = _person_with_token()
        finally:
            connections.close_all()
        with _gunicorn(url, var_dir, workers, threads) as (port, pid):
            _require_mlflow_api(port)
            yield Side("handoff", port, pid, token=token, database_url=url)


def _person_with_token() -> str:
    """A data scientist in one team (where new experiments go) and a personal write token."""
    from portal.roles import Role
    from portal.services.accounts import create_team, create_user
    from portal.services.tokens import create_token

    user = create_user(username="alice", password=None, roles=[Role.DATA_SCIENTIST])
    create_team(name="Bench", members=[user])
    _, key = create_token(user=user, name="mlflow bench", scope="write")
    return key


@contextmanager
def _gunicorn(url: str, var_dir: str, workers: int, threads: int) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = portal_environment(
        url,
        var_dir,
        without=("REDIS_URL", "CELERY_BROKER_URL"),  # throttles in a file cache
        # Connections outlive every phase (not renewed each minute), so each backend is still
        # there to have its CPU read when the phase ends.
        DATABASE_CONN_MAX_AGE="3600",
        MEDIA_ROOT=str(Path(var_dir) / "media"),
    )
    say(f"Handoff: gunicorn, {workers} gthread x {threads} workers on 127.0.0.1:{port}, DEBUG off")
    with portal_gunicorn(
        port, workers, threads, env, var_dir, start_seconds=SERVER_START_SECONDS, ignore=(PROBE,)
    ) as pid:
        yield port, pid


def _require_mlflow_api(port: int) -> None:
    """A wrong token must meet the MLflow API's 401, not the router's 404."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    path = f"{PROBE}?experiment_name=x"
    connection.request("GET", path, headers={"Authorization": "Bearer x"})
    status = connection.getresponse().status
    connection.close()
    if status != 401:
        raise SystemExit(
            f"Handoff answers {status} to GET {path} with a wrong token (401 expected): "
            "its MLflow API is not mounted yet; run with --sides mlflow to measure MLflow alone"
        )


# MLflow ---------------------------------------------------------------------------------


def _mlflow_binary() -> str | None:
    for candidate in (os.environ.get("MLFLOW_SERVER_BIN"), "/tmp/mlflowvenv/bin/mlflow"):  # noqa: S108
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _mlflow_version(binary: str) -> str:
    shown = subprocess.run(  # noqa: S603
        [binary, "--version"], capture_output=True, text=True, check=True, env=_mlflow_env()
    )
    return shown.stdout.split()[-1]  # "mlflow, version 3.17.2"


@contextmanager
def _mlflow(binary: str, workers: int) -> Iterator[Side]:
    with tempfile.TemporaryDirectory(prefix="mlflow_bench_") as home:
        port = free_port()
        command = [
            *(binary, "server", "--backend-store-uri", f"sqlite:///{home}/mlflow.db"),
            *("--artifacts-destination", f"{home}/artifacts"),
            *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        ]
        say(f"MLflow: mlflow server, {workers} workers on 127.0.0.1:{port}, SQLite in {home}")
        with server(command, Path(home), _mlflow_env(), Path(home) / "server.log") as process:
            wait_until_up(port, "/health", process, "mlflow server", SERVER_START_SECONDS)
            yield Side("mlflow", port, process.pid)


def _mlflow_env() -> dict[str, str]:
    return {**environment_without("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_URI"), **NO_TELEMETRY}


# CPU ------------------------------------------------------------------------------------


class CpuMeter:
    """CPU seconds a side spends between its creation and ``spent()``: the server's processes
    (everything descended from the process started) and, for Handoff, the PostgreSQL backends
    of its database. Read from /proc, so it does not depend on what else the host does; a
    process that ends in between is left out rather than counted negative."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.before = self._snapshot()

    def spent(self) -> tuple[float, float]:
        after = self._snapshot()
        server, database = (
            sum(now - was.get(pid, 0.0) for pid, now in part.items())
            for was, part in zip(self.before, after, strict=True)
        )
        return server, database

    def _snapshot(self) -> tuple[dict[int, float], dict[int, float]]:
        return _cpu_by_pid(_descendants(self.side.pid)), _cpu_by_pid(self._backends())

    def _backends(self) -> list[int]:
        if self.side.database_url is None:
            return []
        import psycopg

        with psycopg.connect(self.side.database_url, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        return [pid for (pid,) in rows]


def _descendants(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


if __name__ == "__main__":
    main()
