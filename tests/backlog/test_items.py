"""Items: the workflow, who may change them, closing, ordering, the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portal.backlog.choices import TRANSITIONS, Status
from portal.backlog.models import BacklogItem
from portal.backlog.services.items import create_item, move_item, update_item
from portal.concurrency import StaleEdit
from portal.models import AuditEvent

ALL_MOVES = [(a, b) for a in Status.values for b in Status.values if a != b]


def _at(item: Any, status: str) -> Any:
    BacklogItem.objects.filter(pk=item.pk).update(status=status)
    item.refresh_from_db()
    return item


@pytest.mark.parametrize(("source", "target"), ALL_MOVES)
def test_every_move_follows_the_workflow(alice: Any, item: Any, source: str, target: str) -> None:
    _at(item, source)
    if target in TRANSITIONS[source]:
        move_item(actor=alice, item=item, status=target)
        assert BacklogItem.objects.get(pk=item.pk).status == target
    else:
        with pytest.raises(ValidationError) as refused:
            move_item(actor=alice, item=item, status=target)
        message = refused.value.message_dict["status"][0]
        assert Status(source).label in message and Status(target).label in message
        assert BacklogItem.objects.get(pk=item.pk).status == source


def test_closing_records_who_and_when_and_reopening_clears_it(
    alice: Any, bob: Any, item: Any
) -> None:
    _at(item, Status.IN_REVIEW)
    move_item(actor=bob, item=item, status=Status.DONE)
    item.refresh_from_db()
    assert (item.closed_by, item.closed_at is not None) == (bob, True)

    move_item(actor=alice, item=item, status=Status.TODO)
    item.refresh_from_db()
    assert (item.closed_by, item.closed_at) == (None, None)


def test_a_move_is_audited_with_from_and_to(alice: Any, item: Any) -> None:
    move_item(actor=alice, item=item, status=Status.TODO)

    event = AuditEvent.objects.filter(verb="item.moved").get()
    assert (event.before, event.after) == ({"status": "backlog"}, {"status": "todo"})


def test_a_viewer_cannot_file_and_another_team_cannot_change(
    victor: Any, charlie: Any, risk_team: Any, item: Any
) -> None:
    with pytest.raises(PermissionDenied):
        create_item(actor=victor, team=risk_team, title="Nope")
    with pytest.raises(PermissionDenied):
        move_item(actor=charlie, item=item, status=Status.TODO)
    with pytest.raises(PermissionDenied):
        update_item(actor=charlie, item=item, title="Hijacked")


def test_an_assignee_from_another_team_may_change_it(alice: Any, charlie: Any, item: Any) -> None:
    update_item(actor=alice, item=item, assignees=[charlie])

    move_item(actor=charlie, item=item, status=Status.TODO)

    assert BacklogItem.objects.get(pk=item.pk).status == Status.TODO


def test_the_system_files_items_without_a_reporter(risk_team: Any) -> None:
    filed = create_item(actor=None, team=risk_team, title="Drift on amount", kind="drift_alert")

    assert filed.reporter is None
    assert AuditEvent.objects.get(verb="item.created").actor is None


def test_refusals_name_the_field(alice: Any, risk_team: Any) -> None:
    with pytest.raises(ValidationError) as blank:
        create_item(actor=alice, team=risk_team, title="  ")
    with pytest.raises(ValidationError) as closed:
        create_item(actor=alice, team=risk_team, title="Done already", status=Status.DONE)
    with pytest.raises(ValidationError) as kind:
        create_item(actor=alice, team=risk_team, title="Odd", kind="epic")

    assert "title" in blank.value.message_dict
    assert "status" in closed.value.message_dict
    assert "kind" in kind.value.message_dict
    assert not BacklogItem.objects.exists()


def test_labels_are_normalised_and_capped(alice: Any, item: Any) -> None:
    update_item(actor=alice, item=item, labels=["Q3", " q3 ", "data"])
    assert sorted(label.name for label in item.labels.all()) == ["data", "q3"]

    with pytest.raises(ValidationError):
        update_item(actor=alice, item=item, labels=[f"l{n}" for n in range(11)])


def test_a_stale_edit_is_refused(alice: Any, bob: Any, item: Any) -> None:
    update_item(actor=bob, item=item, title="Retrain on Q4 data")

    with pytest.raises(StaleEdit):
        update_item(actor=alice, item=item, expected_revision=1, title="Mine")
    assert BacklogItem.objects.get(pk=item.pk).title == "Retrain on Q4 data"


def test_cards_keep_their_manual_order_in_a_column(alice: Any, risk_team: Any) -> None:
    first, second, third = (
        create_item(actor=alice, team=risk_team, title=title) for title in ("A", "B", "C")
    )

    move_item(actor=alice, item=third, status=Status.BACKLOG, before_item=first)

    column = BacklogItem.objects.filter(status=Status.BACKLOG).order_by("position")
    assert [i.title for i in column] == ["C", "A", "B"]
    assert second.position > first.position
