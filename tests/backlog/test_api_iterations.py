"""The iterations API: plan one, read them, change the notes with If-Match."""

from __future__ import annotations

from typing import Any

import pytest

from portal.backlog.models import Iteration

ITERATIONS = "/api/v1/iterations/"


def test_a_member_plans_an_iteration(api_for: Any, alice: Any) -> None:
    payload = {
        "team": "risk-modelling",
        "name": "Sprint 8",
        "start_date": "2026-03-16",
        "end_date": "2026-03-27",
    }

    response = api_for(alice).post(ITERATIONS, payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["team"], body["name"], body["revision"]) == ("risk-modelling", "Sprint 8", 1)
    assert body["url"] == f"http://testserver{ITERATIONS}{body['id']}/"
    assert response["ETag"] == '"1"'


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_date": "2026-03-01"}, "end_date"),
        ({"name": "Sprint 7"}, "name"),
        ({"team": "no-such-team"}, "team"),
        ({"review_notes": "early"}, "review_notes"),
    ],
)
def test_a_bad_iteration_names_the_field(
    api_for: Any, alice: Any, sprint: Iteration, change: dict[str, Any], field: str
) -> None:
    payload = {"team": "risk-modelling", "name": "S", "start_date": "2026-03-16"}
    payload |= {"end_date": "2026-03-27", **change}

    response = api_for(alice).post(ITERATIONS, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Iteration.objects.count() == 1


def test_iterations_are_listed_and_read(api_for: Any, victor: Any, sprint: Iteration) -> None:
    api = api_for(victor)

    listed = api.get(ITERATIONS).json()["results"]
    alone = api.get(f"{ITERATIONS}{sprint.pk}/")

    assert listed == [alone.json()] and alone["ETag"] == '"1"'
    assert api.get(f"{ITERATIONS}999999/").status_code == 404


def test_notes_are_changed_with_if_match_and_a_note_left_out_is_kept(
    api_for: Any, alice: Any, sprint: Iteration
) -> None:
    api = api_for(alice)
    url = f"{ITERATIONS}{sprint.pk}/"

    first = api.patch(url, {"review_notes": "Shipped **v2**."}, format="json", HTTP_IF_MATCH='"1"')
    second = api.patch(url, {"retro_notes": "Fewer meetings."}, format="json")

    assert first.status_code == second.status_code == 200, second.json()
    body = second.json()
    assert (body["review_notes"], body["retro_notes"]) == ("Shipped **v2**.", "Fewer meetings.")
    assert "<strong>v2</strong>" in body["review_notes_html"]
    assert second["ETag"] == '"3"'


def test_stale_notes_are_a_409(api_for: Any, alice: Any, bob: Any, sprint: Iteration) -> None:
    url = f"{ITERATIONS}{sprint.pk}/"
    api_for(bob).patch(url, {"review_notes": "Bob's"}, format="json")

    response = api_for(alice).patch(
        url, {"review_notes": "Mine"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 409 and response["ETag"] == '"2"'
    assert Iteration.objects.get().review_notes == "Bob's"


def test_iteration_notes_refuse_other_fields(api_for: Any, alice: Any, sprint: Iteration) -> None:
    response = api_for(alice).patch(
        f"{ITERATIONS}{sprint.pk}/", {"name": "Renamed", "mood": "good"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"name", "mood"}


def test_a_viewer_and_another_team_cannot_plan_or_write_notes(
    api_for: Any, victor: Any, charlie: Any, sprint: Iteration
) -> None:
    payload = {
        "team": "risk-modelling",
        "name": "S",
        "start_date": "2026-03-16",
        "end_date": "2026-03-27",
    }
    url = f"{ITERATIONS}{sprint.pk}/"

    for person in (victor, charlie):
        api = api_for(person)
        assert api.post(ITERATIONS, payload, format="json").status_code == 403
        assert api.patch(url, {"review_notes": "x"}, format="json").status_code == 403
    assert Iteration.objects.get().review_notes == ""
