"""Demo releases for `make demo`, made through the services at the moments they happened.

Wine cultivar went to staging and production a few weeks ago; its 1.1.0 reached production,
doubled the error rate and was rolled back the next day; a fix waits for the pipeline in
staging after a failed build. Breast-cancer screening 1.1.0 passed staging and runs as a
canary on 10 % of production traffic. The search ranker was rejected once, withdrawn once,
reached staging, is being deployed to production, and its 1.0.0 waits for an approver.
Every state a release can be in is here, with its audit trail.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from registry.choices import VersionStatus
from registry.models import ModelVersion, RegisteredModel
from registry.releases.models import Deployment, Environment, ReleaseRequest, ReleaseWebhook
from registry.releases.services.approvals import decide
from registry.releases.services.deployments import (
    mark_deployed,
    mark_failed,
    roll_back,
    start_deploying,
)
from registry.releases.services.environments import ensure_default_environments
from registry.releases.services.requests import cancel_release, override_check, request_release
from registry.releases.services.runbooks import save_runbook
from registry.services.versions import set_version_status

NAMES = ("breast-cancer-screening", "wine-cultivar", "search-ranker")
# Why an approver let a check pass for the demo's releases, by check.
OVERRIDES = {
    "gates": "Failing rule reviewed with the data scientists: within the interval of the "
    "running version on the same cases. Accepted for this release.",
    "completeness": "Card sections still missing are tracked on the backlog; not needed "
    "to operate the model.",
    "open_items": "The open item is about monitoring, not about this version's behaviour.",
    "runbook": "Runbook written with the on-call team.",
}
RUNBOOK = """## How it is served
{serving}

## Dashboards
- Grafana: *ML serving / {name}* (latency, error rate, traffic share per version)
- Handoff: the model's monitoring page (drift) and feedback analysis

## On call
{team}, through the `#{slug}-oncall` channel; escalate to the platform team after 30 minutes.

## How to roll back
Press **Roll back** on the release in Handoff, or call the release API: the CD pipeline
reads `GET /api/v1/environments/production/models/{name}` and redeploys what it names.

## Known failure modes
{failures}
"""


def seed_releases(users: dict[str, Any]) -> None:
    """Once: run it as often as you like."""
    if ReleaseRequest.objects.exists():
        return
    models = {m.name: m for m in RegisteredModel.objects.filter(name__in=NAMES)}
    if len(models) < len(NAMES):
        return
    ensure_default_environments()
    now = timezone.now()
    alice, bob, carol, admin, dmitri = (
        users[n] for n in ("alice", "bob", "carol", "admin", "dmitri")
    )
    staging = Environment.objects.get(name="staging")
    production = Environment.objects.get(name="production")
    breast, wine, ranker = (models[n] for n in NAMES)
    _runbooks(alice, bob, dmitri, breast, wine, ranker, now)
    approvers = (admin, carol)  # admin counts as the data scientist, carol as the engineer

    def version(model: RegisteredModel, number: str) -> ModelVersion:
        return model.versions.get(version=number)

    # The registry demo registers every version today: date the released ones back to
    # before their first release, as the lead-time chart expects of real history.
    for model, number, days in (
        (wine, "1.0.0", 40),
        (wine, "1.1.0", 14),
        (breast, "1.1.0", 9),
        (ranker, "0.9.0", 10),
        (ranker, "1.0.0", 2),
    ):
        ModelVersion.objects.filter(pk=version(model, number).pk).update(
            created_at=now - timedelta(days=days)
        )

    # Breast 1.0.0 ran in production before the portal kept releases.
    Deployment.objects.create(
        environment=production,
        model=breast,
        version=version(breast, "1.0.0"),
        started_at=now - timedelta(days=90),
        reason="In production before Handoff.",
    )

    # Wine: staging, production, a bad 1.1.0 rolled back, a failed build, an approved fix.
    _released(bob, version(wine, "1.0.0"), staging, (carol,), at=now - timedelta(days=26))
    _released(bob, version(wine, "1.0.0"), production, approvers, at=now - timedelta(days=21))
    bad = _released(bob, version(wine, "1.1.0"), production, approvers, at=now - timedelta(days=10))
    with _at(now - timedelta(days=9, hours=2)):
        roll_back(
            actor=carol,
            release=bad,
            reason="Error rate rose from 0.4 % to 2.1 % within a day, all on Barolo samples "
            "from the new spectrometer. Back to 1.0.0 while the data team investigates.",
        )
    fix = version(wine, "1.1.0")
    failed = _approved(bob, fix, staging, (carol,), at=now - timedelta(days=8))
    with _at(now - timedelta(days=8, hours=-1)):
        start_deploying(actor=None, release=failed, message="Pipeline run 4812 started.")
        mark_failed(
            actor=None,
            release=failed,
            message="Image build failed: the base image lacks onnxruntime 1.17.",
        )
    _approved(bob, fix, staging, (carol,), at=now - timedelta(days=1))

    # Breast 1.1.0: staging, then a canary on 10 % of production.
    _released(alice, version(breast, "1.1.0"), staging, (carol,), at=now - timedelta(days=6))
    _released(
        alice,
        version(breast, "1.1.0"),
        production,
        approvers,
        at=now - timedelta(days=2),
        strategy="canary",
        canary_steps=[10, 50, 100],
    )

    _canary_baseline(version(breast, "1.0.0"), now)

    # Search ranker: rejected, withdrawn, in staging, deploying to production; 1.0.0 waits.
    rejected = _request(dmitri, version(ranker, "0.9.0"), staging, at=now - timedelta(days=7))
    with _at(now - timedelta(days=6, hours=20)):
        decide(
            actor=carol,
            release=rejected,
            decision="reject",
            comment="No latency figures on the card: the p95 budget is 40 ms in search.",
        )
    withdrawn = _request(dmitri, version(ranker, "0.9.0"), staging, at=now - timedelta(days=5))
    with _at(now - timedelta(days=5, hours=-2)):
        cancel_release(
            actor=dmitri, release=withdrawn, reason="Asked for batch serving by mistake."
        )
    _released(dmitri, version(ranker, "0.9.0"), staging, (carol,), at=now - timedelta(days=4))
    going = _approved(
        dmitri, version(ranker, "0.9.0"), production, approvers, at=now - timedelta(hours=3)
    )
    with _at(now - timedelta(minutes=20)):
        start_deploying(actor=None, release=going, message="Pipeline run 4907 started.")
    newer = version(ranker, "1.0.0")
    if newer.status == VersionStatus.DRAFT:
        set_version_status(actor=dmitri, version=newer, status=VersionStatus.CANDIDATE)
    _request(dmitri, newer, staging, at=now - timedelta(hours=5))

    ReleaseWebhook.objects.create(
        environment=production,
        url="https://cd.handoff.example/hooks/releases",
        events=["release.approved", "release.rolled_back"],
        created_by=carol,
    )


def _at(moment: datetime) -> Any:
    return time_machine.travel(moment, tick=False)


def _request(
    requester: Any, version: ModelVersion, environment: Environment, *, at: datetime, **extra: Any
) -> ReleaseRequest:
    """A request as its requester would make it; a check that blocks it is overridden by
    carol first, as an approver does when the failure is understood."""
    with _at(at - timedelta(hours=1)):
        for attempt in range(2):
            try:
                made = _make(requester, version, environment, **extra)
            except ValidationError as refused:
                if attempt or "checklist" not in refused.message_dict:
                    raise
                _override_blocking(version, environment)
            else:
                return made
    raise AssertionError("unreachable")


def _make(
    requester: Any, version: ModelVersion, environment: Environment, **extra: Any
) -> ReleaseRequest:
    return request_release(
        actor=requester,
        version=version,
        environment=environment,
        justification=extra.pop(
            "justification",
            f"{version} is better on the holdout and passed review; see its card and "
            "evaluation. **Rollout** in the team's usual window.",
        ),
        rollback_plan=extra.pop(
            "rollback_plan", "Roll back in Handoff; the pipeline redeploys the previous version."
        ),
        acknowledge_breaking=True,
        **extra,
    )


def _override_blocking(version: ModelVersion, environment: Environment) -> None:
    from django.contrib.auth import get_user_model

    from registry.releases.services.checklist import checklist

    carol = get_user_model().objects.get(username="carol")
    for item in checklist(version, environment, acknowledged=True).blocking:
        override_check(
            actor=carol,
            version=version,
            environment=environment,
            check=item.check,
            reason=OVERRIDES.get(item.check, "Reviewed and accepted by the approver."),
        )


def _approved(
    requester: Any,
    version: ModelVersion,
    environment: Environment,
    approvers: tuple[Any, ...],
    *,
    at: datetime,
    **extra: Any,
) -> ReleaseRequest:
    release = _request(requester, version, environment, at=at, **extra)
    for hours, approver in enumerate(approvers, start=1):
        with _at(at + timedelta(hours=hours)):
            decide(actor=approver, release=release, decision="approve", comment="Looks good.")
    release.refresh_from_db()
    return release


def _released(
    requester: Any,
    version: ModelVersion,
    environment: Environment,
    approvers: tuple[Any, ...],
    *,
    at: datetime,
    **extra: Any,
) -> ReleaseRequest:
    release = _approved(requester, version, environment, approvers, at=at, **extra)
    with _at(at + timedelta(hours=len(approvers) + 1)):
        start_deploying(actor=None, release=release, message="Pipeline started.")
    with _at(at + timedelta(hours=len(approvers) + 1, minutes=12)):
        return mark_deployed(actor=None, release=release, message="Rollout finished.")


def _runbooks(
    alice: Any, bob: Any, dmitri: Any, breast: Any, wine: Any, ranker: Any, now: datetime
) -> None:
    pages = [
        (
            alice,
            breast,
            "Real-time API `screening-api` (Kubernetes, 3 replicas, ONNX Runtime).",
            "- A new stain or scanner shifts texture features: watch the drift page.\n"
            "- Timeouts when the lab uploads a batch at once: the queue backs up.",
        ),
        (
            bob,
            wine,
            "Real-time API `wine-api` behind the lab portal; nightly batch re-scores.",
            "- A recalibrated spectrometer shifts flavanoids and colour intensity.",
        ),
        (
            dmitri,
            ranker,
            "Batch job: re-ranks the catalogue every hour; results cached in Redis.",
            "- Cold cache after a deploy: first hour of queries slower.",
        ),
    ]
    with _at(now - timedelta(days=30)):
        for author, model, serving, failures in pages:
            team = model.team.name
            body = RUNBOOK.format(
                serving=serving,
                name=model.name,
                team=team,
                slug=team.lower().replace(" ", "-"),
                failures=failures,
            )
            save_runbook(actor=author, model=model, body=body)


def _canary_baseline(running: ModelVersion, now: datetime) -> None:
    """The screening requests 1.0.0 still serves beside the canary (the monitoring demo logs
    1.1.0's share), so the release page compares the two on the same days."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    from feedback.models import ApiKey
    from feedback.services.access import Caller
    from feedback.services.predictions import log_predictions
    from registry.demo.common import SEED, _snake
    from registry.monitoring.demo import SERVER_KEY, _record

    key = ApiKey.objects.filter(name=SERVER_KEY, model=None).first()
    if key is None:
        return
    data = load_breast_cancer()
    names = [_snake(n) for n in data.feature_names]
    truth = (data.target == 0).astype(int)
    rng = np.random.default_rng(SEED + 900)
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    for days_ago in (2, 1):  # whole days, as the monitoring demo logs 1.1.0's share
        day = today - timedelta(days=days_ago)
        picked = rng.integers(0, len(truth), BASELINE_PER_DAY)
        values = data.data[picked] * np.exp(rng.normal(0.0, 0.03, (len(picked), len(names))))
        records = [
            _record(running, day, 60 + days_ago, i, names, values[i], int(truth[p]), rng)
            for i, p in enumerate(picked)
        ]
        with _at(day + timedelta(hours=23, minutes=50)):
            log_predictions(caller=Caller(key=key), records=records, now=timezone.now())


BASELINE_PER_DAY = 240  # 1.0.0's 90 % of a day's screening requests during the canary
