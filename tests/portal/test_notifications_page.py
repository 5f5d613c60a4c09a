"""The bell in the header and the notifications page: mine only, newest first, mark read."""

from __future__ import annotations

from typing import Any

from django.test import Client

from portal.notifications.models import Notification
from portal.notifications.services import notify


def _notify(person: Any, n: int, actor: Any = None, url: str = "/backlog/items/1/") -> None:
    notify(
        recipients=[person],
        actor=actor,
        kind="mention",
        message=f"Note {n}",
        url=url,
        cause=f"test:{n}",
    )


def test_the_bell_shows_my_unread_count(client_for: Any, alice: Any, bob: Any) -> None:
    for n in range(3):
        _notify(alice, n, actor=bob)
    _notify(bob, 9)

    html = client_for(alice).get("/").content.decode()

    assert 'aria-label="Notifications, 3 unread"' in html
    assert 'href="/notifications/"' in html


def test_the_bell_costs_one_count_query(client_for: Any, alice: Any) -> None:
    """Named twice in the header, counted once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(alice)
    with CaptureQueriesContext(connection) as queries:
        client.get("/account/tokens/")
    counts = [q["sql"] for q in queries if "notifications_notification" in q["sql"]]
    assert len(counts) == 1 and "COUNT" in counts[0]


def test_anonymous_pages_have_no_bell_and_no_count(db: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        html = Client().get("/accounts/login/").content.decode()
    assert "Notifications," not in html
    assert not [q for q in queries if "notifications_notification" in q["sql"]]


def test_the_page_lists_only_mine_newest_first_with_unread_marked(
    client_for: Any, alice: Any, bob: Any
) -> None:
    _notify(alice, 1)
    _notify(alice, 2)
    _notify(bob, 3)
    Notification.objects.filter(message="Note 1").update(read_at="2025-01-01T00:00Z")

    response = client_for(alice).get("/notifications/")

    entries = response.context["entries"]
    assert [n.message for n, _ in entries] == ["Note 2", "Note 1"]
    html = response.content.decode()
    assert "Note 3" not in html
    assert html.count(">New</span>") == 1 and html.count(">Mark read</button>") == 1
    assert '<a href="/backlog/items/1/">Note 2</a>' in html


def test_a_link_outside_the_portal_is_shown_as_text(client_for: Any, alice: Any) -> None:
    _notify(alice, 1, url="javascript:alert(1)")
    _notify(alice, 2, url="//evil.example/")

    html = client_for(alice).get("/notifications/").content.decode()

    assert "javascript:" not in html and "evil.example" not in html


def test_the_page_is_paginated(client_for: Any, alice: Any) -> None:
    for n in range(30):
        _notify(alice, n)

    client = client_for(alice)
    first, second = client.get("/notifications/"), client.get("/notifications/?page=2")

    assert len(first.context["entries"]) == 25 and len(second.context["entries"]) == 5
    assert 'href="?page=2"' in first.content.decode()


def test_mark_read_marks_one_of_mine(client_for: Any, alice: Any) -> None:
    _notify(alice, 1)
    _notify(alice, 2)
    target = Notification.objects.get(message="Note 1")

    response = client_for(alice).post(f"/notifications/{target.pk}/read/", {"page": "2"})

    assert response.status_code == 302 and response["Location"] == "/notifications/?page=2"
    assert list(
        Notification.objects.filter(read_at__isnull=True).values_list("message", flat=True)
    ) == ["Note 2"]


def test_someone_elses_notification_is_a_404(client_for: Any, alice: Any, bob: Any) -> None:
    _notify(bob, 1)
    theirs = Notification.objects.get()

    response = client_for(alice).post(f"/notifications/{theirs.pk}/read/")

    assert response.status_code == 404
    assert Notification.objects.get().read_at is None


def test_mark_all_read_marks_only_mine(client_for: Any, alice: Any, bob: Any) -> None:
    _notify(alice, 1)
    _notify(alice, 2)
    _notify(bob, 3)

    client = client_for(alice)
    response = client.post("/notifications/read/")

    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=bob, read_at__isnull=True).count() == 1
    html = client.get(response["Location"]).content.decode()
    assert 'aria-label="Notifications, 0 unread"' in html and "Marked 2 notifications read." in html


def test_the_buttons_take_only_post(client_for: Any, alice: Any) -> None:
    _notify(alice, 1)
    pk = Notification.objects.get().pk
    assert client_for(alice).get("/notifications/read/").status_code == 405
    assert client_for(alice).get(f"/notifications/{pk}/read/").status_code == 405
    assert client_for(alice).post("/notifications/").status_code == 405


def test_the_page_needs_a_sign_in(db: Any) -> None:
    response = Client().get("/notifications/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
