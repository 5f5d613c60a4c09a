"""Backlog fixtures: a model and a version to link to, and an item of the risk team."""

from __future__ import annotations

from typing import Any

import pytest

from portal.backlog.services.items import create_item
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
