"""A cache (Redis) that is down degrades rate limits and sign-in counting; it never takes
the API or the login page down with it."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from django.test import Client

pytestmark = pytest.mark.django_db


class DownCache:
    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

        return fail


def test_the_api_answers_uncounted_while_the_cache_is_down(
    api_for: Any, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.api import throttling

    def down(*args: Any) -> Any:
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr(throttling, "count_hit", down)
    assert api_for(alice).get("/api/v1/models/").status_code == 200


def test_sign_in_works_uncounted_while_the_cache_is_down(
    alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal import login

    monkeypatch.setattr(login, "cache", DownCache())
    client = Client(HTTP_HOST="127.0.0.1")
    wrong = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert wrong.status_code == 200 and "Please enter a correct username" in wrong.content.decode()
    right = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"})
    assert right.status_code == 302
