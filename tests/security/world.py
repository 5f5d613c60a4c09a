"""The small world the authorisation matrix requests: one of each object, owned by alice's team.

Everything is made through the services, as in each app's tests/<app>/conftest.py, so the
objects obey the same rules as users' (the one exception is a failed webhook delivery, which
only a receiver's failure makes; tests/releases/test_webhooks_page.py makes it the same way).
Jobs whose result a page shows (artifact validation, dataset profiling, the evaluation, the
drift report) run to their end as a worker would run them.

Personas are those of tests/conftest.py, made again here because the world is built once per
module and those fixtures are per test: alice (Data scientist, Risk Modelling), bob (Engineer,
her teammate), charlie (Data scientist, Search Relevance), dana (Approver, no team), victor
(Viewer) and root (superuser).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.utils import timezone

from feedback.models import Feedback, Scope
from feedback.services.access import Caller
from feedback.services.feedback import give_feedback
from feedback.services.keys import create_key
from feedback.services.predictions import log_predictions
from portal.backlog.services.comments import add_comment
from portal.backlog.services.items import create_item
from portal.backlog.services.iterations import create_iteration
from portal.backlog.services.links import add_link
from portal.jobs import JobStatus
from portal.models import PersonalToken
from portal.notifications.services import notify
from portal.roles import Role
from portal.services.accounts import create_team, create_user
from portal.services.tokens import create_token, revoke_token
from portal.webhooks.models import WebhookDelivery
from registry.evaluation.services.datasets import create_dataset
from registry.evaluation.services.evaluations import start_evaluation
from registry.evaluation.services.gates import add_rule
from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.runs import create_run, end_run, log_batch
from registry.mlflow_api.services import artifacts as mlflow_artifacts
from registry.mlflow_api.services.logged_models import create_logged_model
from registry.mlflow_api.services.registry import SEMVER_TAG, create_model_version, resolve_source
from registry.monitoring.services.configs import save_config
from registry.monitoring.services.reports import run_report, start_report
from registry.releases.models import Environment
from registry.releases.services.environments import ensure_default_environments
from registry.releases.services.requests import request_release
from registry.releases.services.runbooks import save_runbook
from registry.releases.services.webhooks import add_webhook
from registry.services.aliases import set_alias
from registry.services.artifacts import store_artifact
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status
from tests.evaluation.data import INPUT_SCHEMA, classifier_onnx, table, write

NOW = datetime(2026, 11, 30, 10, 30, tzinfo=timezone.get_fixed_timezone(0))
PREDICTIONS = 300
# The path of a receiver's URL may hold its secret: only who configures a webhook sees it
# (the release webhook's and the drift alerts' of alice's team: its authors and a superuser).
HOOK_SECRET = "s3cret-token"
HOOK_URL = f"https://hooks.example.com/cd/{HOOK_SECRET}"
DRIFT_HOOK_SECRET = "dr1ft-secret"
DRIFT_HOOK_URL = f"https://hooks.example.com/drift/{DRIFT_HOOK_SECRET}"


@dataclass
class World:
    people: dict[str, Any]
    # Each persona's read-and-write token (read-only for victor, who holds only read roles).
    keys: dict[str, str]
    revoked_key: str
    objects: dict[str, Any] = field(default_factory=dict)

    def secrets(self) -> dict[str, str]:
        """Keys no response may show (each is shown once, when made): by whose they are."""
        shown = {f"{name}'s token": key for name, key in self.keys.items()}
        return {**shown, "the revoked token": self.revoked_key, "the API key": self.api_key_secret}

    def parquet_upload(self) -> SimpleUploadedFile:
        """A well-formed Parquet file to upload (the evaluation dataset's bytes)."""
        with self.dataset.file.open("rb") as handle:
            return SimpleUploadedFile("rows.parquet", handle.read())

    def __getattr__(self, name: str) -> Any:
        try:
            return self.objects[name]
        except KeyError:
            raise AttributeError(name) from None


def _people() -> tuple[dict[str, Any], Any, Any]:
    risk, search = create_team(name="Risk Modelling"), create_team(name="Search Relevance")
    people = {
        "alice": create_user(username="alice", password=None, roles=[Role.DATA_SCIENTIST]),
        "bob": create_user(username="bob", password=None, roles=[Role.ENGINEER]),
        "charlie": create_user(username="charlie", password=None, roles=[Role.DATA_SCIENTIST]),
        "dana": create_user(username="dana", password=None, roles=[Role.APPROVER]),
        "victor": create_user(username="victor", password=None, roles=[Role.VIEWER]),
        "root": create_user(username="root", password=None),
    }
    people["root"].is_superuser = people["root"].is_staff = True
    people["root"].save(update_fields=["is_superuser", "is_staff"])
    risk.members.add(people["alice"], people["bob"])
    search.members.add(people["charlie"])
    return people, risk, search


def _tokens(people: dict[str, Any]) -> tuple[dict[str, str], Any, str]:
    keys = {}
    for name, person in people.items():
        scope = PersonalToken.Scope.READ if name == "victor" else PersonalToken.Scope.WRITE
        keys[name] = create_token(user=person, name="matrix", scope=scope)[1]
    alice = people["alice"]
    revoked, revoked_key = create_token(user=alice, name="old", scope=PersonalToken.Scope.WRITE)
    revoke_token(token=revoked, actor=alice)
    spare = create_token(user=alice, name="spare")[0]  # for account/tokens/<pk>/revoke/
    return keys, spare, revoked_key


def _registry(alice: Any, risk: Any, run_jobs: Any) -> dict[str, Any]:
    model = create_model(
        actor=alice, name="churn", title="Churn", team=risk, task_type="binary_classification"
    )
    version = create_version(
        actor=alice,
        model=model,
        version="1.0.0",
        input_schema=INPUT_SCHEMA,
        output_schema={"type": "object"},
        example_request={"age": 40, "income": 3000, "tenure": 12, "tickets": 1},
        example_response={"label": 0, "probabilities": [0.8, 0.2]},
    )
    upload = SimpleUploadedFile("model.onnx", classifier_onnx())
    with run_jobs():
        store_artifact(actor=alice, version=version, upload=upload)
    version = set_version_status(actor=alice, version=version, status="candidate")
    set_alias(actor=alice, version=version, name="champion")
    save_runbook(actor=alice, model=model, body="Served by `churn-api`; roll back from Handoff.")
    return {"model": model, "version": version}


def _dataset(alice: Any, risk: Any, tmp: Any, run_jobs: Any, name: str, kind: str) -> Any:
    path = write(tmp / f"{name}.parquet", table(PREDICTIONS))
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    with run_jobs():
        dataset = create_dataset(
            actor=alice,
            team=risk,
            name=name,
            version="1",
            kind=kind,
            description="",
            upload=upload,
        )
    dataset.refresh_from_db()
    assert dataset.phase == JobStatus.SUCCEEDED, dataset.error
    return dataset


def _evaluation(alice: Any, risk: Any, version: Any, dataset: Any, run_jobs: Any) -> dict:
    with run_jobs():
        evaluation = start_evaluation(
            actor=alice, version=version, dataset=dataset, label_column="churned"
        )
    evaluation.refresh_from_db()
    assert evaluation.phase == JobStatus.SUCCEEDED, evaluation.error
    rule = {"kind": "metric", "metric": "accuracy", "threshold": 0.5}
    gate = add_rule(actor=alice, team=risk, model=version.model, **rule)
    team_gate = add_rule(actor=alice, team=risk, **rule)
    return {"evaluation": evaluation, "gate": gate, "team_gate": team_gate}


def _predictions(alice: Any, version: Any) -> Any:
    when = (NOW - timedelta(hours=1)).isoformat()
    records = [
        {
            "model": version.model.name,
            "version": version.version,
            "prediction_id": f"p-{i}",
            "timestamp": when,
            "features": {k: row[k] for k in ("age", "income", "tenure", "tickets", "region")},
            "output": {"label": str(row["stored_prediction"])},
            "end_user": "u-1",
        }
        for i, row in enumerate(table(PREDICTIONS, seed=1).to_pylist())
    ]
    result = log_predictions(caller=Caller(person=alice), records=records, now=NOW)
    assert result.accepted == PREDICTIONS, result
    feedback = {"model": version.model.name, "prediction_id": "p-0", "kind": "thumbs"}
    feedback["value"] = "down"
    done = give_feedback(caller=Caller(person=alice), records=[feedback], now=NOW)
    assert done.accepted == 1, done.as_json()
    return Feedback.objects.get()


def _monitoring(alice: Any, version: Any, reference: Any) -> dict[str, Any]:
    config = save_config(
        actor=alice,
        version=version,
        reference=reference,
        drift_share=0.4,
        webhook_url=DRIFT_HOOK_URL,
    )
    report, _ = start_report(actor=alice, config=config, trigger="manual", now=NOW)
    report = run_report(report_id=report.pk)
    assert report.phase == JobStatus.SUCCEEDED, report.error
    return {"config": config, "report": report}


def _experiments(alice: Any, risk: Any, model: Any) -> dict[str, Any]:
    sweep = create_experiment(
        actor=alice, team=risk, name="churn-sweep", metric_directions={"loss": "min"}
    )
    run = create_run(actor=alice, experiment=sweep, name="lr=0.1")
    log_batch(
        actor=alice,
        run=run,
        params=[{"key": "lr", "value": 0.1}],
        tags=[{"key": "stage", "value": "sweep"}],
        metrics=[{"key": "loss", "value": 1.0 / (step + 1), "step": step} for step in range(3)],
    )
    end_run(actor=alice, run=run)
    run2 = create_run(actor=alice, experiment=sweep, name="lr=0.01")
    log_batch(actor=alice, run=run2, metrics=[{"key": "loss", "value": 0.4, "step": 0}])
    logged = create_logged_model(
        actor=alice,
        experiment=sweep,
        name="model",
        source_run=run,
        model_type="",
        params={},
        tags={"stage": "sweep"},
    )
    where = mlflow_artifacts.place(f"{sweep.pk}/{run.pk}/artifacts/notes.txt")
    mlflow_artifacts.upload(actor=alice, where=where, body=io.BytesIO(b"notes"))
    # 1.1.0, a draft registered from MLflow: it has a run to reproduce and a download URI.
    source = resolve_source(f"models:/{logged.model_id}", "", "")
    draft = create_model_version(
        actor=alice, model=model, source=source, description="", tags={SEMVER_TAG: "1.1.0"}
    )
    return {"experiment": sweep, "run": run, "run2": run2, "logged_model": logged, "draft": draft}


def _backlog(people: dict[str, Any], risk: Any, model: Any) -> dict[str, Any]:
    alice = people["alice"]
    iteration = create_iteration(
        actor=alice,
        team=risk,
        name="Sprint 7",
        start_date=NOW.date() - timedelta(days=3),
        end_date=NOW.date() + timedelta(days=10),
    )
    item = create_item(actor=alice, team=risk, title="Retrain on Q3 data", iteration=iteration)
    add_comment(actor=alice, item=item, body="Data lands on Friday.")
    link = add_link(actor=alice, item=item, target=model)
    notify(
        recipients=[alice],
        actor=people["bob"],
        kind="mention",
        message="bob mentioned you",
        url=item.get_absolute_url(),
        cause=f"matrix:{item.pk}",
    )
    notification = alice.notifications.get()
    return {"iteration": iteration, "item": item, "link": link, "notification": notification}


def _releases(people: dict[str, Any], risk: Any, model: Any, version: Any) -> dict[str, Any]:
    alice = people["alice"]
    ensure_default_environments()
    staging = Environment.objects.get(name="staging")
    release = request_release(
        actor=alice,
        version=version,
        environment=staging,
        justification="Better recall on new customers.",
        rollback_plan="Nothing runs there yet.",
    )
    hook = add_webhook(actor=alice, url=HOOK_URL, team=risk)
    delivery = WebhookDelivery.objects.create(
        url=HOOK_URL,
        event="release.requested",
        payload={"event": "release.requested", "release": {"id": release.pk}},
        status=JobStatus.FAILED,
        attempts=3,
        response_status=503,
        error="The receiver answered 503.",
    )
    api_key, api_key_secret = create_key(
        actor=alice, team=risk, name="service", model=model, scopes=[Scope.PREDICTIONS]
    )
    return {
        "release": release,
        "webhook": hook,
        "delivery": delivery,
        "delivery_kind": WebhookDelivery._meta.label_lower,
        "api_key": api_key,
        "api_key_secret": api_key_secret,
    }


def build_world(tmp: Any) -> World:
    """Make the world; the caller holds the transaction that rolls it back."""

    def run_jobs() -> Any:
        # Tasks are sent on commit; run them here, as a worker would after it.
        return TestCase.captureOnCommitCallbacks(execute=True)

    people, risk, search = _people()
    keys, spare_token, revoked_key = _tokens(people)
    alice = people["alice"]
    world = World(people=people, keys=keys, revoked_key=revoked_key)
    world.objects.update(risk=risk, search=search, spare_token=spare_token)
    world.objects.update(_registry(alice, risk, run_jobs))
    version = world.version
    evaluation_data = _dataset(alice, risk, tmp, run_jobs, "churn-eval", "evaluation")
    reference = _dataset(alice, risk, tmp, run_jobs, "churn-ref", "reference")
    world.objects.update(dataset=evaluation_data, reference=reference)
    world.objects.update(_evaluation(alice, risk, version, evaluation_data, run_jobs))
    world.objects["feedback"] = _predictions(alice, version)
    world.objects.update(_monitoring(alice, version, reference))
    world.objects.update(_experiments(alice, risk, world.model))
    world.objects.update(_backlog(people, risk, world.model))
    world.objects.update(_releases(people, risk, world.model, version))
    return world
