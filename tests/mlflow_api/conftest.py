"""The stock MLflow client pointed at a live Handoff server, signed in with a personal token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from portal.models import PersonalToken
from portal.services.tokens import create_token


@pytest.fixture
def token_of() -> Any:
    def make(user: Any, scope: str = PersonalToken.Scope.WRITE) -> str:
        _, key = create_token(user=user, name="mlflow", scope=scope)
        return key

    return make


@pytest.fixture
def mlflow_env(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``mlflow`` set to the live server, failing fast (no retries) and sending nothing out."""
    import mlflow

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD", raising=False)
    mlflow.set_tracking_uri(live_server.url)
    mlflow.set_registry_uri(live_server.url)
    yield mlflow
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]
