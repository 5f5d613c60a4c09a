"""Experiments at scale on PostgreSQL: batch ingest, the compare page, and run search.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/compare.py

Creates its own database on the server of DATABASE_URL (handoff_bench_compare_<pid>),
migrates it, then measures, in-process with the test clients and DEBUG off:

(a) ingest: RUNS runs x METRICS metrics x STEPS steps (1M points) and PARAMS params per run,
    POSTed to /api/v1/runs/{id}/log-batch/ in batches of BATCH points with a personal token;
(b) the compare page of all those runs: median and p95 of --requests requests, its query
    count and response size;
(c) the naive baseline: every point of every run and metric as one JSON document;
(d) run search over SEARCH_RUNS more runs (a few metrics and params each): the run list API
    filtered by a metric's last value and a param and ordered by a metric.

Where the endpoint or page a step needs does not exist yet, the step falls back (to the
service, the compare API or ``compare_data``) and prints which it measured. The database
is dropped at the end, whether or not the run succeeded. Last line: ``BENCH {...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from databases import configure_django, own_database, url_with_database
from measure import say

RUNS, METRICS, STEPS, PARAMS = 50, 10, 2_000, 30
BATCH = 10_000  # points per log-batch request: the API's limit
SEARCH_RUNS = 10_000
SEARCH_FILTER = "metrics.accuracy > 0.9 and params.optimizer = 'adam'"
SEARCH_ORDER = "metrics.loss ASC"
CHUNK = 5_000  # rows per bulk_create


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="timed requests per read path")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL=postgres://… (the bench creates its own database there).")
    server = os.environ["DATABASE_URL"]
    name = f"handoff_bench_compare_{os.getpid()}"
    with own_database(server, name), tempfile.TemporaryDirectory() as var_dir:
        configure_django(url_with_database(server, name), var_dir)
        from django.core.management import call_command
        from django.db import connections

        try:
            call_command("migrate", verbosity=0)
            figures = Bench().run(args.requests)
        finally:
            connections.close_all()
    print("BENCH " + json.dumps(figures))


def _timed(action: Callable[[], Any], times: int) -> list[float]:
    action()  # warm: templates, content types, the planner
    timings = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _resolves(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(path)
    except Resolver404:
        return False
    return True


class Bench:
    def __init__(self) -> None:
        from django.test import Client
        from rest_framework.test import APIClient

        from portal.roles import Role
        from portal.services.accounts import create_team, create_user
        from portal.services.tokens import create_token
        from registry.experiments.services.experiments import create_experiment

        self.user = create_user(username="alice", password=None, roles=[Role.DATA_SCIENTIST])
        self.team = create_team(name="Bench", members=[self.user])
        _, key = create_token(user=self.user, name="bench", scope="write")
        self.api = APIClient()
        self.api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        self.page = Client()
        self.page.force_login(self.user)
        self.experiment = create_experiment(
            actor=self.user,
            team=self.team,
            name="bench-sweep",
            metric_directions={f"loss_{m}": "min" for m in range(METRICS // 2)},
        )

    def run(self, requests: int) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        figures["ingest_points_per_s"] = self.ingest()
        _analyze()
        figures.update(self.compare(requests))
        figures["naive_response_bytes"] = self.naive()
        figures["search_10k_runs_ms"] = self.search(requests)
        return figures

    # (a) ingest -------------------------------------------------------------------------

    def ingest(self) -> int:
        from registry.experiments.services.runs import create_run, log_batch

        self.runs = [
            create_run(actor=self.user, experiment=self.experiment, name=f"run-{n:02d}")
            for n in range(RUNS)
        ]
        path = f"/api/v1/runs/{self.runs[0].pk}/log-batch/"
        through_api = _resolves(path)
        say(
            f"(a) ingest {RUNS * METRICS * STEPS:,} points, {PARAMS} params a run, "
            f"{BATCH:,} points a batch, "
            + (
                "through POST /api/v1/runs/{id}/log-batch/"
                if through_api
                else "through services.runs.log_batch (the log-batch endpoint does not exist)"
            )
        )
        batches = [(run, *batch) for run in self.runs for batch in _batches(run.pk)]
        started = time.perf_counter()
        for run, points, params in batches:
            body = {"metrics": points, "params": params}
            if through_api:
                response = self.api.post(f"/api/v1/runs/{run.pk}/log-batch/", body, format="json")
                if response.status_code != 200:
                    raise SystemExit(f"log-batch answered {response.status_code}: {response.data}")
            else:
                log_batch(actor=self.user, run=run, metrics=points, params=params)
        took = time.perf_counter() - started
        rate = round(RUNS * METRICS * STEPS / took)
        say(f"    {took:.1f} s: {rate:,} points/s")
        return rate

    # (b) compare ------------------------------------------------------------------------

    def compare(self, requests: int) -> dict[str, Any]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        ids = ",".join(str(run.pk) for run in self.runs)
        label, fetch = self._compare_path(ids)
        say(f"(b) compare {RUNS} runs: {label}")
        body = fetch()
        with CaptureQueriesContext(connection) as queries:
            fetch()
        count = len(queries)
        timings = _timed(fetch, requests)
        result = {
            "compare_median_ms": round(statistics.median(timings), 1),
            "compare_p95_ms": round(_p95(timings), 1),
            "compare_queries": count,
            "compare_response_bytes": len(body),
        }
        say(
            f"    median {result['compare_median_ms']} ms, p95 {result['compare_p95_ms']} ms, "
            f"{count} queries, {len(body):,} bytes"
        )
        return result

    def _compare_path(self, ids: str) -> tuple[str, Callable[[], bytes]]:
        page = f"/experiments/{self.experiment.pk}/compare/?runs={ids}"
        api = f"/api/v1/experiments/{self.experiment.pk}/compare/?runs={ids}"
        if _resolves(page.split("?")[0]):
            return f"the page GET {page.split('?')[0]}?runs=…", lambda: _get(self.page, page)
        if _resolves(api.split("?")[0]):
            label = f"the API GET {api.split('?')[0]}?runs=… (the compare page does not exist)"
            return label, lambda: _get(self.api, api)
        return "compare_data() as JSON (neither the page nor the API exists)", self._compare_data

    def _compare_data(self) -> bytes:
        from registry.experiments.queries import compare_data

        data = compare_data(self.experiment, [run.pk for run in self.runs], [], 500)
        return json.dumps(data.params, default=str).encode()

    # (c) naive --------------------------------------------------------------------------

    def naive(self) -> int:
        from registry.experiments import series

        found: dict[int, dict[str, list[list[float]]]] = {}
        keys = [f"loss_{m}" if m < METRICS // 2 else f"accuracy_{m}" for m in range(METRICS)]
        for (run_id, key), arrays in series.iterate([run.pk for run in self.runs], keys):
            points = zip(arrays.steps.tolist(), arrays.values.tolist(), strict=True)
            found.setdefault(run_id, {})[key] = [[step, value] for step, value in points]
        size = len(json.dumps(found, separators=(",", ":")).encode())
        say(f"(c) naive: every point of every run and metric as JSON, {size:,} bytes")
        return size

    # (d) search -------------------------------------------------------------------------

    def search(self, requests: int) -> float:
        from urllib.parse import urlencode

        started = time.perf_counter()
        experiment = _seed_search_runs(self.user, self.team)
        _analyze()
        say(f"(d) search: seeded {SEARCH_RUNS:,} runs in {time.perf_counter() - started:.0f} s")
        query = urlencode({"filter": SEARCH_FILTER, "order_by": SEARCH_ORDER})
        url = f"/api/v1/runs/?{query}"
        if not _resolves("/api/v1/runs/"):
            raise SystemExit("The run list API /api/v1/runs/ does not exist.")
        body = json.loads(_get(self.api, url))
        found = body.get("count", len(body.get("results", body)))
        timings = _timed(lambda: _get(self.api, url), requests)
        median = round(statistics.median(timings), 1)
        say(
            f"    GET /api/v1/runs/?filter={SEARCH_FILTER}&order_by={SEARCH_ORDER}: "
            f"{found} matches of {SEARCH_RUNS + RUNS:,} runs (experiment {experiment.pk} "
            f"holds the 10k), median {median} ms, p95 {_p95(timings):.1f} ms"
        )
        return median


def _batches(run_id: int) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """The run's points in batches of BATCH; its params go with the first batch."""
    rng = random.Random(run_id)  # noqa: S311 - made-up curves, not secrets
    decay = rng.uniform(200, 800)
    points = []
    for m in range(METRICS):
        key = f"loss_{m}" if m < METRICS // 2 else f"accuracy_{m}"
        for step in range(STEPS):
            fraction = 1 - 2.718 ** (-step / decay)
            base = 1 - 0.9 * fraction if key.startswith("loss") else 0.5 + 0.45 * fraction
            points.append({"key": key, "value": base + rng.gauss(0, 0.01), "step": step})
    params = [
        {"key": f"param_{p}", "value": str(rng.choice([1, 2, 4, 8]) * p)} for p in range(PARAMS)
    ]
    chunks = [points[i : i + BATCH] for i in range(0, len(points), BATCH)]
    return [(chunk, params if n == 0 else []) for n, chunk in enumerate(chunks)]


def _get(client: Any, url: str) -> bytes:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url[:120]} answered {response.status_code}")
    return bytes(response.content)


def _seed_search_runs(user: Any, team: Any) -> Any:
    """SEARCH_RUNS finished runs with three metrics and three params each, by bulk_create."""
    from django.utils import timezone

    from registry.experiments.models import Experiment, MetricSummary, Param, Run

    experiment = Experiment.objects.create(name="bench-search", team=team, created_by=user)
    now = timezone.now()
    rng = random.Random(7)  # noqa: S311 - made-up values, not secrets
    runs = Run.objects.bulk_create(
        [
            Run(
                experiment=experiment,
                name=f"search-{n:05d}",
                status="finished",
                user=user,
                started_at=now - timedelta(minutes=n),
                ended_at=now - timedelta(minutes=n - 1),
            )
            for n in range(SEARCH_RUNS)
        ],
        batch_size=CHUNK,
    )
    params, summaries = [], []
    for run in runs:
        for key, value in (
            ("optimizer", rng.choice(["adam", "sgd", "adamw", "rmsprop"])),
            ("learning_rate", str(rng.choice([0.001, 0.003, 0.01, 0.03]))),
            ("max_depth", str(rng.randint(2, 8))),
        ):
            params.append(Param(run=run, key=key, value=value))
        for key, value in (
            ("accuracy", rng.uniform(0.6, 0.99)),
            ("loss", rng.uniform(0.05, 1.0)),
            ("f1", rng.uniform(0.5, 0.95)),
        ):
            summaries.append(
                MetricSummary(
                    run=run,
                    key=key,
                    last=value,
                    last_step=99,
                    last_timestamp=now,
                    min=value,
                    max=value,
                    count=100,
                )
            )
    Param.objects.bulk_create(params, batch_size=CHUNK)
    MetricSummary.objects.bulk_create(summaries, batch_size=CHUNK)
    return experiment


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


if __name__ == "__main__":
    main()
