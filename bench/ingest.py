"""Ingest over HTTP on PostgreSQL: prediction batches next to raw COPY, and single feedback.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/ingest.py

Creates its own database on the server of DATABASE_URL (handoff_bench_ingest_<pid>),
migrates it, makes a user, team, model, version with an input contract and a server API key
through the services, and starts gunicorn on a free port of 127.0.0.1 (DEBUG off, the throttle
cache in Redis, a key rate high enough never to throttle). Then it measures:

(a) prediction batches of 1,000 and of 10,000 records (8 features each) POSTed to
    /api/v1/predictions one after another on one connection, next to psycopg ``COPY`` of the
    same rows straight into feedback_predictionlog (distinct prediction ids), the physical
    ceiling; the three take turns in rounds, so load on the host slows them alike;
(b) single pieces of feedback POSTed to /api/v1/feedback by 16 threads with their own
    keep-alive connections, for a fixed number of requests: requests/s, p50 and p99.

Next to each rate it prints the CPU time that way costs, read from /proc (gunicorn's workers
and the database's backends; the client and its backend for COPY), which does not depend on
what else the host is busy with, and the load average as it went. gunicorn stops and the
database is dropped at the end, whether or not the run succeeded. Last line:
``BENCH {...}`` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from databases import configure_django, own_database, url_with_database
from measure import load_average, say
from servers import free_port, portal_environment, portal_gunicorn

MODEL, VERSION = "churn-scorer", "1.0.0"
ROUNDS = 4
ROWS_PER_ROUND = 20_000  # per way of ingesting: 20 batches of 1,000, two of 10,000, two COPYs
REDIS_DB = 12  # the throttle counters; the bench only adds keys that expire within a minute
KEY_RATE = "100000000/min"
PLANS = ["basic", "plus", "pro"]
COUNTRIES = ["DE", "FR", "GB", "NL", "SE", "ES", "IT", "PL"]
INPUT_SCHEMA = {
    "type": "object",
    "properties": {
        "age": {"type": "integer", "minimum": 18, "maximum": 120},
        "tenure_months": {"type": "integer", "minimum": 0},
        "monthly_spend": {"type": "number", "minimum": 0},
        "plan": {"enum": PLANS},
        "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
        "support_tickets": {"type": "integer", "minimum": 0},
        "last_login_days": {"type": "integer", "minimum": 0},
        "discount": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["age", "tenure_months", "monthly_spend", "plan", "country"],
    "additionalProperties": False,
}
COPY_COLUMNS = (
    "model_id, version_id, prediction_id, predicted_at, received_at, features, output, label, "
    "value, latency_ms, end_user, metadata, contract_violation, violations, api_key_id"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (gthread)")
    parser.add_argument("--feedback", type=int, default=3_000, help="timed feedback requests")
    parser.add_argument("--clients", type=int, default=16, help="concurrent feedback clients")
    parser.add_argument(
        "--parts", default="batches,feedback", help="what to measure: batches, feedback or both"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL=postgres://… (the bench creates its own database there).")
    server = os.environ["DATABASE_URL"]
    name = f"handoff_bench_ingest_{os.getpid()}"
    url = url_with_database(server, name)
    say(f"host: {os.cpu_count()} cores, load average {load_average()} before the run")
    with own_database(server, name), tempfile.TemporaryDirectory() as var_dir:
        configure_django(url, var_dir)
        from django.core.management import call_command
        from django.db import connections

        try:
            call_command("migrate", verbosity=0)
            ids, secret = _setup()
        finally:
            connections.close_all()
        with _gunicorn(url, var_dir, args.workers, args.threads) as (port, master):
            meter = CpuMeter(master, name)
            try:
                bench = Bench(url, port, secret, ids, meter)
                bench.warm()
                figures = bench.ingest() if "batches" in args.parts else {}
                if "feedback" in args.parts:
                    figures.update(bench.feedback(args.feedback, args.clients))
            finally:
                meter.close()
    say(f"load average {load_average()} after the run")
    print("BENCH " + json.dumps(figures))


def _setup() -> tuple[dict[str, int], str]:
    """A data scientist's model with a contract, and a server key for it, via the services."""
    from feedback.models import Scope
    from feedback.services.keys import create_key
    from portal.roles import Role
    from portal.services.accounts import create_team, create_user
    from registry.services.models import create_model
    from registry.services.versions import create_version

    user = create_user(username="alice", password=None, roles=[Role.DATA_SCIENTIST])
    team = create_team(name="Bench", members=[user])
    model = create_model(actor=user, name=MODEL, title="Churn scorer", team=team)
    version = create_version(
        actor=user,
        model=model,
        version=VERSION,
        input_schema=INPUT_SCHEMA,
        output_schema={"type": "object"},
        example_request=_features(random.Random(0)),  # noqa: S311 - made-up data
        example_response={"label": "stay", "probabilities": {"churn": 0.2, "stay": 0.8}},
    )
    key, secret = create_key(
        actor=user,
        team=team,
        name="bench service",
        scopes=[Scope.PREDICTIONS, Scope.FEEDBACK],
    )
    ids = {"model": model.pk, "version": version.pk, "key": key.pk}
    return ids, secret


# gunicorn -------------------------------------------------------------------------------------


@contextmanager
def _gunicorn(url: str, var_dir: str, workers: int, threads: int) -> Iterator[tuple[int, int]]:
    port = free_port()
    env = portal_environment(
        url,
        var_dir,
        REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
        HANDOFF_API_KEY_RATE=KEY_RATE,
    )
    kind = f"gthread x {threads}" if threads > 1 else "sync"
    say(f"gunicorn: {workers} {kind} workers on 127.0.0.1:{port}, DEBUG off, Redis db {REDIS_DB}")
    with portal_gunicorn(port, workers, threads, env, var_dir, sync_if_one=True) as pid:
        yield port, pid


# The records ------------------------------------------------------------------------------------


def _features(rng: random.Random) -> dict[str, Any]:
    return {
        "age": rng.randint(18, 80),
        "tenure_months": rng.randint(0, 120),
        "monthly_spend": round(rng.uniform(5, 250), 2),
        "plan": rng.choice(PLANS),
        "country": rng.choice(COUNTRIES),
        "support_tickets": rng.randint(0, 12),
        "last_login_days": rng.randint(0, 90),
        "discount": round(rng.uniform(0, 0.3), 2),
    }


def _records(prefix: str, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` predictions as a service logs them, over the last hour."""
    now = datetime.now(UTC)
    records = []
    for number in range(count):
        churn = round(rng.random(), 4)
        records.append(
            {
                "prediction_id": f"{prefix}-{number:07d}",
                "model": MODEL,
                "version": VERSION,
                "timestamp": (now - timedelta(seconds=rng.uniform(0, 3600))).isoformat(),
                "features": _features(rng),
                "output": {
                    "label": "churn" if churn >= 0.5 else "stay",
                    "probabilities": {"churn": churn, "stay": round(1 - churn, 4)},
                },
                "latency_ms": round(rng.lognormvariate(2.0, 0.4), 2),
                "end_user": f"u-{rng.randint(1, 200_000)}",
            }
        )
    return records


def _copy_row(record: dict[str, Any], ids: dict[str, int], received: datetime) -> tuple:
    """The row the API would store for ``record``, ready for COPY (JSON as text)."""
    return (
        ids["model"],
        ids["version"],
        record["prediction_id"],
        datetime.fromisoformat(record["timestamp"]),
        received,
        json.dumps(record["features"]),
        json.dumps(record["output"]),
        record["output"]["label"],
        None,
        record["latency_ms"],
        record["end_user"],
        "{}",
        False,
        "[]",
        ids["key"],
    )


# Measuring --------------------------------------------------------------------------------------


Snapshot = tuple[dict[int, float], dict[int, float]]  # CPU seconds by pid: (Python, database)


class CpuMeter:
    """CPU seconds used by the server side (gunicorn's workers and the database's backends),
    read from /proc: what a request costs whatever else the host is busy with. A process
    that ends between two readings is left out rather than counted negative."""

    def __init__(self, master: int, database: str) -> None:
        import psycopg

        self.master, self.database = master, database
        url = url_with_database(os.environ["DATABASE_URL"], database)
        self.connection = psycopg.connect(url, autocommit=True)  # its own backend is left out

    def server(self) -> Snapshot:
        return _cpu_by_pid(self._workers()), self.database_only()

    def database_only(self) -> dict[int, float]:
        rows = self.connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [self.database],
        ).fetchall()
        return _cpu_by_pid([pid for (pid,) in rows])

    def close(self) -> None:
        self.connection.close()

    def _workers(self) -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.master:
                    found.append(int(entry.name))
        return found


def _add(total: list[float], before: Snapshot, after: Snapshot) -> None:
    for index in range(2):
        was = before[index]
        total[index] += sum(now - was.get(pid, 0.0) for pid, now in after[index].items())


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


class Bench:
    def __init__(
        self, url: str, port: int, secret: str, ids: dict[str, int], cpu: CpuMeter
    ) -> None:
        self.url, self.port, self.ids, self.cpu = url, port, ids, cpu
        self.headers = {"Authorization": f"ApiKey {secret}", "Content-Type": "application/json"}
        self.rng = random.Random(7)  # noqa: S311 - made-up data, not secrets
        self.logged: list[str] = []

    def post(self, connection: http.client.HTTPConnection, path: str, body: bytes) -> Any:
        try:
            connection.request("POST", path, body, self.headers)
            response = connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closed an idle keep-alive connection: open a new one, as clients do.
            connection.close()
            connection.request("POST", path, body, self.headers)
            response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise SystemExit(f"POST {path} answered {response.status}: {payload[:300]!r}")
        return json.loads(payload)

    # (a) batches next to COPY ------------------------------------------------------------------

    def ingest(self) -> dict[str, Any]:
        import psycopg

        say(
            f"(a) {ROUNDS} rounds of {ROWS_PER_ROUND:,} rows each way: POST /api/v1/predictions "
            "in batches of 1,000 and of 10,000 (one connection, one request at a time), and "
            "COPY into feedback_predictionlog in 10,000-row transactions"
        )
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        seconds = {"1000": 0.0, "10000": 0.0, "copy": 0.0}
        # CPU seconds: (the web workers or the COPY client, the database)
        cpu = {name: [0.0, 0.0] for name in seconds}
        sizes: list[int] = []
        with psycopg.connect(self.url) as database:
            for round_number in range(ROUNDS):
                for size in (1_000, 10_000):
                    bodies = self._bodies(f"b{size}-r{round_number}", size)
                    sizes.append(len(bodies[0]))
                    before = self.cpu.server()
                    seconds[str(size)] += self._post_all(connection, bodies, size)
                    _add(cpu[str(size)], before, self.cpu.server())
                took, before, after = self._copy(database, f"copy-r{round_number}")
                seconds["copy"] += took
                _add(cpu["copy"], before, after)
                say(f"    round {round_number + 1} of {ROUNDS} done, load {load_average()}")
        rows = ROUNDS * ROWS_PER_ROUND
        rates = {name: round(rows / took) for name, took in seconds.items()}
        better = max(rates["1000"], rates["10000"])
        ratio = round(better / rates["copy"], 3)
        say(f"    body of a 10,000-record batch: {max(sizes):,} bytes")
        labels = {"1000": "batches of 1,000", "10000": "batches of 10,000", "copy": "COPY"}
        for name, label in labels.items():
            python, database = (used / rows * 1_000_000 for used in cpu[name])
            say(
                f"    {label:<20} {rates[name]:>8,} rows/s   CPU per 1,000 rows: "
                f"{python:4.0f} ms Python + {database:4.0f} ms PostgreSQL"
            )
        say(
            f"    the better batch size reaches {ratio:.0%} of COPY (Python: the gunicorn "
            "workers for the API, this client for COPY)"
        )
        return {
            "batch_rows_per_s_1000": rates["1000"],
            "batch_rows_per_s_10000": rates["10000"],
            "copy_rows_per_s": rates["copy"],
            "batch_vs_copy_ratio": ratio,
        }

    def warm(self) -> None:
        """Every worker has loaded the code and the key; a few predictions to give feedback on."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        for number in range(16):
            records = _records(f"warm-{number}", 200, self.rng)
            self.post(connection, "/api/v1/predictions", json.dumps(records).encode())
            self.logged += [r["prediction_id"] for r in records]

    def _bodies(self, prefix: str, size: int) -> list[bytes]:
        records = _records(prefix, ROWS_PER_ROUND, self.rng)
        self.logged += [r["prediction_id"] for r in records[:: max(1, size // 100)]]
        return [json.dumps(records[i : i + size]).encode() for i in range(0, ROWS_PER_ROUND, size)]

    def _post_all(
        self, connection: http.client.HTTPConnection, bodies: list[bytes], size: int
    ) -> float:
        started = time.perf_counter()
        for body in bodies:
            answer = self.post(connection, "/api/v1/predictions", body)
            if answer["accepted"] != size:
                raise SystemExit(f"a batch of {size:,} stored {answer['accepted']:,}: {answer}")
        return time.perf_counter() - started

    def _copy(self, database: Any, prefix: str) -> tuple[float, Snapshot, Snapshot]:
        """Seconds to COPY the rows; CPU seconds of (this client, the database) before and
        after."""
        records = _records(prefix, ROWS_PER_ROUND, self.rng)
        received = datetime.now(UTC)
        rows = [_copy_row(record, self.ids, received) for record in records]
        before = ({0: time.process_time()}, self.cpu.database_only())
        started = time.perf_counter()
        for start in range(0, len(rows), 10_000):
            with database.cursor() as cursor:
                statement = f"COPY feedback_predictionlog ({COPY_COLUMNS}) FROM STDIN"
                with cursor.copy(statement) as copy:
                    for row in rows[start : start + 10_000]:
                        copy.write_row(row)
            database.commit()
        took = time.perf_counter() - started
        return took, before, ({0: time.process_time()}, self.cpu.database_only())

    # (b) single feedback -----------------------------------------------------------------------

    def feedback(self, total: int, clients: int) -> dict[str, Any]:
        say(
            f"(b) {total:,} single pieces of feedback POSTed to /api/v1/feedback by {clients} "
            "clients at once, each on its own keep-alive connection"
        )
        per_client = [total // clients + (n < total % clients) for n in range(clients)]
        timings: list[list[float]] = [[] for _ in range(clients)]
        errors: list[BaseException] = []
        ready = threading.Barrier(clients + 1)
        threads = [
            threading.Thread(
                target=self._client, args=(n, count, timings[n], ready, errors), daemon=True
            )
            for n, count in enumerate(per_client)
        ]
        for thread in threads:
            thread.start()
        ready.wait()  # every client has warmed up
        before, client = self.cpu.server(), time.process_time()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        took = time.perf_counter() - started
        client = time.process_time() - client
        used = [0.0, 0.0]
        _add(used, before, self.cpu.server())
        if errors:
            raise SystemExit(f"a feedback client failed: {errors[0]}")
        latencies = sorted(ms for client in timings for ms in client)
        figures = {
            "feedback_rps": round(len(latencies) / took),
            "feedback_p50_ms": round(statistics.median(latencies), 1),
            "feedback_p99_ms": round(_percentile(latencies, 0.99), 1),
        }
        say(
            f"    {len(latencies):,} requests in {took:.1f} s: {figures['feedback_rps']} req/s, "
            f"p50 {figures['feedback_p50_ms']} ms, p99 {figures['feedback_p99_ms']} ms; "
            f"CPU a request: {used[0] / len(latencies) * 1000:.1f} ms Python + "
            f"{used[1] / len(latencies) * 1000:.1f} ms PostgreSQL, and "
            f"{client / len(latencies) * 1000:.1f} ms in the clients; load {load_average()}"
        )
        return figures

    def _client(
        self,
        number: int,
        count: int,
        timings: list[float],
        ready: threading.Barrier,
        errors: list[BaseException],
    ) -> None:
        rng = random.Random(number)  # noqa: S311 - made-up data
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        bodies = [self._feedback_body(rng, number, n) for n in range(count + 5)]
        try:
            for body in bodies[:5]:
                self.post(connection, "/api/v1/feedback", body)
        except BaseException as exc:  # SystemExit too: the main thread reports it
            errors.append(exc)
        ready.wait()
        if errors:
            return
        try:
            for body in bodies[5:]:
                started = time.perf_counter()
                answer = self.post(connection, "/api/v1/feedback", body)
                timings.append((time.perf_counter() - started) * 1000)
                if answer["accepted"] != 1:
                    raise RuntimeError(f"feedback not stored: {answer}")
        except BaseException as exc:  # SystemExit too: the main thread reports it
            errors.append(exc)

    def _feedback_body(self, rng: random.Random, client: int, number: int) -> bytes:
        kind, value = rng.choice(
            [("thumbs", "up"), ("thumbs", "down"), ("rating", rng.randint(1, 5))]
        )
        return json.dumps(
            {
                "model": MODEL,
                "prediction_id": rng.choice(self.logged),
                "kind": kind,
                "value": value,
                "end_user": f"u-{rng.randint(1, 200_000)}",
                "idempotency_key": f"fb-{client}-{number}",
            }
        ).encode()


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


if __name__ == "__main__":
    main()
