"""The backlog in a real browser: an engineer moves a card, the item's timeline and the
assignee's notifications say so; a card dragged to another column moves too."""

from __future__ import annotations

from typing import Any

import pytest

from portal.backlog.choices import Status
from portal.backlog.models import BacklogItem
from portal.backlog.services.items import create_item
from portal.roles import Role
from portal.services.accounts import create_team, create_user

pytestmark = pytest.mark.browser

ALICE = ("alice", "pw-alice-123")
BOB = ("bob", "pw-bob-12345")


@pytest.fixture
def todo_item(transactional_db: None) -> BacklogItem:
    """An item of the Risk team in To do, assigned to alice; bob (Engineer) is her teammate."""
    alice = create_user(username=ALICE[0], password=ALICE[1], roles=[Role.DATA_SCIENTIST])
    bob = create_user(username=BOB[0], password=BOB[1], roles=[Role.ENGINEER], first_name="Bob")
    team = create_team(name="Risk Modelling", members=[alice, bob])
    return create_item(
        actor=alice,
        team=team,
        title="Retrain on Q3 data",
        status=Status.TODO,
        assignees=[alice],
    )


def test_an_engineer_moves_a_card_and_the_assignee_is_told(
    browser: Any, live_server: Any, page: Any, page_log: Any, login: Any, todo_item: BacklogItem
) -> None:
    # given: bob on the board
    login(page, *BOB)
    page.goto("/backlog/")
    todo = page.locator("section.board-column[data-status=todo]")
    assert todo.get_by_role("link", name="Retrain on Q3 data").is_visible()

    # when: he moves the card with its button (no drag needed)
    with page.expect_navigation():
        page.get_by_role("button", name=f"Move #{todo_item.pk} to In progress").click()

    # then: the card is in In progress, and the item's timeline says who moved it
    moved = page.locator("section.board-column[data-status=in_progress]")
    assert moved.get_by_role("link", name="Retrain on Q3 data").is_visible()
    assert page.locator("section.board-column[data-status=todo] .board-card").count() == 0
    with page.expect_navigation():
        moved.get_by_role("link", name="Retrain on Q3 data").click()
    timeline = page.locator(".timeline")
    assert "Bob moved it from To do to In progress" in timeline.inner_text()

    # and: alice finds it in her notifications
    context = browser.new_context(base_url=live_server.url)
    try:
        alice_page = context.new_page()
        login(alice_page, *ALICE)
        alice_page.goto("/notifications/")
        text = alice_page.locator("main").inner_text()
    finally:
        context.close()
    assert f"#{todo_item.pk} Retrain on Q3 data" in text
    assert "In progress" in text
    assert page_log.console_errors == [] and page_log.page_errors == []


def test_a_card_dragged_to_the_next_column_moves_without_a_reload(
    page: Any, page_log: Any, login: Any, todo_item: BacklogItem
) -> None:
    login(page, *BOB)
    page.goto("/backlog/")
    page.evaluate("window.__sameDocument = true")

    card = page.locator(f"#item-{todo_item.pk}")
    card.drag_to(page.locator("section.board-column[data-status=in_progress] .board-cards"))

    moved = page.locator("section.board-column[data-status=in_progress]")
    moved.get_by_role("link", name="Retrain on Q3 data").wait_for()
    assert page.evaluate("window.__sameDocument") is True  # the board was swapped in place
    todo_item.refresh_from_db()
    assert todo_item.status == Status.IN_PROGRESS
    assert page_log.console_errors == [] and page_log.page_errors == []
