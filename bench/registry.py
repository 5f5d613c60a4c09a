"""Registry read paths at two sizes: query count and in-process latency on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/registry.py

Each size runs in a child process that creates its own database on the server of
DATABASE_URL (handoff_bench_<pid>), migrates it, seeds N models x V versions with cards,
artifacts and a year of audit events through bulk_create, measures every path with the test
clients and drops the database again. The parent prints one table and, last, a line
``BENCH {...}`` (see bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from databases import configure_django, own_database, url_with_database

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = "10x1,1000x50"
WORDS = ["churn", "fraud", "ranker", "credit", "demand", "sentiment", "vision", "speech"]
SECTIONS_FILLED = [
    "model_details",
    "intended_use",
    "out_of_scope_use",
    "metrics",
    "evaluation_data",
    "training_data",
    "ethical_considerations",
]
ACTIVE_DAYS = 30  # each model's events fall in the month after it was registered
BATCH = 5000


# The parent: one child process per size, measured in turns. ------------------------------

ROUNDS = 5  # each path is timed in turns, small then large, so load on the host hits both


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="two NxV sizes, small first")
    parser.add_argument("--runs", type=int, default=15, help="timed requests per path and size")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL=postgres://… (the bench creates its own database there).")
    if args.child:
        serve(args.child)
        return
    sizes = args.sizes.split(",")
    children = [Child(size) for size in sizes]  # they seed in parallel
    try:
        labels, *_ = [child.ready() for child in children]
        rows = [_measure_path(children, index, args.runs) for index in range(len(labels))]
    finally:
        for child in children:
            child.close()
    _report(sizes, labels, rows)


class Child:
    """A child process holding one seeded database; it answers one command a line."""

    def __init__(self, size: str) -> None:
        print(f"== {size}: seeding", file=sys.stderr, flush=True)
        command = [sys.executable, __file__, "--child", size]
        self.size = size
        self.process = subprocess.Popen(  # noqa: S603
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ready(self) -> list[str]:
        return json.loads(self._reply())

    def ask(self, command: str) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return json.loads(self._reply())

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()  # end of input: the child drops its database
        self.process.wait(timeout=120)

    def _reply(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("OK "):
            raise SystemExit(f"The {self.size} child stopped: {line or 'no answer'}")
        return line.removeprefix("OK ")


def _measure_path(children: list[Child], index: int, runs: int) -> list[tuple[int, float]]:
    """(query count, median ms) of path ``index`` for each child."""
    counts = [child.ask(f"count {index}") for child in children]
    timings: list[list[float]] = [[] for _ in children]
    per_round = -(-runs // ROUNDS)
    for round_number in range(ROUNDS):
        # Alternate who goes first, so neither size always follows the other.
        order = list(enumerate(children))[:: 1 if round_number % 2 == 0 else -1]
        for position, child in order:
            timings[position] += child.ask(f"time {index} {per_round}")
    return [(count, statistics.median(times)) for count, times in zip(counts, timings, strict=True)]


def _report(sizes: list[str], labels: list[str], rows: list[list[tuple[int, float]]]) -> None:
    head = f"{'path':<34}{'queries':>12}{'ms ' + sizes[0]:>14}{'ms ' + sizes[1]:>14}{'ratio':>8}"
    print(head)
    print("-" * len(head))
    worst = ("", 0.0)
    for label, ((count_small, ms_small), (count_large, ms_large)) in zip(labels, rows, strict=True):
        ratio = ms_large / ms_small
        worst = max(worst, (label, ratio), key=lambda item: item[1])
        counts = f"{count_small} / {count_large}"
        print(f"{label:<34}{counts:>12}{ms_small:>14.1f}{ms_large:>14.1f}{ratio:>8.2f}")
    summary = {
        "worst_ratio": round(worst[1], 2),
        "worst_path": worst[0],
        f"worst_ms_{sizes[1]}": round(max(large for (_, (_, large)) in rows), 1),
        "queries_constant": all(small[0] == large[0] for small, large in rows),
    }
    print("BENCH " + json.dumps(summary))


# The child: one database, one size. -------------------------------------------------------


def serve(size: str) -> None:
    """Seed a database of ``size``, then answer the parent's commands until its input ends."""
    models, versions = (int(part) for part in size.lower().split("x"))
    server = os.environ["DATABASE_URL"]
    name = f"handoff_bench_{os.getpid()}"
    with own_database(server, name), tempfile.TemporaryDirectory() as var_dir:
        configure_django(url_with_database(server, name), var_dir)
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seeded = seed(models, versions)
        took = time.perf_counter() - started
        print(f"   seeded {size} in {took:.0f} s", file=sys.stderr, flush=True)
        try:
            _answer(Bench(seeded))
        finally:
            connections.close_all()


def _answer(bench: Bench) -> None:
    _send([label for label, _, _ in bench.paths])
    for line in sys.stdin:
        command, index, *rest = line.split()
        if command == "count":
            _send(bench.count(int(index)))
        elif command == "time":
            _send(bench.time(int(index), int(rest[0])))


def _send(value: Any) -> None:
    sys.stdout.write("OK " + json.dumps(value) + "\n")
    sys.stdout.flush()


# Seeding ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _own_timestamps(*models: Any) -> Iterator[None]:
    """Let bulk_create keep the created_at/updated_at we give instead of now()."""
    fields = [
        field
        for model in models
        for field in model._meta.concrete_fields
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    ]
    saved = [(field, field.auto_now, field.auto_now_add) for field in fields]
    for field in fields:
        field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in saved:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def _known(model: Any, **values: Any) -> Any:
    """An instance with only the fields ``model`` has (the artifact model is changing)."""
    names = {field.name for field in model._meta.concrete_fields}
    return model(**{key: value for key, value in values.items() if key in names})


def seed(count: int, per_model: int) -> dict[str, Any]:
    from django.utils import timezone

    from registry.models import Artifact, ModelCard, ModelVersion, RegisteredModel

    now = timezone.now()
    people = _people(count)
    with _own_timestamps(RegisteredModel, ModelVersion, ModelCard, Artifact):
        models = _models(count, people, now)
        for start in range(0, len(models), max(1, BATCH // max(per_model, 1))):
            chunk = models[start : start + max(1, BATCH // max(per_model, 1))]
            _versions_cards_artifacts_events(chunk, per_model, people, now)
    _analyze()
    oldest = models[0]
    return {"oldest": oldest.name, "user": people["alice"], "key": people["key"]}


def _people(count: int) -> dict[str, Any]:
    from portal.roles import Role
    from portal.services.accounts import create_team, create_user
    from portal.services.tokens import create_token

    alice = create_user(username="alice", password=None, roles=[Role.DATA_SCIENTIST])
    founders = create_team(name="Founders", members=[alice])
    teams = []
    for number in range(5):
        member = create_user(username=f"ds{number}", password=None, roles=[Role.DATA_SCIENTIST])
        teams.append((create_team(name=f"Team {number}", members=[member]), member))
    _, key = create_token(user=alice, name="bench", scope="read")
    # Alice's team registered the oldest 1 % of the models and has been quiet since.
    founding = max(1, count // 100)
    owners = [(founders, alice) if i < founding else teams[i % len(teams)] for i in range(count)]
    return {"alice": alice, "key": key, "owners": owners}


def _models(count: int, people: dict[str, Any], now: datetime) -> list[Any]:
    from registry.choices import TaskType
    from registry.models import RegisteredModel, Tag

    tags = Tag.objects.bulk_create([Tag(name=f"tag-{n}") for n in range(30)])
    year_ago = now - timedelta(days=365)
    models = []
    for i in range(count):
        team, owner = people["owners"][i]
        created = year_ago + timedelta(days=365 * i / count)
        word = WORDS[i % len(WORDS)]
        models.append(
            RegisteredModel(
                name=f"{word}-{i:05d}",
                title=f"{word.title()} model {i}",
                summary=f"Predicts {word} outcomes for segment {i % 17}.",
                team=team,
                task_type=TaskType.values[i % len(TaskType.values)],
                created_by=owner,
                updated_by=owner,
                created_at=created,
                updated_at=min(now, created + timedelta(days=ACTIVE_DAYS)),
            )
        )
    RegisteredModel.objects.bulk_create(models, batch_size=BATCH)
    through = RegisteredModel.tags.through
    links = [
        through(registeredmodel_id=model.pk, tag_id=tags[(i + k) % len(tags)].pk)
        for i, model in enumerate(models)
        for k in (0, 7)
    ]
    through.objects.bulk_create(links, batch_size=BATCH)
    return models


def _schema(j: int) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "amount": {"type": "number", "minimum": 0, "description": "Amount in EUR"},
        "country": {"type": "string", "enum": ["DE", "FR", "NL"]},
        "channel": {"type": "string"},
    }
    for extra in range(j % 4):
        properties[f"feature_{extra}"] = {"type": "number"}
    return {"type": "object", "properties": properties, "required": ["amount"]}


OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {"score": {"type": "number"}, "decision": {"type": "string"}},
    "required": ["score"],
}


def _status(i: int, j: int, per_model: int) -> str:
    if j == per_model - 1:
        return ("draft", "candidate")[i % 2]
    if j == per_model - 2:
        return "production"
    return "archived"


def _versions_cards_artifacts_events(
    models: list[Any], per_model: int, people: dict[str, Any], now: datetime
) -> None:
    from registry.models import ModelVersion
    from registry.services.versions import parse_semver, semver_sort_key

    versions = []
    for model in models:
        i = _index(model.name)
        owner = model.created_by
        for j in range(per_model):
            text = f"1.{j}.0"
            created = _version_time(model.created_at, j, per_model, now)
            status = _status(i, j, per_model)
            versions.append(
                ModelVersion(
                    model=model,
                    version=text,
                    number=j + 1,
                    sort_key=semver_sort_key(parse_semver(text)),
                    status=status,
                    released_at=created + timedelta(days=1) if status != "draft" else None,
                    notes=f"Retrained {text} on fresh data.",
                    notes_html=f"<p>Retrained {text} on fresh data.</p>",
                    input_schema=_schema(j),
                    output_schema=OUTPUT_SCHEMA,
                    example_request={"amount": 12.5, "country": "DE"},
                    example_response={"score": 0.12},
                    created_by=owner,
                    created_at=created,
                    updated_at=created,
                )
            )
    ModelVersion.objects.bulk_create(versions, batch_size=BATCH)
    cards = _cards(versions)
    artifacts = _artifacts(versions)
    _events(models, versions, cards, artifacts)


def _index(name: str) -> int:
    return int(name.rsplit("-", 1)[1])


def _version_time(start: datetime, j: int, per_model: int, now: datetime) -> datetime:
    return min(now, start + timedelta(days=ACTIVE_DAYS * (j + 1) / (per_model + 1)))


def _cards(versions: list[Any]) -> list[Any]:
    from registry.models import ModelCard

    cards = []
    for version in versions:
        text = {
            field: f"{field.replace('_', ' ').capitalize()} of {version.model.name} "
            f"{version.version}. " + "It is described in a few sentences. " * 6
            for field in SECTIONS_FILLED
        }
        cards.append(
            ModelCard(
                version=version,
                **text,
                html={field: f"<p>{value}</p>" for field, value in text.items()},
                license="Apache-2.0",
                languages=["en", "de"],
                datasets=["transactions-2025"],
                contacts=["ml@example.com"],
                links=["https://example.com/model"],
                updated_by=version.created_by,
                updated_at=version.created_at + timedelta(hours=1),
            )
        )
    return ModelCard.objects.bulk_create(cards, batch_size=BATCH)


def _artifacts(versions: list[Any]) -> list[Any]:
    from registry.choices import ArtifactStatus
    from registry.models import Artifact

    artifacts = []
    for version in versions:
        digest = hashlib.sha256(f"{version.model.name}-{version.version}".encode()).hexdigest()
        artifacts.append(
            _known(
                Artifact,
                version=version,
                file=f"artifacts/{version.model_id}/{digest}.onnx",
                original_name="model.onnx",
                size=48_213,
                sha256=digest,
                status=ArtifactStatus.VALID,
                progress=100,
                opset=17,
                ir_version=9,
                producer="skl2onnx",
                inputs=[{"name": "input", "type": "float", "shape": [None, 3]}],
                outputs=[{"name": "score", "type": "float", "shape": [None, 1]}],
                uploaded_by=version.created_by,
                created_at=version.created_at + timedelta(hours=2),
                validated_at=version.created_at + timedelta(hours=2, minutes=1),
            )
        )
    return Artifact.objects.bulk_create(artifacts, batch_size=BATCH)


def _events(models: list[Any], versions: list[Any], cards: list[Any], artifacts: list[Any]) -> None:
    from django.contrib.contenttypes.models import ContentType

    from portal.models import AuditEvent
    from registry.models import Artifact, ModelCard, ModelVersion, RegisteredModel

    types = ContentType.objects.get_for_models(RegisteredModel, ModelVersion, ModelCard, Artifact)

    def event(verb: str, target: Any, actor: Any, at: datetime, repr_: str) -> Any:
        request_id = hashlib.md5(f"{verb}{target.pk}{at}".encode()).hexdigest()  # noqa: S324
        return AuditEvent(
            actor=actor,
            verb=verb,
            target_type=types[type(target)],
            target_id=str(target.pk),
            target_repr=repr_[:200],
            after={"by": "bench"},
            request_id=request_id,
            created_at=at,
        )

    events = [event("model.created", m, m.created_by, m.created_at, m.name) for m in models]
    for version, card, artifact in zip(versions, cards, artifacts, strict=True):
        name = f"{version.model.name} {version.version}"
        at, actor = version.created_at, version.created_by
        events += [
            event("version.created", version, actor, at, name),
            event("card.updated", card, actor, at + timedelta(hours=1), f"card of {name}"),
            event("artifact.uploaded", artifact, actor, at + timedelta(hours=2), name),
            event("artifact.validated", artifact, None, at + timedelta(hours=2, minutes=1), name),
        ]
    AuditEvent.objects.bulk_create(events, batch_size=BATCH)


def _analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# Measuring --------------------------------------------------------------------------------


def _paths(seeded: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(label, client, url) for every page and endpoint measured."""
    from django.urls import reverse

    from registry.models import ModelVersion

    oldest = seeded["oldest"]
    numbers = ModelVersion.objects.filter(model__name=oldest).order_by("sort_key")
    first, last = numbers.first(), numbers.last()
    assert first is not None and last is not None
    api_models = reverse("registry-api:model-list")
    return [
        ("home", "page", "/"),
        # All teams: the whole registry, not only the signed-in person's teams (the default).
        ("model list", "page", reverse("registry:model-list") + "?team=*"),
        (
            "filtered list",
            "page",
            reverse("registry:model-list") + "?team=*&q=fraud&status=candidate&sort=-updated_at",
        ),
        ("model page (oldest model)", "page", reverse("registry:model-detail", args=[oldest])),
        (
            "compare (oldest model)",
            "page",
            reverse("registry:version-compare", args=[oldest])
            + f"?a={first.version}&b={last.version}",
        ),
        ("API model list", "api", api_models),
        ("API model list page_size=200", "api", api_models + "?page_size=200"),
        (
            "API version list (oldest model)",
            "api",
            reverse("registry-api:version-list", kwargs={"model_name": oldest}),
        ),
    ]


class Bench:
    """The paths of one seeded database and the clients that request them."""

    def __init__(self, seeded: dict[str, Any]) -> None:
        from django.test import Client
        from rest_framework.test import APIClient

        page = Client()
        page.force_login(seeded["user"])
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {seeded['key']}")
        clients = {"page": page, "api": api}
        self.paths = [(label, clients[kind], url) for label, kind, url in _paths(seeded)]
        for _, client, url in self.paths:
            for _ in range(3):  # warm caches: content types, templates, the planner
                _get(client, url)
        gc.collect()
        gc.freeze()  # the seeded objects stay: keep the collector off them

    def count(self, index: int) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        _, client, url = self.paths[index]
        # Steady state: a token's last_used_at, say, is written once a minute, not each time.
        _get(client, url)
        with CaptureQueriesContext(connection) as queries:
            _get(client, url)
        # Count now: captured_queries slices the connection's log, which the next request clears.
        return len(queries)

    def time(self, index: int, runs: int) -> list[float]:
        _, client, url = self.paths[index]
        _get(client, url)  # the other size ran last: warm this one up again
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            _get(client, url)
            timings.append((time.perf_counter() - started) * 1000)
        return timings


def _get(client: Any, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")


if __name__ == "__main__":
    main()
