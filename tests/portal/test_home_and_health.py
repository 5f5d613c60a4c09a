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
    response = client_for(alice).post("/api/v1/me/")
    assert response.status_code == 405
    assert response.json() == {"errors": {"detail": ['Method "POST" not allowed.']}}


def test_every_nav_link_answers_with_a_page(client_for, alice: object) -> None:
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


# Reads that stay fast, and limits every worker shares ------------------------------------

# session, user, the viewer's roles, teams, their members, live workers, the ten newest of my
# events (alone in her team, alice has no teammates' events to read, and these have no links),
# my open backlog items, the comments that mention me, and the bell's unread count
HOME_QUERIES = 10


def test_home_runs_the_same_queries_for_few_or_many_events(
    client_for, alice: object, django_assert_num_queries
) -> None:
    """My recent activity is the ten newest of my events, however many I have."""
    from portal.models import AuditEvent

    client = client_for(alice)
    client.get("/")
    with django_assert_num_queries(HOME_QUERIES):
        client.get("/")

    AuditEvent.objects.bulk_create(AuditEvent(actor=alice, verb="model.viewed") for _ in range(40))
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get("/")
    assert len(response.context["recent_events"]) == 10


def test_api_throttles_count_per_person_in_windows() -> None:
    from portal import settings as portal_settings  # the tests switch throttles off

    assert portal_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "portal.api.throttling.PersonRateThrottle"
    ]


def _settings_caches(tmp_path, **env: str) -> dict:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_")) and k != "REDIS_URL"
    }
    clean.update(
        DJANGO_SECRET_KEY="s" * 50, DJANGO_ALLOWED_HOSTS="x", HANDOFF_VAR_DIR=str(tmp_path), **env
    )
    script = "import json, portal.settings as s; print(json.dumps(s.CACHES['default']))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def test_without_redis_the_workers_of_a_host_share_a_cache_directory(tmp_path) -> None:
    """DEBUG off and no REDIS_URL: a file cache under VAR_DIR, never one per process."""
    production = _settings_caches(tmp_path, DJANGO_DEBUG="0")
    redis = _settings_caches(tmp_path, DJANGO_DEBUG="0", REDIS_URL="redis://127.0.0.1:6379/1")
    debug = _settings_caches(tmp_path, DJANGO_DEBUG="1")

    assert production["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert production["LOCATION"] == str(tmp_path / "cache")
    assert redis["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert redis["LOCATION"] == "redis://127.0.0.1:6379/1"
    assert debug["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"  # runserver


OTHER_WORKER = """
import json, sys
from types import SimpleNamespace

import django
from django.conf import settings

settings.configure(
    CACHES=json.loads(sys.argv[1]), REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"user": "2/min"}}
)
django.setup()
from portal.api.throttling import PersonRateThrottle

request = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=4242))
print(json.dumps(PersonRateThrottle().allow_request(request, None)))
"""


def _file_cache(tmp_path) -> dict:
    return {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(tmp_path / "cache"),
    }


def _redis_cache(tmp_path) -> dict:
    import os

    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("REDIS_URL", ""),
        "KEY_PREFIX": f"handoff-test-{tmp_path.name}",
    }


@pytest.mark.parametrize(
    "configured",
    [
        pytest.param(_file_cache, id="file cache"),
        pytest.param(_redis_cache, id="redis", marks=pytest.mark.redis),
    ],
)
def test_a_throttle_count_made_in_one_worker_refuses_the_request_in_another(
    tmp_path, settings, configured
) -> None:
    """Two requests here use up 2/min; a separate process then refuses the third."""
    import json
    import subprocess
    import sys
    from pathlib import Path
    from types import SimpleNamespace

    from django.core.cache import cache

    from portal.api.throttling import PersonRateThrottle

    class TwoPerMinute(PersonRateThrottle):
        rate = "2/min"

    settings.CACHES = {"default": configured(tmp_path)}
    request = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=4242))
    window = int(TwoPerMinute().timer() // 60)
    try:
        assert TwoPerMinute().allow_request(request, None)
        assert TwoPerMinute().allow_request(request, None)

        other = subprocess.run(
            [sys.executable, "-c", OTHER_WORKER, json.dumps(settings.CACHES)],
            cwd=Path(__file__).resolve().parents[2],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert json.loads(other.stdout) is False, other.stderr
    finally:
        # never clear(): on Redis that is FLUSHDB
        cache.delete_many([f"throttle_user_4242:{n}" for n in (window, window + 1)])


def test_the_previous_window_counts_by_how_much_of_it_is_still_recent(settings) -> None:
    """3/min: three at the end of one minute still refuse a fourth early in the next, not
    late in it; counting costs the same however many requests came before."""
    from types import SimpleNamespace

    from django.core.cache import cache

    from portal.api.throttling import PersonRateThrottle

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    now = [6_000_059.0]  # the last second of a minute

    class ThreePerMinute(PersonRateThrottle):
        rate = "3/min"

        def timer(self) -> float:
            return now[0]

    request = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=7))
    assert [ThreePerMinute().allow_request(request, None) for _ in range(3)] == [True] * 3
    now[0] += 6  # 5 s into the next minute: 5/6 of the last one still counts
    early = ThreePerMinute()
    assert early.allow_request(request, None) is False
    assert 54 <= early.wait() <= 55
    now[0] += 45  # 50 s in: 1/6 of the previous three and the refused one
    assert ThreePerMinute().allow_request(request, None) is True
