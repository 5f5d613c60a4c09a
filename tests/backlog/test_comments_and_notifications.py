"""Comments, @mentions and the notifications they send: each exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from portal.backlog.choices import Status
from portal.backlog.services.comments import add_comment
from portal.backlog.services.items import move_item, update_item
from portal.notifications.models import Notification
from portal.notifications.services import mark_read, notify, unread


def test_a_mention_notifies_the_person_once(alice: Any, bob: Any, item: Any) -> None:
    comment = add_comment(actor=alice, item=item, body="@bob can you check? cc @bob")

    sent = Notification.objects.filter(recipient=bob, kind="mention")
    assert sent.count() == 1
    assert sent.get().url.endswith(f"#comment-{comment.pk}")
    assert list(comment.mentions.all()) == [bob]


def test_mentions_skip_emails_unknown_names_and_the_author(alice: Any, bob: Any, item: Any) -> None:
    add_comment(actor=alice, item=item, body="mail bob@example.com, ask @nobody and @alice")

    assert not Notification.objects.exists()


def test_the_same_cause_never_notifies_twice(alice: Any, bob: Any) -> None:
    for _ in range(2):
        notify(recipients=[bob], actor=alice, kind="x", message="m", url="/", cause="c:1")

    assert Notification.objects.filter(recipient=bob).count() == 1


def test_assignment_and_status_changes_tell_the_people_concerned(
    alice: Any, bob: Any, item: Any
) -> None:
    update_item(actor=alice, item=item, assignees=[bob])
    update_item(actor=alice, item=item, assignees=[bob], title="Same people")
    move_item(actor=bob, item=item, status=Status.TODO)

    kinds = sorted(Notification.objects.values_list("recipient__username", "kind"))
    assert kinds == [("alice", "status"), ("bob", "assigned")]


def test_mark_read_empties_the_bell(alice: Any, bob: Any, item: Any) -> None:
    add_comment(actor=alice, item=item, body="@bob one")
    add_comment(actor=alice, item=item, body="@bob two")
    first = unread(bob).last()

    assert mark_read(person=bob, ids=[first.pk]) == 1
    assert unread(bob).count() == 1
    assert mark_read(person=bob) == 1
    assert unread(bob).count() == 0


def test_a_viewer_cannot_comment(victor: Any, item: Any) -> None:
    with pytest.raises(PermissionDenied):
        add_comment(actor=victor, item=item, body="hello")
