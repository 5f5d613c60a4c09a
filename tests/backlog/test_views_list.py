"""The list: the board's filters, sortable columns, 25 a page, and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.backlog.choices import Status
from portal.backlog.models import BacklogItem
from portal.backlog.services.items import create_item, move_item


def _ids(response: Any) -> list[int]:
    return [row.item.pk for row in response.context["rows"]]


def _csv(response: Any) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def test_the_list_shows_items_newest_change_first(
    client_for: Any, alice: Any, risk_team: Any, item: Any
) -> None:
    later = create_item(actor=alice, team=risk_team, title="Later", labels=["data"])

    response = client_for(alice).get("/backlog/list/")

    assert response.status_code == 200
    assert _ids(response) == [later.pk, item.pk]
    html = response.content.decode()
    assert "Retrain on Q3 data" in html and ">data<" in html


def test_the_list_filters_by_status_and_the_board_filters(
    client_for: Any, alice: Any, bob: Any, risk_team: Any, item: Any
) -> None:
    bug = create_item(actor=alice, team=risk_team, title="Bug", kind="bug", assignees=[bob])
    move_item(actor=alice, item=bug, status=Status.TODO)
    client = client_for(bob)

    assert _ids(client.get("/backlog/list/?status=todo")) == [bug.pk]
    assert _ids(client.get("/backlog/list/?kind=task")) == [item.pk]
    assert _ids(client.get("/backlog/list/?mine=true")) == [bug.pk]
    assert _ids(client.get("/backlog/list/?q=Retrain")) == [item.pk]


def test_the_columns_sort_by_priority_due_date_and_last_change(
    client_for: Any, alice: Any, risk_team: Any
) -> None:
    low = create_item(
        actor=alice, team=risk_team, title="Low", priority="P3", due_date=date(2030, 1, 1)
    )
    high = create_item(
        actor=alice, team=risk_team, title="High", priority="P0", due_date=date(2031, 1, 1)
    )
    client = client_for(alice)

    by_priority = client.get("/backlog/list/?sort=priority")
    assert _ids(by_priority) == [high.pk, low.pk]
    assert _ids(client.get("/backlog/list/?sort=-priority")) == [low.pk, high.pk]
    assert _ids(client.get("/backlog/list/?sort=due_date")) == [low.pk, high.pk]
    html = by_priority.content.decode()
    assert 'aria-sort="ascending"><a href="?sort=-priority">' in html
    assert '<a href="?sort=due_date">' in html


def test_the_list_is_paginated_by_25(client_for: Any, alice: Any, risk_team: Any) -> None:
    for number in range(27):
        create_item(actor=alice, team=risk_team, title=f"Item {number}")
    client = client_for(alice)

    first = client.get("/backlog/list/?kind=task")
    second = client.get("/backlog/list/?kind=task&page=2")

    assert len(first.context["rows"]) == 25
    assert len(second.context["rows"]) == 2
    assert "?kind=task&amp;page=2" in first.content.decode()


def test_an_htmx_request_gets_only_the_table(client_for: Any, alice: Any, item: Any) -> None:
    response = client_for(alice).get("/backlog/list/?q=Re", headers={"HX-Request": "true"})

    assert response.content.decode().lstrip().startswith('<div id="item-table"')


def test_the_list_runs_the_same_queries_for_5_or_30_items(
    client_for: Any, alice: Any, bob: Any, risk_team: Any, churn: Any
) -> None:
    def fill(start: int, number: int) -> None:
        for n in range(start, start + number):
            create_item(
                actor=alice,
                team=risk_team,
                title=f"Item {n}",
                assignees=[alice, bob],
                labels=[f"l{n}"],
                links=[churn],
            )

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            client.get("/backlog/list/?sort=-priority")
        return len(queries)

    client = client_for(bob)
    fill(0, 5)
    client.get("/backlog/list/")  # warm the content-type cache
    few = count()
    fill(5, 25)
    assert count() == few


def test_the_csv_export_has_every_filtered_row_with_its_columns(
    client_for: Any, alice: Any, bob: Any, risk_team: Any, item: Any, churn: Any
) -> None:
    for number in range(30):  # more than a page of the list: the export has them all
        create_item(actor=alice, team=risk_team, title=f"Bulk {number}", kind="bug")
    filed = create_item(
        actor=alice,
        team=risk_team,
        title="Label leak",
        kind="experiment",
        priority="P1",
        discipline="engineering",
        assignees=[alice, bob],
        labels=["data", "leak"],
        due_date=date(2030, 5, 1),
        links=[churn],
    )

    response = client_for(alice).get("/backlog/list.csv?q=leak")
    everything = _csv(client_for(alice).get("/backlog/list.csv"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="backlog.csv"'
    rows = _csv(response)
    assert rows[0] == [
        *("id", "title", "kind", "status", "priority", "discipline", "team", "assignees"),
        *("labels", "iteration", "due date", "links", "created", "updated"),
    ]
    assert rows[1][:12] == [
        str(filed.pk),
        "Label leak",
        "Experiment",
        "Backlog",
        "P1 · high",
        "Engineering",
        "Risk Modelling",
        "alice, bob",
        "data, leak",
        "",
        "2030-05-01",
        "churn-risk",
    ]
    assert rows[1][12].startswith(str(filed.created_at.year))
    assert len(rows) == 2
    assert len(everything) == 1 + 32


def test_the_csv_export_defuses_formulas(client_for: Any, alice: Any, risk_team: Any) -> None:
    """A cell that a spreadsheet would run (= + - @) starts with a quote instead."""
    for title in ('=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "Plain"):
        create_item(actor=alice, team=risk_team, title=title)

    rows = _csv(client_for(alice).get("/backlog/list.csv?sort=updated_at"))

    assert [row[1] for row in rows[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "Plain",
    ]


def test_viewers_read_the_list_and_export_but_anonymous_people_sign_in(
    client_for: Any, client: Any, victor: Any, item: Any
) -> None:
    viewer = client_for(victor)

    assert viewer.get("/backlog/list/").status_code == 200
    assert "New item" not in viewer.get("/backlog/list/").content.decode()
    assert len(_csv(viewer.get("/backlog/list.csv"))) == 2
    assert client.get("/backlog/list/").status_code == 302
    assert viewer.post("/backlog/list/").status_code == 405
    assert BacklogItem.objects.count() == 1
