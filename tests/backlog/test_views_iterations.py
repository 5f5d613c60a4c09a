"""The iteration pages: index, plan one, the page itself (burndown, done, carried over),
and the notes with their history and stale-edit refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from portal.backlog.models import Iteration
from portal.backlog.services.items import create_item, move_item
from portal.backlog.services.iterations import create_iteration, update_iteration_notes

# session, user, roles, iteration + team, items that left it, its items, their assignees,
# their audit events, the notes' history, membership (can edit), the bell
DETAIL_QUERIES = 11


@pytest.fixture
def sprint(alice: Any, risk_team: Any) -> Iteration:
    today = timezone.localdate()
    return create_iteration(
        actor=alice,
        team=risk_team,
        name="Sprint 7",
        start_date=today - timedelta(days=3),
        end_date=today + timedelta(days=4),
    )


def _items(alice: Any, bob: Any, team: Any, sprint: Iteration, count: int) -> list[Any]:
    return [
        create_item(
            actor=alice,
            team=team,
            title=f"Task {n}",
            status="todo",
            iteration=sprint,
            assignees=[alice, bob],
        )
        for n in range(count)
    ]


def test_the_page_groups_items_by_status_and_splits_done_from_still_open(
    client_for: Any, alice: Any, bob: Any, risk_team: Any, sprint: Iteration
) -> None:
    first, second, _ = _items(alice, bob, risk_team, sprint, 3)
    for status in ("in_progress", "in_review", "done"):
        move_item(actor=alice, item=first, status=status)
    move_item(actor=alice, item=second, status="in_progress")

    response = client_for(alice).get(sprint.get_absolute_url())

    page = response.context["page"]
    assert response.status_code == 200
    assert [group.label for group in page.groups] == ["To do", "In progress", "Done"]
    assert [item.pk for item in page.done] == [first.pk]
    assert len(page.carried_over) == 2
    assert page.state == "running"
    html = response.content.decode()
    assert 'data-plotly="burndown-data"' in html and "plotly.min.js" in html
    assert "Edit notes" in html


def test_the_burndown_counts_today_from_the_history(
    client_for: Any, alice: Any, bob: Any, risk_team: Any, sprint: Iteration
) -> None:
    """Everything happened today, after the start: each earlier day is empty, today has 1."""
    first, _ = _items(alice, bob, risk_team, sprint, 2)
    for status in ("in_progress", "in_review", "done"):
        move_item(actor=alice, item=first, status=status)

    page = client_for(alice).get(sprint.get_absolute_url()).context["page"]

    assert page.chart.open_counts == [0, 0, 0, 1]
    assert len(page.chart.days) == 8


def test_the_page_runs_the_same_queries_for_few_or_many_items(
    client_for: Any,
    alice: Any,
    bob: Any,
    risk_team: Any,
    sprint: Iteration,
    django_assert_num_queries: Any,
) -> None:
    client = client_for(alice)
    _items(alice, bob, risk_team, sprint, 3)
    client.get(sprint.get_absolute_url())
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get(sprint.get_absolute_url())

    for item in _items(alice, bob, risk_team, sprint, 27):
        move_item(actor=alice, item=item, status="in_progress")
    update_iteration_notes(actor=alice, iteration=sprint, review_notes="x", retro_notes="y")
    with django_assert_num_queries(DETAIL_QUERIES):
        response = client.get(sprint.get_absolute_url())
    assert len(response.context["page"].carried_over) == 30


def test_an_unknown_iteration_is_a_404(client_for: Any, alice: Any) -> None:
    assert client_for(alice).get("/backlog/iterations/999/").status_code == 404


def test_the_page_takes_only_get(client_for: Any, alice: Any, sprint: Iteration) -> None:
    assert client_for(alice).post(sprint.get_absolute_url()).status_code == 405


def test_outsiders_read_the_page_without_the_edit_link(
    client_for: Any, charlie: Any, sprint: Iteration
) -> None:
    response = client_for(charlie).get(sprint.get_absolute_url())
    assert response.status_code == 200
    assert "Edit notes" not in response.content.decode()


def test_the_index_lists_iterations_with_their_counts(
    client_for: Any, alice: Any, bob: Any, risk_team: Any, sprint: Iteration
) -> None:
    _items(alice, bob, risk_team, sprint, 2)

    response = client_for(alice).get("/backlog/iterations/")

    ((row, state),) = response.context["rows"]
    assert (row.name, row.open_items, row.closed_items, state) == ("Sprint 7", 2, 0, "running")
    assert "New iteration" in response.content.decode()


def test_a_viewer_sees_the_index_without_the_new_button(client_for: Any, victor: Any) -> None:
    response = client_for(victor).get("/backlog/iterations/")
    assert response.status_code == 200
    assert "New iteration" not in response.content.decode()


def test_current_goes_to_my_teams_running_iteration(
    client_for: Any, alice: Any, sprint: Iteration
) -> None:
    response = client_for(alice).get("/backlog/iterations/current/")
    assert response.status_code == 302 and response["Location"] == sprint.get_absolute_url()


def test_current_without_an_iteration_goes_to_the_index(client_for: Any, charlie: Any) -> None:
    response = client_for(charlie).get("/backlog/iterations/current/")
    assert response.status_code == 302 and response["Location"] == "/backlog/iterations/"


def test_a_member_plans_an_iteration(client_for: Any, alice: Any, risk_team: Any) -> None:
    data = {
        "team": risk_team.pk,
        "name": "Sprint 8",
        "start_date": "2025-05-05",
        "end_date": "2025-05-16",
    }

    response = client_for(alice).post("/backlog/iterations/new/", data)

    created = Iteration.objects.get(name="Sprint 8")
    assert response.status_code == 302 and response["Location"] == created.get_absolute_url()
    assert created.team == risk_team


def test_the_plan_form_reports_every_problem_at_once(
    client_for: Any, alice: Any, risk_team: Any, sprint: Iteration
) -> None:
    data = {
        "team": risk_team.pk,
        "name": "Sprint 7",
        "start_date": "2025-05-16",
        "end_date": "2025-05-05",
    }

    response = client_for(alice).post("/backlog/iterations/new/", data)

    assert response.status_code == 200
    assert response.context["form"].errors["end_date"]
    assert not Iteration.objects.filter(start_date="2025-05-16").exists()


def test_the_plan_form_offers_only_my_teams(
    client_for: Any, alice: Any, risk_team: Any, search_team: Any
) -> None:
    data = {
        "team": search_team.pk,
        "name": "Theirs",
        "start_date": "2025-05-05",
        "end_date": "2025-05-16",
    }

    response = client_for(alice).post("/backlog/iterations/new/", data)

    assert response.status_code == 200 and "team" in response.context["form"].errors
    assert not Iteration.objects.filter(name="Theirs").exists()


def test_viewers_and_people_without_a_team_cannot_plan(
    client_for: Any, victor: Any, dana: Any
) -> None:
    assert client_for(victor).get("/backlog/iterations/new/").status_code == 403
    assert client_for(dana).get("/backlog/iterations/new/").status_code == 403


def test_a_member_edits_the_notes_and_the_page_lists_the_history(
    client_for: Any, alice: Any, sprint: Iteration
) -> None:
    client = client_for(alice)
    url = f"/backlog/iterations/{sprint.pk}/notes/"
    data = {
        "revision": sprint.revision,
        "review_notes": "## Shipped\n\n- the **thing**",
        "retro_notes": "<script>alert(1)</script>Good week",
    }

    response = client.post(url, data)

    assert response.status_code == 302
    html = client.get(sprint.get_absolute_url()).content.decode()
    assert "<strong>thing</strong>" in html and "<script>alert" not in html
    assert "edited the review notes and retrospective notes" in html


def test_a_stale_notes_edit_keeps_my_text_and_shows_the_difference(
    client_for: Any, alice: Any, bob: Any, sprint: Iteration
) -> None:
    loaded = sprint.revision
    update_iteration_notes(actor=bob, iteration=sprint, review_notes="Bob's", retro_notes="")

    response = client_for(alice).post(
        f"/backlog/iterations/{sprint.pk}/notes/",
        {"revision": loaded, "review_notes": "Alice's", "retro_notes": ""},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Saved by someone else" in html and "Alice&#x27;s" in html
    assert response.context["form"].data["revision"] == str(loaded + 1)
    assert Iteration.objects.get(pk=sprint.pk).review_notes == "Bob's"


def test_outsiders_and_viewers_cannot_edit_the_notes(
    client_for: Any, charlie: Any, victor: Any, sprint: Iteration
) -> None:
    url = f"/backlog/iterations/{sprint.pk}/notes/"
    assert client_for(charlie).get(url).status_code == 403
    assert client_for(victor).post(url, {"revision": 1, "review_notes": "x"}).status_code == 403
    assert client_for(charlie).get("/backlog/iterations/999/notes/").status_code == 404


def test_the_notes_page_takes_get_and_post_only(
    client_for: Any, alice: Any, sprint: Iteration
) -> None:
    assert client_for(alice).put(f"/backlog/iterations/{sprint.pk}/notes/").status_code == 405
