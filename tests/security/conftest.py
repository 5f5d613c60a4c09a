"""The authorisation matrix's world, built once per module and rolled back after it.

Tests that use it are marked ``django_db``, so each runs in a savepoint of its own inside the
world's transaction: a write cannot change what later requests find. Files are not rolled
back, so a write that may remove one names a file of its own (rules_mlflow.SCRATCH)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test.utils import override_settings

from tests.security.world import World, build_world


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[World]:
    media = tmp_path_factory.mktemp("matrix-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), transaction.atomic():
        yield build_world(tmp_path_factory.mktemp("matrix-data"))
        transaction.set_rollback(True)
