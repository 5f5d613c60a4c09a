"""Links from items to registry objects, and the open items each object lists."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from portal.backlog.choices import Status
from portal.backlog.models import BacklogItem
from portal.backlog.services.items import create_item, move_item
from portal.backlog.services.links import add_link, open_items_about, resolve_target


@pytest.mark.parametrize("kind", ["model", "version"])
def test_an_item_links_to_each_registry_object(
    alice: Any, item: Any, churn: Any, churn_v1: Any, kind: str
) -> None:
    target = {"model": churn, "version": churn_v1}[kind]

    link = add_link(actor=alice, item=item, target=resolve_target(kind, target.pk))

    assert link.target == target
    assert list(open_items_about(target)) == [item]


def test_closed_items_leave_the_objects_open_list(alice: Any, item: Any, churn: Any) -> None:
    add_link(actor=alice, item=item, target=churn)
    BacklogItem.objects.filter(pk=item.pk).update(status=Status.IN_REVIEW)
    item.refresh_from_db()

    move_item(actor=alice, item=item, status=Status.DONE)

    assert list(open_items_about(churn)) == []


def test_unknown_types_and_missing_objects_are_named(db: Any) -> None:
    with pytest.raises(ValidationError) as unknown:
        resolve_target("spaceship", 1)
    with pytest.raises(ValidationError) as missing:
        resolve_target("model", 999)

    assert "model" in unknown.value.message_dict["type"][0]
    assert "999" in missing.value.message_dict["id"][0]


def test_a_link_is_made_once(alice: Any, risk_team: Any, churn: Any) -> None:
    filed = create_item(actor=alice, team=risk_team, title="About churn", links=[churn, churn])

    assert filed.links.count() == 1
    with pytest.raises(ValidationError):
        add_link(actor=alice, item=filed, target=churn)
