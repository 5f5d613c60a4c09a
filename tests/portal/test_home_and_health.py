"""The home page, the health endpoints and the API's error shape."""

from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client

from portal.models import Team
from portal.services.workers import record_heartbeat


def test_home_shows_my_roles_teams_and_the_nav(client_for, alice: object) -> None:
    """The signed-in person sees their roles, teams and every section."""
    html = client_for(alice).get("/").content.decode()
    assert "My work" in html and "Data scientist" in html and "Risk Modelling" in html
    for label in ("Models", "Experiments", "Backlog", "Feedback", "Releases", "API docs"):
        assert f">{label}</a>" in html


def test_home_shows_live_workers(client_for, alice: object) -> None:
    """A worker that reported recently is shown as live."""
    record_heartbeat(hostname="worker-7")
    assert "worker-7" in client_for(alice).get("/").content.decode()


def test_heartbeat_task_runs_eagerly_and_upserts(db: object) -> None:
    """The scheduled task records one row per host, updated in place."""
    from portal.models import WorkerHeartbeat
    from portal.tasks import record_worker_heartbeat_task

    record_worker_heartbeat_task.delay(hostname="w1")
    record_worker_heartbeat_task.delay(hostname="w1")
    assert WorkerHeartbeat.objects.filter(hostname="w1").count() == 1


@pytest.mark.django_db
def test_readyz_names_the_failing_part(client: Client) -> None:
    """When the database check fails the answer is 503 and says which part."""
    with mock.patch.dict(
        "portal.health.CHECKS", {"database": lambda: "database unreachable: OperationalError"}
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert response.json()["checks"]["database"] == "database unreachable: OperationalError"


@pytest.mark.django_db
def test_readyz_reports_a_dead_broker(client: Client, settings: object) -> None:
    """A configured broker that does not answer makes the portal not ready."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "broker" in response.json()["failing"]


def test_api_errors_have_one_shape(client_for, alice: object) -> None:
    """Errors come back as {"errors": {field: [messages]}}."""
    response = client_for(alice).post("/api/me/")
    assert response.status_code == 405
    assert response.json() == {"errors": {"detail": ['Method "POST" not allowed.']}}


def test_sections_not_built_yet_say_so(client_for, alice: object) -> None:
    """Every nav link answers with a page, not a 404."""
    for path in ("/experiments/", "/backlog/", "/feedback/", "/releases/"):
        assert client_for(alice).get(path).status_code == 200


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_prints_logins(capsys: pytest.CaptureFixture[str]) -> None:
    """Running it twice creates nothing new and prints every login."""
    from django.contrib.auth import get_user_model

    call_command("seed_demo")
    users, teams = get_user_model().objects.count(), Team.objects.count()
    call_command("seed_demo")
    assert (get_user_model().objects.count(), Team.objects.count()) == (users, teams)
    out = capsys.readouterr().out
    assert "victor" in out and "handoff-victor" in out and "Viewer" in out
