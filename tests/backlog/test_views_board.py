"""The board: columns by status with counts, cards, filters, moves by button and by drop."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.backlog.choices import Status
from portal.backlog.models import BacklogItem
from portal.backlog.queries import CLOSED_CARDS_SHOWN
from portal.backlog.services.items import create_item, move_item
from portal.backlog.services.links import add_link


def _column(response: Any, status: str) -> list[int]:
    columns = {column.status: column for column in response.context["board"].columns}
    return [card.item.pk for card in columns[status].cards]


def _counts(response: Any) -> dict[str, int]:
    return {column.status: column.count for column in response.context["board"].columns}


def test_the_board_shows_a_column_per_status_with_its_count(
    client_for: Any, alice: Any, bob: Any, risk_team: Any, item: Any, churn: Any
) -> None:
    """Each card: #id, linked title, kind, priority, assignees, labels and the linked model."""
    todo = create_item(
        actor=alice,
        team=risk_team,
        title="Fix the label leak",
        kind="bug",
        priority="P0",
        status=Status.TODO,
        assignees=[bob],
        labels=["data"],
        links=[churn],
    )

    response = client_for(bob).get("/backlog/")

    assert response.status_code == 200
    assert _column(response, Status.BACKLOG) == [item.pk]
    assert _column(response, Status.TODO) == [todo.pk]
    assert _counts(response)[Status.TODO] == 1
    html = response.content.decode()
    for text in (f"#{todo.pk}", "Fix the label leak", "Bug", "P0", ">data<", "churn-risk"):
        assert text in html
    assert f'href="{todo.get_absolute_url()}"' in html
    assert 'href="/models/churn-risk/"' in html
    assert [c.label for c in response.context["board"].columns] == [
        "Backlog",
        "To do",
        "In progress",
        "In review",
        "Done",
        "Won't do",
    ]


def test_closed_columns_show_only_the_latest_cards_but_count_all(
    client_for: Any, alice: Any, risk_team: Any
) -> None:
    for number in range(CLOSED_CARDS_SHOWN + 2):
        move_item(
            actor=alice,
            item=create_item(actor=alice, team=risk_team, title=f"Dropped {number}"),
            status=Status.WONT_DO,
        )

    response = client_for(alice).get("/backlog/")

    assert _counts(response)[Status.WONT_DO] == CLOSED_CARDS_SHOWN + 2
    assert len(_column(response, Status.WONT_DO)) == CLOSED_CARDS_SHOWN
    assert "2 older" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=bug", ["bug"]),
        ("assignee=bob", ["bug"]),
        ("label=data", ["bug"]),
        ("discipline=engineering", ["bug"]),
        ("q=leak", ["bug"]),
        ("mine=true", ["bug"]),
        ("", ["bug", "task"]),
        ("kind=nonsense", ["bug", "task"]),  # outside the allowlist: ignored
    ],
)
def test_the_board_filters_with_the_shared_filterset(
    client_for: Any, alice: Any, bob: Any, risk_team: Any, item: Any, query: str, expected: list
) -> None:
    create_item(
        actor=alice,
        team=risk_team,
        title="Label leak",
        kind="bug",
        discipline="engineering",
        assignees=[bob],
        labels=["data"],
    )

    response = client_for(bob).get(f"/backlog/?{query}")

    kinds = sorted(
        c.item.kind for column in response.context["board"].columns for c in column.cards
    )
    assert kinds == expected


def test_the_board_filters_by_model_and_iteration(
    client_for: Any, alice: Any, risk_team: Any, item: Any, churn: Any, churn_v1: Any
) -> None:
    about_version = create_item(actor=alice, team=risk_team, title="About 1.0.0")
    add_link(actor=alice, item=about_version, target=churn_v1)

    response = client_for(alice).get(f"/backlog/?model={churn.pk}")

    assert _column(response, Status.BACKLOG) == [about_version.pk]
    assert f'<option value="{churn.pk}" selected>churn-risk</option>' in response.content.decode()


def test_an_htmx_request_gets_only_the_board(client_for: Any, alice: Any, item: Any) -> None:
    response = client_for(alice).get("/backlog/?q=Retrain", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board"')
    assert "<html" not in html
    assert response["Vary"] == "HX-Request" or "HX-Request" in response["Vary"]


def test_a_card_offers_the_allowed_next_statuses_as_buttons(
    client_for: Any, alice: Any, item: Any
) -> None:
    html = client_for(alice).get("/backlog/?kind=task").content.decode()

    assert f'action="/backlog/items/{item.pk}/move/"' in html
    assert f'aria-label="Move #{item.pk} to To do"' in html
    assert f'aria-label="Move #{item.pk} to Won&#x27;t do"' in html
    assert f'aria-label="Move #{item.pk} to Done"' not in html
    assert 'name="next" value="/backlog/?kind=task"' in html
    assert 'draggable="true"' in html


def test_a_button_moves_the_card_and_returns_to_the_filtered_board(
    client_for: Any, bob: Any, item: Any
) -> None:
    """Works without JavaScript: POST, then 303 back to the board with its filters."""
    response = client_for(bob).post(
        f"/backlog/items/{item.pk}/move/", {"status": "todo", "next": "/backlog/?kind=task"}
    )

    assert response.status_code == 303
    assert response["Location"] == "/backlog/?kind=task"
    item.refresh_from_db()
    assert item.status == Status.TODO


def test_a_drop_places_the_card_above_another_and_answers_with_the_board(
    client_for: Any, alice: Any, bob: Any, risk_team: Any, item: Any
) -> None:
    """What backlog.js posts: status and the card it was dropped above, with HX-Request."""
    first = create_item(actor=alice, team=risk_team, title="First", status=Status.TODO)
    client = client_for(bob)

    response = client.post(
        f"/backlog/items/{item.pk}/move/",
        {"status": "todo", "before": first.pk, "next": "/backlog/"},
        headers={"HX-Request": "true"},
        follow=True,
    )

    assert response.content.decode().lstrip().startswith('<div id="board"')
    assert _column(response, Status.TODO) == [item.pk, first.pk]
    assert "moved to To do" in response.content.decode()


def test_a_move_the_workflow_refuses_is_reported_on_the_board(
    client_for: Any, bob: Any, item: Any
) -> None:
    response = client_for(bob).post(
        f"/backlog/items/{item.pk}/move/", {"status": "done", "next": "/backlog/"}, follow=True
    )

    item.refresh_from_db()
    assert item.status == Status.BACKLOG
    assert "An item cannot move from Backlog to" in response.content.decode()
    assert "from Backlog it may move to: To do, Won&#x27;t do." in response.content.decode()


def test_a_move_never_redirects_off_the_site(client_for: Any, bob: Any, item: Any) -> None:
    response = client_for(bob).post(
        f"/backlog/items/{item.pk}/move/", {"status": "todo", "next": "https://evil.example/"}
    )

    assert response["Location"] == item.get_absolute_url()


def test_viewers_see_the_board_without_move_controls_and_cannot_move(
    client_for: Any, victor: Any, item: Any
) -> None:
    client = client_for(victor)

    html = client.get("/backlog/").content.decode()
    response = client.post(f"/backlog/items/{item.pk}/move/", {"status": "todo"})

    assert item.title in html
    assert "move-form" not in html and 'draggable="true"' not in html and "New item" not in html
    assert response.status_code == 403
    assert BacklogItem.objects.get(pk=item.pk).status == Status.BACKLOG


def test_outsiders_cannot_move_another_teams_card(client_for: Any, charlie: Any, item: Any) -> None:
    html = client_for(charlie).get("/backlog/").content.decode()
    response = client_for(charlie).post(f"/backlog/items/{item.pk}/move/", {"status": "todo"})

    assert "move-form" not in html
    assert response.status_code == 403


def test_moving_an_unknown_item_is_404_and_get_is_405(client_for: Any, bob: Any, item: Any) -> None:
    client = client_for(bob)

    assert client.post("/backlog/items/999/move/", {"status": "todo"}).status_code == 404
    assert client.get(f"/backlog/items/{item.pk}/move/").status_code == 405
    assert client.post("/backlog/").status_code == 405


def _board_queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _fill(alice: Any, bob: Any, team: Any, churn: Any, number: int, start: int = 0) -> None:
    statuses = [Status.BACKLOG, Status.TODO, Status.IN_PROGRESS]
    for n in range(start, start + number):
        item = create_item(
            actor=alice,
            team=team,
            title=f"Item {n}",
            status=statuses[n % 3],
            assignees=[alice, bob],
            labels=["data", f"l{n}"],
            links=[churn],
        )
        if n % 4 == 0:
            move_item(actor=alice, item=item, status=Status.WONT_DO)


def test_the_board_runs_the_same_queries_for_5_or_100_items(
    client_for: Any, alice: Any, bob: Any, risk_team: Any, churn: Any
) -> None:
    """Cards, assignees, labels, links and their pages are read per board, not per card."""
    client = client_for(bob)
    _fill(alice, bob, risk_team, churn, 5)
    client.get("/backlog/")  # warm the content-type cache
    few = _board_queries(client, "/backlog/?label=data")

    _fill(alice, bob, risk_team, churn, 95, start=5)
    many = _board_queries(client, "/backlog/?label=data")

    assert few == many
