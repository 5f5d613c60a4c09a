"""The backlog API: items, moves, comments, links and iterations, with every refusal."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from portal.backlog.choices import Status
from portal.backlog.models import BacklogItem, ItemLink, Iteration
from portal.backlog.services.items import create_item, move_item
from portal.backlog.services.iterations import create_iteration
from portal.backlog.services.links import link_items
from portal.notifications.models import Notification
from portal.services.tokens import create_token

ITEMS = "/api/v1/backlog-items/"
ITERATIONS = "/api/v1/iterations/"
# count, the page of items (team, reporter and closer joined), assignees, labels, links.
ITEM_LIST_QUERIES = 5

REPRESENTATION = {
    "id",
    "url",
    "title",
    "description",
    "description_html",
    "kind",
    "status",
    "priority",
    "discipline",
    "team",
    "assignees",
    "reporter",
    "labels",
    "iteration",
    "due_date",
    "position",
    "links",
    "closed_by",
    "closed_at",
    "revision",
    "created_at",
    "updated_at",
    "next_statuses",
}


def _url(item: Any, tail: str = "") -> str:
    return f"{ITEMS}{item.pk}/{tail}"


@pytest.fixture
def read_only_api(alice: Any) -> APIClient:
    """Alice's personal token of read scope: it reads all she may, and writes nothing."""
    _, key = create_token(user=alice, name="dashboards", scope="read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# Items ------------------------------------------------------------------------------------


def test_a_member_files_an_item_with_people_labels_and_links(
    api_for: Any, alice: Any, bob: Any, churn: Any, churn_v1: Any, sprint: Iteration
) -> None:
    """201 with the stored item in the documented shape; the new assignee is told."""
    payload = {
        "team": "risk-modelling",
        "title": "Scores are NaN for new customers",
        "description": "Seen on **v1**.",
        "kind": "bug",
        "priority": "P1",
        "assignees": ["bob"],
        "labels": ["Scoring", "urgent"],
        "iteration": sprint.pk,
        "due_date": "2026-03-10",
        "links": [{"type": "model", "id": churn.pk}, {"type": "version", "id": churn_v1.pk}],
    }

    response = api_for(alice).post(ITEMS, payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == REPRESENTATION
    item = BacklogItem.objects.get()
    assert response["ETag"] == '"1"'
    assert body["url"] == f"http://testserver{_url(item)}"
    assert (body["team"], body["reporter"], body["assignees"]) == (
        "risk-modelling",
        "alice",
        ["bob"],
    )
    assert (body["labels"], body["iteration"], body["due_date"]) == (
        ["scoring", "urgent"],
        sprint.pk,
        "2026-03-10",
    )
    assert "<strong>v1</strong>" in body["description_html"]
    assert (body["status"], body["next_statuses"]) == ("backlog", ["todo", "wont_do"])
    assert (body["closed_by"], body["closed_at"], body["revision"]) == (None, None, 1)
    link = ItemLink.objects.get(target_id=str(churn.pk), target_type__model="registeredmodel")
    assert body["links"][0] == {
        "type": "model",
        "id": churn.pk,
        "repr": str(churn),
        "url": f"http://testserver{_url(item, f'links/{link.pk}/')}",
    }
    assert body["links"][1]["type"] == "version"
    assert Notification.objects.filter(recipient=bob, kind="assigned").count() == 1


def test_an_item_reads_the_same_listed_and_alone(api_for: Any, alice: Any, item: Any) -> None:
    api = api_for(alice)

    listed = api.get(ITEMS).json()["results"]
    alone = api.get(_url(item))

    assert listed == [alone.json()]
    assert alone["ETag"] == f'"{item.revision}"'


def test_the_list_filters_with_the_backlog_filterset(
    api_for: Any, alice: Any, bob: Any, risk_team: Any, churn: Any
) -> None:
    """Status, assignee, label, search, model and mine: the same filters as the pages."""
    linked = create_item(
        actor=alice, team=risk_team, title="Drift on tenure", labels=["drift"], links=[churn]
    )
    mine = create_item(actor=alice, team=risk_team, title="Retrain", assignees=[alice])
    done = create_item(actor=alice, team=risk_team, title="Old", status=Status.TODO)
    move_item(actor=alice, item=done, status=Status.WONT_DO)
    api = api_for(alice)

    def titles(query: str) -> set[str]:
        response = api.get(f"{ITEMS}?{query}")
        assert response.status_code == 200, response.json()
        return {row["title"] for row in response.json()["results"]}

    assert titles("status=wont_do") == {"Old"}
    assert titles("status=backlog&status=todo") == {linked.title, mine.title}
    assert titles("assignee=alice") == titles("mine=true") == {mine.title}
    assert titles("label=drift") == titles(f"model={churn.pk}") == {linked.title}
    assert titles("q=retrain") == {mine.title}


def test_an_unknown_filter_value_is_a_400(api_for: Any, alice: Any) -> None:
    response = api_for(alice).get(f"{ITEMS}?status=archived")

    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_the_list_runs_the_same_queries_for_5_or_50_items(
    api_for: Any, alice: Any, bob: Any, risk_team: Any, churn: Any, django_assert_num_queries: Any
) -> None:
    """Assignees, labels and links are prefetched: five queries for any number of rows."""

    def populate(count: int) -> None:
        for i in range(count):
            create_item(
                actor=alice,
                team=risk_team,
                title=f"Item {i}",
                assignees=[alice, bob],
                labels=["a", "b"],
                links=[churn],
            )

    api = api_for(alice)
    populate(5)
    with django_assert_num_queries(ITEM_LIST_QUERIES):
        api.get(f"{ITEMS}?page_size=200")
    populate(45)
    with django_assert_num_queries(ITEM_LIST_QUERIES):
        rows = api.get(f"{ITEMS}?page_size=200").json()["results"]
    assert len(rows) == 50
    assert rows[-1]["assignees"] == ["alice", "bob"] and rows[-1]["labels"] == ["a", "b"]
    assert rows[-1]["links"][0]["type"] == "model"


def test_an_unknown_item_is_a_404(api_for: Any, alice: Any) -> None:
    assert api_for(alice).get(f"{ITEMS}999999/").status_code == 404


def test_a_member_changes_fields_people_and_labels(
    api_for: Any, alice: Any, bob: Any, item: Any, sprint: Iteration
) -> None:
    """PATCH with the ETag read: the fields change, the revision moves on, bob is told."""
    api = api_for(alice)
    etag = api.get(_url(item))["ETag"]
    payload = {
        "title": "Retrain on Q4 data",
        "priority": "P0",
        "assignees": ["bob"],
        "labels": ["retraining"],
        "iteration": sprint.pk,
        "due_date": None,
    }

    response = api.patch(_url(item), payload, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["title"], body["priority"], body["assignees"]) == (
        "Retrain on Q4 data",
        "P0",
        ["bob"],
    )
    assert (body["labels"], body["iteration"], body["revision"]) == (["retraining"], sprint.pk, 2)
    assert response["ETag"] == '"2"'
    assert Notification.objects.filter(recipient=bob, kind="assigned").count() == 1


def test_a_stale_if_match_is_a_409_with_the_current_etag(
    api_for: Any, alice: Any, bob: Any, item: Any
) -> None:
    stale = api_for(alice).get(_url(item))["ETag"]
    api_for(bob).patch(_url(item), {"title": "Bob's title"}, format="json")

    response = api_for(alice).patch(
        _url(item), {"title": "Alice's title"}, format="json", HTTP_IF_MATCH=stale
    )

    assert response.status_code == 409
    assert response["ETag"] == '"2"'
    assert "detail" in response.json()["errors"]
    assert BacklogItem.objects.get().title == "Bob's title"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"status": "done"}, "status"),
        ({"links": []}, "links"),
        ({"reporter": "bob"}, "reporter"),
        ({"title": ""}, "title"),
        ({"kind": "epic"}, "kind"),
    ],
)
def test_a_patch_names_what_it_cannot_take(
    api_for: Any, alice: Any, item: Any, payload: dict[str, Any], field: str
) -> None:
    """Unknown, read-only and elsewhere-changed fields: 400 naming them, nothing changed."""
    response = api_for(alice).patch(_url(item), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert BacklogItem.objects.get().revision == 1


def test_status_is_changed_by_move_not_patch(api_for: Any, alice: Any, item: Any) -> None:
    response = api_for(alice).patch(_url(item), {"status": "todo"}, format="json")

    assert "/move/" in response.json()["errors"]["status"][0]


def test_an_unknown_assignee_is_a_400_naming_them(
    api_for: Any, alice: Any, victor: Any, item: Any
) -> None:
    api = api_for(alice)
    filed = api.post(
        ITEMS, {"team": "risk-modelling", "title": "T", "assignees": ["zed"]}, format="json"
    )
    changed = api.patch(_url(item), {"assignees": ["alice", "nobody"]}, format="json")

    assert filed.status_code == changed.status_code == 400
    assert "'zed'" in filed.json()["errors"]["assignees"][0]
    assert changed.json()["errors"]["assignees"] == ["No active person with username 'nobody'."]
    assert BacklogItem.objects.count() == 1


@pytest.mark.parametrize(
    ("link", "field", "words"),
    [
        ({"type": "spaceship", "id": 1}, "type", "Unknown link type 'spaceship'"),
        ({"type": "model", "id": 424242}, "id", "No model with id 424242"),
        ({"type": "model", "id": 0}, "id", "greater than or equal to 1"),
        ({"type": "model"}, "id", "required"),
        ({"type": "model", "id": 1, "note": "x"}, "note", "Unknown field"),
    ],
)
def test_a_bad_link_is_a_400_naming_why(
    api_for: Any, alice: Any, item: Any, link: dict[str, Any], field: str, words: str
) -> None:
    """Filed with the item or added alone, a link to nothing is refused the same way."""
    api = api_for(alice)
    filed = api.post(
        ITEMS, {"team": "risk-modelling", "title": "T", "links": [link]}, format="json"
    )
    added = api.post(_url(item, "links/"), link, format="json")

    assert filed.status_code == added.status_code == 400
    assert words in filed.json()["errors"]["links"][0][field][0]
    assert words in added.json()["errors"][field][0]
    assert BacklogItem.objects.count() == 1 and not ItemLink.objects.exists()


def test_an_iteration_of_another_team_is_refused(
    api_for: Any, charlie: Any, search_team: Any, item: Any, alice: Any
) -> None:
    theirs = create_iteration(
        actor=charlie,
        team=search_team,
        name="S1",
        start_date=datetime.date(2026, 1, 5),
        end_date=datetime.date(2026, 1, 16),
    )

    response = api_for(alice).patch(_url(item), {"iteration": theirs.pk}, format="json")

    assert response.status_code == 400
    assert "another team" in response.json()["errors"]["iteration"][0]


def test_a_viewer_reads_but_cannot_file_or_change(api_for: Any, victor: Any, item: Any) -> None:
    api = api_for(victor)

    assert api.get(ITEMS).status_code == 200
    assert api.get(_url(item)).status_code == 200
    assert (
        api.post(ITEMS, {"team": "risk-modelling", "title": "T"}, format="json").status_code == 403
    )
    assert api.post(ITEMS, {"nonsense": 1}, format="json").status_code == 403  # before the body
    assert api.patch(_url(item), {"title": "Mine"}, format="json").status_code == 403
    assert api.post(_url(item, "move/"), {"status": "todo"}, format="json").status_code == 403
    assert api.post(_url(item, "comments/"), {"body": "hi"}, format="json").status_code == 403
    assert BacklogItem.objects.get().title == item.title


def test_another_team_cannot_file_change_move_or_link(
    api_for: Any, charlie: Any, churn: Any, item: Any
) -> None:
    """403 naming the team, for a whole body as much as for a bad one."""
    api = api_for(charlie)

    filed = api.post(ITEMS, {"team": "risk-modelling", "title": "T"}, format="json")
    changed = api.patch(_url(item), {"title": "Hijacked"}, format="json")
    moved = api.post(_url(item, "move/"), {"status": "todo"}, format="json")
    linked = api.post(_url(item, "links/"), {"type": "model", "id": churn.pk}, format="json")

    assert [r.status_code for r in (filed, changed, moved, linked)] == [403] * 4
    assert "Risk Modelling" in filed.json()["errors"]["detail"][0]
    item.refresh_from_db()
    assert (item.title, item.status, item.links.count()) == ("Retrain on Q3 data", "backlog", 0)


def test_a_read_scope_token_reads_but_cannot_write(
    read_only_api: APIClient, item: Any, churn: Any
) -> None:
    assert read_only_api.get(ITEMS).status_code == 200
    writes = [
        read_only_api.post(ITEMS, {"team": "risk-modelling", "title": "T"}, format="json"),
        read_only_api.patch(_url(item), {"title": "T"}, format="json"),
        read_only_api.post(_url(item, "move/"), {"status": "todo"}, format="json"),
        read_only_api.post(_url(item, "comments/"), {"body": "x"}, format="json"),
        read_only_api.post(_url(item, "links/"), {"type": "model", "id": churn.pk}, format="json"),
        read_only_api.post(ITERATIONS, {}, format="json"),
    ]

    assert [response.status_code for response in writes] == [403] * len(writes)
    assert "read-only" in writes[0].json()["errors"]["detail"][0]


def test_items_are_closed_not_deleted(api_for: Any, alice: Any, item: Any) -> None:
    """No DELETE or PUT: an item that will not be done moves to won't do."""
    api = api_for(alice)

    assert api.delete(_url(item)).status_code == 405
    assert api.put(_url(item), {"title": "T"}, format="json").status_code == 405
    assert BacklogItem.objects.filter(pk=item.pk).exists()


# Moving -----------------------------------------------------------------------------------


def test_a_move_follows_the_workflow_and_records_who_closed(
    api_for: Any, alice: Any, item: Any
) -> None:
    api = api_for(alice)
    for step in ("todo", "in_progress", "in_review"):
        assert api.post(_url(item, "move/"), {"status": step}, format="json").status_code == 200

    response = api.post(_url(item, "move/"), {"status": "done"}, format="json", HTTP_IF_MATCH='"4"')

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["closed_by"], body["next_statuses"]) == ("done", "alice", ["todo"])
    assert body["closed_at"] is not None and response["ETag"] == '"5"'


def test_an_illegal_move_is_a_400_naming_from_and_to(api_for: Any, alice: Any, item: Any) -> None:
    response = api_for(alice).post(_url(item, "move/"), {"status": "done"}, format="json")

    assert response.status_code == 400
    message = response.json()["errors"]["status"][0]
    assert "from Backlog to" in message and "Done" in message and "To do" in message
    assert BacklogItem.objects.get().status == "backlog"


def test_a_move_places_the_item_above_another(
    api_for: Any, alice: Any, risk_team: Any, item: Any
) -> None:
    first = create_item(actor=alice, team=risk_team, title="First", status=Status.TODO)
    create_item(actor=alice, team=risk_team, title="Second", status=Status.TODO)
    api = api_for(alice)

    response = api.post(_url(item, "move/"), {"status": "todo", "before": first.pk}, format="json")

    assert response.status_code == 200, response.json()
    column = api.get(f"{ITEMS}?status=todo").json()["results"]
    assert [row["title"] for row in column] == ["Retrain on Q3 data", "First", "Second"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "archived"}, "status"),
        ({"status": "todo", "before": 999999}, "before"),
        ({}, "status"),
        ({"status": "todo", "after": 1}, "after"),
    ],
)
def test_a_bad_move_names_the_field(
    api_for: Any, alice: Any, item: Any, payload: dict[str, Any], field: str
) -> None:
    response = api_for(alice).post(_url(item, "move/"), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_stale_move_is_a_409(api_for: Any, alice: Any, item: Any) -> None:
    response = api_for(alice).post(
        _url(item, "move/"), {"status": "todo"}, format="json", HTTP_IF_MATCH='"7"'
    )

    assert response.status_code == 409
    assert BacklogItem.objects.get().status == "backlog"


# Comments ---------------------------------------------------------------------------------


def test_a_comment_is_listed_and_its_mention_notifies_once(
    api_for: Any, alice: Any, bob: Any, item: Any
) -> None:
    """@bob twice in one comment, and a second comment naming no one: one notification."""
    api = api_for(alice)

    response = api.post(
        _url(item, "comments/"), {"body": "@bob can you check? cc @bob"}, format="json"
    )
    api.post(_url(item, "comments/"), {"body": "Never mind."}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["author"], body["mentions"]) == ("alice", ["bob"])
    assert "@bob" in body["body_html"]
    notes = Notification.objects.filter(recipient=bob, kind="mention")
    assert notes.count() == 1
    assert notes.get().url.endswith(f"#comment-{body['id']}")
    listed = api_for(bob).get(_url(item, "comments/")).json()["results"]
    assert [c["body"] for c in listed] == ["@bob can you check? cc @bob", "Never mind."]


def test_a_bad_comment_is_a_400_and_an_unknown_item_a_404(
    api_for: Any, alice: Any, item: Any
) -> None:
    api = api_for(alice)

    blank = api.post(_url(item, "comments/"), {"body": "   "}, format="json")
    extra = api.post(_url(item, "comments/"), {"body": "x", "author": "bob"}, format="json")

    assert blank.status_code == extra.status_code == 400
    assert "body" in blank.json()["errors"] and "author" in extra.json()["errors"]
    assert api.get(f"{ITEMS}999999/comments/").status_code == 404
    assert api.post(f"{ITEMS}999999/comments/", {"body": "x"}, format="json").status_code == 404


def test_anyone_who_works_may_comment_on_another_teams_item(
    api_for: Any, charlie: Any, item: Any
) -> None:
    response = api_for(charlie).post(
        _url(item, "comments/"), {"body": "Seen it too"}, format="json"
    )

    assert response.status_code == 201


# Links ------------------------------------------------------------------------------------


def test_a_member_links_and_unlinks(api_for: Any, alice: Any, churn_v1: Any, item: Any) -> None:
    api = api_for(alice)

    added = api.post(_url(item, "links/"), {"type": "version", "id": churn_v1.pk}, format="json")
    again = api.post(_url(item, "links/"), {"type": "version", "id": churn_v1.pk}, format="json")

    assert added.status_code == 201, added.json()
    assert added.json()["repr"] == str(churn_v1) and added.json()["id"] == churn_v1.pk
    assert again.status_code == 400 and "already linked" in again.json()["errors"]["links"][0]
    assert api.get(_url(item)).json()["links"] == [added.json()]
    assert api.delete(added.json()["url"]).status_code == 204
    assert not ItemLink.objects.exists()


def test_a_link_is_removed_only_through_its_own_item(
    api_for: Any, alice: Any, charlie: Any, risk_team: Any, churn: Any, item: Any
) -> None:
    """Another item's link is a 404; another team's outsider gets a 403."""
    other = create_item(actor=alice, team=risk_team, title="Other")
    (link,) = link_items(actor=alice, item=item, targets=[churn])

    assert api_for(alice).delete(_url(other, f"links/{link.pk}/")).status_code == 404
    assert api_for(charlie).delete(_url(item, f"links/{link.pk}/")).status_code == 403
    assert api_for(alice).delete(_url(item, "links/999999/")).status_code == 404
    assert ItemLink.objects.filter(pk=link.pk).exists()


# Hostile input on real rows ---------------------------------------------------------------

# Raw JSON values: the schema test's path parameters never name a backlog row, so the same
# classes of value are sent here to every field of every write on a real item.
HOSTILE = {
    "huge-int": str(2**70),
    "negative": "-1",
    "fraction": "1.5",
    "bool": "true",
    "null": "null",
    "empty-list": "[]",
    "nested-list": "[[[]]]",
    "object": '{"k": {"k": "v"}}',
    "one-megabyte": '"' + "x" * 1_000_000 + '"',
    "deep-list": "[" * 5_000 + "]" * 5_000,
    "nul": '"a\\u0000b"',
    "lone-surrogate": '"a\\ud800b"',
}


def test_hostile_values_in_any_field_are_refused_below_500(
    api_for: Any, alice: Any, churn: Any, item: Any, sprint: Iteration
) -> None:
    """Every write, every field in turn set to each hostile value: never a 5xx."""
    (link,) = link_items(actor=alice, item=item, targets=[churn])
    writes = {
        ("post", ITEMS): {"team": '"risk-modelling"', "title": '"T"', "description": '""'}
        | dict.fromkeys(
            ["kind", "priority", "discipline", "status", "iteration", "due_date"], "null"
        )
        | dict.fromkeys(["assignees", "labels", "links"], "[]"),
        ("patch", _url(item)): {"title": '"T"', "assignees": '["alice"]', "labels": '["a"]'},
        ("post", _url(item, "move/")): {"status": '"todo"', "before": f"{item.pk}"},
        ("post", _url(item, "comments/")): {"body": '"hello @bob"'},
        ("post", _url(item, "links/")): {"type": '"model"', "id": f"{churn.pk}"},
        ("post", ITERATIONS): {
            "team": '"risk-modelling"',
            "name": '"S9"',
            "start_date": '"2026-01-01"',
            "end_date": '"2026-01-02"',
        },
        ("patch", f"{ITERATIONS}{sprint.pk}/"): {"review_notes": '"r"', "retro_notes": '"r"'},
        ("post", "/api/v1/notifications/mark-read/"): {"ids": "[1]"},
    }
    api = api_for(alice)  # the test client re-raises whatever became a 500
    answered = set()
    for (method, url), plain in writes.items():
        for field in plain:
            for value in HOSTILE.values():
                fields = {**plain, field: value}
                body = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"
                with transaction.atomic():
                    response = api.generic(method.upper(), url, body, "application/json")
                    transaction.set_rollback(True)
                assert response.status_code < 500, (method, url, field, value[:40])
                answered.add(response.status_code)
    assert api.delete(_url(item, f"links/{link.pk}/")).status_code == 204
    assert answered <= {200, 201, 400, 413}
