"""MLflow users in a real browser: the link the client prints opens the run in Handoff, and
the model page tells how to point the client here."""

from __future__ import annotations

from typing import Any

import pytest

from portal.roles import Role
from portal.services.accounts import create_team, create_user
from portal.services.tokens import create_token

pytestmark = pytest.mark.browser

PASSWORD = "pw-alice-123"


def test_the_link_the_mlflow_client_prints_opens_the_run_here(
    page: Any, login: Any, live_server: Any, monkeypatch: pytest.MonkeyPatch, page_log: Any
) -> None:
    import mlflow

    # given: alice logs a run with the stock client, pointed at Handoff
    alice = create_user(username="alice", password=PASSWORD, roles=[Role.DATA_SCIENTIST])
    create_team(name="Risk Modelling", members=[alice])
    _, key = create_token(user=alice, name="laptop", scope="write")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", key)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(live_server.url)
    try:
        experiment = mlflow.set_experiment("churn-from-mlflow")
        with mlflow.start_run(run_name="baseline") as run:
            mlflow.log_metric("auc", 0.91, step=1)
    finally:
        mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
    login(page, "alice", PASSWORD)

    # when: she follows "View run at …/#/experiments/<id>/runs/<id>"
    page.goto(f"/#/experiments/{experiment.experiment_id}/runs/{run.info.run_id}")
    page.wait_for_url(f"**/experiments/runs/{run.info.run_id}/")

    # then
    assert page.get_by_role("heading", level=1).inner_text().startswith("baseline")
    page.goto(f"/experiments/{experiment.experiment_id}/")
    page.get_by_text("Use from MLflow").click()
    snippet = page.locator("#use-from-mlflow").inner_text()
    assert f"MLFLOW_TRACKING_URI={live_server.url}" in snippet
    assert "mlflow.set_experiment('churn-from-mlflow')" in snippet
    assert page_log.page_errors == [] and page_log.console_errors == []
