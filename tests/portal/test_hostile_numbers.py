"""Numbers in a query string or form that ``int()`` refuses ("²") or the database cannot hold
(21 digits) are treated as no number: a page, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.runs import create_run
from registry.services.models import create_model
from registry.services.versions import create_version

pytestmark = pytest.mark.django_db

HOSTILE = ["²", "٣", "9" * 21]


@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_numbers_in_requests_never_crash(
    client_for: Any, alice: Any, risk_team: Any, bad: str
) -> None:
    experiment = create_experiment(actor=alice, team=risk_team, name="sweep")
    run = create_run(actor=alice, experiment=experiment)
    model = create_model(actor=alice, name="churn", title="Churn", team=risk_team)
    create_version(actor=alice, model=model, version="1.0.0")
    client = client_for(alice)
    pages = [
        f"/backlog/?q=%23{bad}",
        f"/experiments/{experiment.pk}/compare/?runs={run.pk},{bad}",
        f"/feedback/?after={bad}.{bad}",
        f"/feedback/models/churn/versions/1.0.0/analysis/?days={bad}&min={bad}",
        f"/feedback/models/churn/?days={bad}",
    ]
    for url in pages:
        answer = client.get(url)
        assert answer.status_code in (200, 400, 404), (url, answer.status_code)
    assert client.post("/notifications/read/", {"page": bad}).status_code == 302
