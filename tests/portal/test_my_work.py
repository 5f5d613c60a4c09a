"""The home page's "my work": my open items by status, my mentions, later capabilities."""

from __future__ import annotations

from typing import Any

from portal.backlog.services.comments import add_comment
from portal.backlog.services.items import create_item, move_item
from tests.portal.test_home_and_health import HOME_QUERIES


def _file(alice: Any, team: Any, title: str, status: str = "todo") -> Any:
    return create_item(actor=alice, team=team, title=title, status=status, assignees=[alice])


def test_assigned_to_me_lists_my_open_items_by_status(
    client_for: Any, alice: Any, bob: Any, risk_team: Any
) -> None:
    todo = _file(alice, risk_team, "Retrain on Q3 data")
    doing = _file(alice, risk_team, "Check the calibration", status="in_progress")
    closed = _file(alice, risk_team, "Old work", status="in_progress")
    move_item(actor=alice, item=closed, status="wont_do")
    create_item(actor=bob, team=risk_team, title="Bob's own", assignees=[bob])

    response = client_for(alice).get("/")

    groups = [(label, [i.title for i in items]) for label, items in response.context["assigned"]]
    assert groups == [("To do", [todo.title]), ("In progress", [doing.title])]
    page = response.content.decode()
    section = page[page.index('id="assigned-heading"') : page.index('id="mentions-heading"')]
    assert f'href="{todo.get_absolute_url()}"' in section
    assert "Old work" not in section and "Bob&#x27;s own" not in section


def test_mentions_show_the_comments_that_name_me_with_their_item(
    client_for: Any, alice: Any, bob: Any, risk_team: Any
) -> None:
    item = _file(alice, risk_team, "Retrain on Q3 data")
    comment = add_comment(actor=bob, item=item, body="@alice the new fold is ready")
    add_comment(actor=bob, item=item, body="nobody mentioned here")

    response = client_for(alice).get("/")

    assert [c.pk for c in response.context["mentions"]] == [comment.pk]
    html = response.content.decode()
    assert f'href="/backlog/items/{item.pk}/#comment-{comment.pk}"' in html
    assert "the new fold is ready" in html


def test_later_capabilities_are_placeholders_without_data(client_for: Any, alice: Any) -> None:
    html = client_for(alice).get("/").content.decode()

    for title in ("Approvals waiting for me", "Drift alerts", "Feedback to triage"):
        assert title in html
    # Releases arrived: the approvals panel is real (tests/releases/test_pages.py).
    assert html.count("will appear here") == 2


def test_nothing_assigned_and_no_mentions_say_so(client_for: Any, alice: Any) -> None:
    html = client_for(alice).get("/").content.decode()
    assert "No open backlog items are assigned to you." in html
    assert "Nobody has mentioned you yet." in html


def test_home_runs_the_same_queries_for_few_or_many_items(
    client_for: Any, alice: Any, bob: Any, risk_team: Any, django_assert_num_queries: Any
) -> None:
    """My work costs a query for my items and one for my mentions, however many there are."""
    client = client_for(alice)
    first = _file(alice, risk_team, "Item 0")
    add_comment(actor=bob, item=first, body="@alice one")
    client.get("/")
    # alice has a teammate now: bob's events are read too, and they link to their items.
    extra = 2
    with django_assert_num_queries(HOME_QUERIES + extra):
        client.get("/")

    for n in range(1, 25):
        item = _file(alice, risk_team, f"Item {n}", status="in_progress")
        add_comment(actor=bob, item=item, body=f"@alice number {n}")
    with django_assert_num_queries(HOME_QUERIES + extra):
        response = client.get("/")
    assert sum(len(items) for _, items in response.context["assigned"]) == 25
    assert len(response.context["mentions"]) == 10
