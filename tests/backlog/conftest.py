"""Backlog fixtures: a model and a version to link to, and an item of the risk team."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from portal.backlog.models import Iteration
from portal.backlog.services.items import create_item
from portal.backlog.services.iterations import create_iteration
from registry.services.models import create_model
from registry.services.versions import create_version


@pytest.fixture
def churn(alice: Any, risk_team: Any) -> Any:
    return create_model(actor=alice, name="churn-risk", title="Churn risk", team=risk_team)


@pytest.fixture
def churn_v1(alice: Any, churn: Any) -> Any:
    return create_version(actor=alice, model=churn, version="1.0.0")


@pytest.fixture
def item(alice: Any, risk_team: Any) -> Any:
    return create_item(actor=alice, team=risk_team, title="Retrain on Q3 data", kind="task")


@pytest.fixture
def sprint(alice: Any, risk_team: Any) -> Iteration:
    return create_iteration(
        actor=alice,
        team=risk_team,
        name="Sprint 7",
        start_date=datetime.date(2026, 3, 2),
        end_date=datetime.date(2026, 3, 13),
    )
