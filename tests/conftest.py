"""Shared fixtures: named personas built through the services, and service requirements.

Personas: alice (data scientist, owner, Risk team), bob (engineer, her teammate),
charlie (data scientist in another team: the outsider), dana (approver, no team),
victor (viewer).

Tests marked postgres / redis / worker / browser need that real service. Locally they
are skipped when it is missing; under CI=true they fail instead, so CI cannot go green
without running them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from portal.roles import Role
from portal.services.accounts import create_team, create_user

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = "/usr/bin/chromium"


def _missing(marker: str) -> str | None:
    """Why the service behind ``marker`` is unavailable, or None when it is there."""
    vendor = settings.DATABASES["default"]["ENGINE"]
    if marker == "postgres" and "postgresql" not in vendor:
        return "needs DATABASE_URL=postgres://..."
    if marker == "redis" and not os.environ.get("REDIS_URL"):
        return "needs REDIS_URL=redis://..."
    if marker == "worker":
        if not os.environ.get("CELERY_BROKER_URL"):
            return "needs CELERY_BROKER_URL=redis://..."
        if "postgresql" not in vendor:
            return "a worker process shares the database: needs DATABASE_URL=postgres://..."
    if marker == "browser" and not shutil.which(CHROMIUM):
        return f"needs Debian chromium at {CHROMIUM}"
    return None


SERVICE_MARKERS = ("postgres", "redis", "worker", "browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in SERVICE_MARKERS:
            reason = item.get_closest_marker(marker) and _missing(marker)
            if not reason:
                continue
            if IN_CI:
                item.add_marker(pytest.mark.requires_service_in_ci(reason))
            else:
                item.add_marker(pytest.mark.skipif(True, reason=reason))


@pytest.fixture(autouse=True)
def _fail_when_service_missing_in_ci(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("requires_service_in_ci")
    if marker:
        pytest.fail(f"CI must run this test, but {marker.args[0]}")


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def object_store(settings: Any) -> None:
    """Stored files without a path on this machine, as on S3 (HANDOFF_STORAGE=s3): kept in
    memory by tests.object_store.ObjectStore, whose ``path()`` raises as S3Storage's does.
    Used with ``pytest.mark.usefixtures``, so it is in place before the test's other
    fixtures."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.object_store.ObjectStore"},
    }


@pytest.fixture
def risk_team(db: Any) -> Any:
    return create_team(name="Risk Modelling")


@pytest.fixture
def search_team(db: Any) -> Any:
    return create_team(name="Search Relevance")


@pytest.fixture
def alice(risk_team: Any) -> Any:
    user = create_user(username="alice", password="pw-alice-123", roles=[Role.DATA_SCIENTIST])
    risk_team.members.add(user)
    return user


@pytest.fixture
def bob(risk_team: Any) -> Any:
    user = create_user(username="bob", password="pw-bob-12345", roles=[Role.ENGINEER])
    risk_team.members.add(user)
    return user


@pytest.fixture
def charlie(search_team: Any) -> Any:
    user = create_user(username="charlie", password="pw-charlie-1", roles=[Role.DATA_SCIENTIST])
    search_team.members.add(user)
    return user


@pytest.fixture
def dana(db: Any) -> Any:
    return create_user(username="dana", password="pw-dana-1234", roles=[Role.APPROVER])


@pytest.fixture
def victor(db: Any) -> Any:
    return create_user(username="victor", password="pw-victor-12", roles=[Role.VIEWER])


@pytest.fixture
def superuser(db: Any) -> Any:
    """An admin: superuser and staff, no role or team."""
    user = create_user(username="root", password="pw-root-12345")
    user.is_superuser = user.is_staff = True
    user.save(update_fields=["is_superuser", "is_staff"])
    return user


@pytest.fixture
def api_for() -> Any:
    """``api_for(user)``: a DRF test client authenticated as ``user``."""
    from rest_framework.test import APIClient

    def make(user: Any) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def client_for() -> Any:
    """``client_for(user)``: a test client signed in as ``user``."""

    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Any:
    """The whole demo (``portal.demo.seed``), seeded once for a module (training takes a few
    seconds) and rolled back after it: (users by name, the media root)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test.utils import override_settings

    from portal.demo import seed
    from registry.demo import seed_registry

    media = tmp_path_factory.mktemp("demo-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        seed()
        users = {user.username: user for user in get_user_model().objects.all()}
        seed_registry(users)
        yield users, Path(settings.MEDIA_ROOT)
        transaction.set_rollback(True)
