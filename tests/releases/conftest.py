"""Shared fixtures of the releases tests: personas, the churn model with a version running in
production and a candidate ready to replace it, and a factory of releases.

Every name here is new: none shadows a fixture of tests/conftest.py (``alice``, ``bob``,
``charlie``, ``dana``, ``victor``, ``risk_team``, ``search_team``), so a test module may use
both, and may define its own ``production`` or ``versions`` without a clash.

Personas (built through the services; ``alice``, ``risk_team`` and ``victor`` come from
tests/conftest.py):

- ``alice``: Data scientist, member of the Risk team (``risk_team``), which owns churn;
- ``erin``: Engineer, member of the Risk team;
- ``daria``: Approver and Data scientist, in no team;
- ``eve``: Approver and Engineer, in no team. ``daria`` and ``eve`` together meet
  production's approval rule (two people, one of each role);
- ``viewer``: a Viewer (the root's ``victor``).

The model (``churn_model``: "churn", binary classification, contract ``CHURN_CONTRACT``:
``age`` and ``income`` numbers, ``region`` a string; it has a runbook):

- ``production_env``: the production environment as migrated (two approvers, a Data
  scientist and an Engineer; gates, a 75 % card and a runbook required; ``accuracy`` and
  ``error_rate`` guard canaries);
- ``running_version``: churn 1.0.0, status production, the current Deployment in
  production (put there directly, without a release);
- ``candidate_version``: churn 1.1.0, a candidate with every required card section written,
  so a production request of it passes the checklist;
- ``make_release``: ``make_release(strategy="canary", canary_steps=[5, 25, 100],
  deploy=True)`` requests a release of ``candidate_version`` to ``production_env`` as alice,
  has daria and eve approve it, and deploys it unless ``deploy=False``; it replaces 1.0.0.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from portal.roles import Role
from portal.services.accounts import create_user
from registry.models import ModelVersion, RegisteredModel
from registry.releases.models import Deployment, Environment, ReleaseRequest
from registry.releases.services.approvals import decide
from registry.releases.services.deployments import mark_deployed
from registry.releases.services.environments import ensure_default_environments
from registry.releases.services.requests import request_release
from registry.releases.services.runbooks import save_runbook
from registry.services.model_cards import update_card
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status

CHURN_CONTRACT = {
    "type": "object",
    "properties": {
        "age": {"type": "number"},
        "income": {"type": "number"},
        "region": {"type": "string"},
    },
    "required": ["age", "income", "region"],
}


def _person(name: str, *roles: Role) -> Any:
    return create_user(username=name, password=None, roles=list(roles), email=f"{name}@example.com")


@pytest.fixture(autouse=True)
def _environments(request: pytest.FixtureRequest) -> None:
    """Staging and production as migrated: a transactional test's flush removes the rows
    the data migration made, for every test after it."""
    if request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        request.getfixturevalue("db")
        ensure_default_environments()


@pytest.fixture
def erin(risk_team: Any) -> Any:
    user = _person("erin", Role.ENGINEER)
    risk_team.members.add(user)
    return user


@pytest.fixture
def daria(db: Any) -> Any:
    return _person("daria", Role.APPROVER, Role.DATA_SCIENTIST)


@pytest.fixture
def eve(db: Any) -> Any:
    return _person("eve", Role.APPROVER, Role.ENGINEER)


@pytest.fixture
def viewer(victor: Any) -> Any:
    return victor


@pytest.fixture
def production_env(db: Any) -> Environment:
    return Environment.objects.get(name="production")


@pytest.fixture
def churn_model(alice: Any, risk_team: Any) -> RegisteredModel:
    model = create_model(
        actor=alice, name="churn", title="Churn", team=risk_team, task_type="binary_classification"
    )
    save_runbook(actor=alice, model=model, body="Served by `churn-api`; roll back from Handoff.")
    return model


def _version(actor: Any, model: RegisteredModel, number: str) -> ModelVersion:
    version = create_version(
        actor=actor,
        model=model,
        version=number,
        input_schema=CHURN_CONTRACT,
        output_schema={"type": "object"},
    )
    return set_version_status(actor=actor, version=version, status="candidate")


@pytest.fixture
def running_version(alice: Any, churn_model: RegisteredModel, production_env: Environment) -> Any:
    version = _version(alice, churn_model, "1.0.0")
    version = set_version_status(
        actor=alice, version=version, status="production", via_release=True
    )
    Deployment.objects.create(
        environment=production_env,
        model=churn_model,
        version=version,
        started_at=timezone.now() - timedelta(days=30),
    )
    return version


@pytest.fixture
def candidate_version(alice: Any, churn_model: RegisteredModel, running_version: Any) -> Any:
    version = _version(alice, churn_model, "1.1.0")
    sections = {
        name: f"The {name.replace('_', ' ')} of churn."
        for name in settings.HANDOFF_CARD_REQUIRED_SECTIONS
    }
    update_card(actor=alice, card=version.card, sections=sections)
    return version


@pytest.fixture
def make_release(
    alice: Any, daria: Any, eve: Any, candidate_version: Any, production_env: Environment
) -> Callable[..., ReleaseRequest]:
    def make(
        strategy: str = "canary", canary_steps: list[int] | None = None, deploy: bool = True
    ) -> ReleaseRequest:
        steps = canary_steps or ([5, 25, 100] if strategy == "canary" else None)
        release = request_release(
            actor=alice,
            version=candidate_version,
            environment=production_env,
            strategy=strategy,
            canary_steps=steps,
            justification="Better recall on new customers.",
            rollback_plan="Roll back to 1.0.0 from the release page.",
        )
        for approver in (daria, eve):
            decide(actor=approver, release=release, decision="approve", comment="ok")
        release.refresh_from_db()
        if deploy:
            release = mark_deployed(actor=alice, release=release)
        return release

    return make
