"""The notifications API: each person lists their own, and marks some or all read."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from portal.notifications.models import Notification
from portal.notifications.services import notify
from portal.services.tokens import create_token

NOTIFICATIONS = "/api/v1/notifications/"
MARK_READ = "/api/v1/notifications/mark-read/"
# count and one page of rows, the actor joined.
LIST_QUERIES = 2


def _notify(recipient: Any, actor: Any, cause: str) -> Notification:
    notify(recipients=[recipient], actor=actor, kind="mention", message=cause, url="/", cause=cause)
    return Notification.objects.get(recipient=recipient, cause=cause)


@pytest.fixture
def inbox(alice: Any, bob: Any) -> list[Notification]:
    """Three for bob (newest last), one for alice."""
    _notify(alice, bob, "for-alice")
    return [_notify(bob, alice, f"for-bob-{i}") for i in range(3)]


def test_a_person_lists_only_their_own_newest_first(
    api_for: Any, bob: Any, inbox: list[Notification]
) -> None:
    response = api_for(bob).get(NOTIFICATIONS)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["message"] for row in rows] == ["for-bob-2", "for-bob-1", "for-bob-0"]
    assert set(rows[0]) == {"id", "kind", "message", "url", "actor", "created_at", "read_at"}
    assert (rows[0]["actor"], rows[0]["kind"], rows[0]["read_at"]) == ("alice", "mention", None)


def test_unread_filters_either_way(api_for: Any, bob: Any, inbox: list[Notification]) -> None:
    api = api_for(bob)
    api.post(MARK_READ, {"ids": [inbox[0].pk]}, format="json")

    unread = api.get(f"{NOTIFICATIONS}?unread=true").json()["results"]
    read = api.get(f"{NOTIFICATIONS}?unread=false").json()["results"]

    assert [row["id"] for row in unread] == [inbox[2].pk, inbox[1].pk]
    assert [row["id"] for row in read] == [inbox[0].pk] and read[0]["read_at"] is not None


def test_marking_some_read_counts_only_mine_and_unread(
    api_for: Any, alice: Any, bob: Any, inbox: list[Notification]
) -> None:
    """Someone else's ids and ids already read are not counted and not changed."""
    alices = Notification.objects.get(recipient=alice)
    api = api_for(bob)

    first = api.post(MARK_READ, {"ids": [inbox[0].pk, alices.pk]}, format="json")
    again = api.post(MARK_READ, {"ids": [inbox[0].pk]}, format="json")

    assert (first.status_code, first.json(), again.json()) == (200, {"marked": 1}, {"marked": 0})
    assert Notification.objects.get(pk=alices.pk).read_at is None


def test_an_empty_body_marks_all_of_mine_read(
    api_for: Any, alice: Any, bob: Any, inbox: list[Notification]
) -> None:
    response = api_for(bob).post(MARK_READ, {}, format="json")

    assert response.json() == {"marked": 3}
    assert not Notification.objects.filter(recipient=bob, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=alice).read_at is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"ids": "all"}, "ids"),
        ({"ids": [0]}, "ids"),
        ({"ids": None}, "ids"),
        ({"all": True}, "all"),
    ],
)
def test_a_bad_mark_read_names_the_field(
    api_for: Any, bob: Any, inbox: list[Notification], payload: dict[str, Any], field: str
) -> None:
    response = api_for(bob).post(MARK_READ, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_a_viewer_marks_their_own_read(api_for: Any, victor: Any, alice: Any) -> None:
    """Reading the backlog only is no bar to clearing one's own notifications."""
    _notify(victor, alice, "for-victor")

    response = api_for(victor).post(MARK_READ, {}, format="json")

    assert response.json() == {"marked": 1}


def test_a_read_scope_token_lists_but_cannot_mark_read(bob: Any, inbox: list[Notification]) -> None:
    _, key = create_token(user=bob, name="dashboards", scope="read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert client.get(NOTIFICATIONS).status_code == 200
    assert client.post(MARK_READ, {}, format="json").status_code == 403
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_anonymous_callers_get_a_401(db: Any) -> None:
    assert APIClient().get(NOTIFICATIONS).status_code == 401
    assert APIClient().post(MARK_READ, {}, format="json").status_code == 401


def test_the_list_runs_the_same_queries_for_3_or_30(
    api_for: Any, alice: Any, bob: Any, django_assert_num_queries: Any
) -> None:
    api = api_for(bob)
    for i in range(3):
        _notify(bob, alice, f"a-{i}")
    with django_assert_num_queries(LIST_QUERIES):
        api.get(NOTIFICATIONS)
    for i in range(27):
        _notify(bob, alice, f"b-{i}")
    with django_assert_num_queries(LIST_QUERIES):
        rows = api.get(f"{NOTIFICATIONS}?unread=true&page_size=200").json()["results"]
    assert len(rows) == 30 and {row["actor"] for row in rows} == {"alice"}
