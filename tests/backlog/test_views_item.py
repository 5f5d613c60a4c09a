"""An item's page (description, links, comments, timeline), its forms, and the model page's
open-items panel."""

from __future__ import annotations

from typing import Any

from portal.backlog.choices import Status
from portal.backlog.models import BacklogItem, Comment, ItemLink
from portal.backlog.services.comments import add_comment
from portal.backlog.services.items import move_item, update_item
from portal.backlog.services.links import add_link
from portal.notifications.models import Notification


def test_the_item_page_shows_description_links_comments_and_timeline(
    client_for: Any, alice: Any, bob: Any, item: Any, churn: Any
) -> None:
    update_item(actor=alice, item=item, description="Use **Q3**.", priority="P1")
    add_link(actor=alice, item=item, target=churn)
    comment = add_comment(actor=bob, item=item, body="On it, @alice.")
    move_item(actor=bob, item=item, status=Status.TODO)

    response = client_for(bob).get(f"/backlog/items/{item.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>Q3</strong>" in html
    assert '<a href="/models/churn-risk/">churn-risk</a>' in html
    assert f'id="comment-{comment.pk}"' in html
    assert [f"{e.actor} {e.text}" for e in response.context["page"].timeline] == [
        "alice created the item",
        "alice changed the priority from P2 · normal to P1 · high",
        "alice linked it to churn-risk",
        "bob commented",
        "bob moved it from Backlog to To do",
    ]
    assert f'href="#comment-{comment.pk}">commented' in html


def test_the_item_page_offers_its_next_statuses(client_for: Any, bob: Any, item: Any) -> None:
    html = client_for(bob).get(f"/backlog/items/{item.pk}/").content.decode()

    assert f'aria-label="Move #{item.pk} to To do"' in html
    assert f'name="next" value="/backlog/items/{item.pk}/"' in html
    assert "Edit item" in html


def test_viewers_read_the_item_without_any_control(
    client_for: Any, alice: Any, victor: Any, item: Any, churn: Any
) -> None:
    add_link(actor=alice, item=item, target=churn)

    html = client_for(victor).get(f"/backlog/items/{item.pk}/").content.decode()

    assert item.title in html
    for control in ("move-form", "Edit item", "comment-form", "Remove the link"):
        assert control not in html


def test_unknown_items_are_404(client_for: Any, victor: Any, db: Any) -> None:
    assert client_for(victor).get("/backlog/items/999/").status_code == 404


def test_a_comment_is_added_and_its_mentions_are_told(
    client_for: Any, alice: Any, bob: Any, item: Any
) -> None:
    response = client_for(bob).post(
        f"/backlog/items/{item.pk}/comments/", {"body": "Ready for review, @alice."}
    )

    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/backlog/items/{item.pk}/#comment-{comment.pk}"
    assert Notification.objects.filter(recipient=alice, kind="mention").count() == 1


def test_an_empty_comment_is_refused_with_an_error_summary(
    client_for: Any, bob: Any, item: Any
) -> None:
    response = client_for(bob).post(f"/backlog/items/{item.pk}/comments/", {"body": "  "})

    html = response.content.decode()
    assert response.status_code == 200
    assert "data-error-summary" in html and 'href="#id_body"' in html
    assert Comment.objects.count() == 0


def test_viewers_cannot_comment(client_for: Any, victor: Any, item: Any) -> None:
    response = client_for(victor).post(f"/backlog/items/{item.pk}/comments/", {"body": "Hi"})

    assert response.status_code == 403
    assert Comment.objects.count() == 0


def test_an_editor_removes_a_link_and_others_cannot(
    client_for: Any, alice: Any, bob: Any, charlie: Any, item: Any, churn: Any
) -> None:
    link = add_link(actor=alice, item=item, target=churn)
    url = f"/backlog/items/{item.pk}/links/{link.pk}/remove/"

    refused = client_for(charlie).post(url)
    response = client_for(bob).post(url)

    assert refused.status_code == 403
    assert response.status_code == 303
    assert not ItemLink.objects.exists()
    assert client_for(bob).post(url).status_code == 404


def test_the_edit_form_is_guarded_and_previews_the_description(
    client_for: Any, bob: Any, item: Any
) -> None:
    html = client_for(bob).get(f"/backlog/items/{item.pk}/edit/").content.decode()

    assert "data-guard-unsaved" in html
    assert 'hx-post="/backlog/preview/"' in html
    assert f'name="revision" value="{item.revision}"' in html
    preview = client_for(bob).post("/backlog/preview/", {"description": "<script>x</script>*hi*"})
    assert "<em>hi</em>" in preview.content.decode()
    assert "<script>" not in preview.content.decode()


def _edit(**changes: Any) -> dict[str, Any]:
    data = {
        "title": "Retrain on Q3 data",
        "description": "",
        "kind": "task",
        "priority": "P2",
        "discipline": "both",
        "labels": "",
        "revision": 1,
    }
    return data | changes


def test_an_editor_saves_the_item(client_for: Any, alice: Any, bob: Any, item: Any) -> None:
    response = client_for(bob).post(
        f"/backlog/items/{item.pk}/edit/",
        _edit(title="Retrain on Q4", priority="P1", assignees=["alice"], labels="Data, drift"),
    )

    item.refresh_from_db()
    assert response.status_code == 302
    assert (item.title, item.priority) == ("Retrain on Q4", "P1")
    assert [p.username for p in item.assignees.all()] == ["alice"]
    assert sorted(label.name for label in item.labels.all()) == ["data", "drift"]
    page = client_for(bob).get(f"/backlog/items/{item.pk}/")
    assert page.context["page"].timeline[-1].text == (
        "changed the title from “Retrain on Q3 data” to “Retrain on Q4”, "
        "the priority from P2 · normal to P1 · high, the assignees and the labels"
    )


def test_a_stale_edit_keeps_the_text_and_shows_what_differs(
    client_for: Any, alice: Any, bob: Any, item: Any
) -> None:
    update_item(actor=alice, item=item, title="Renamed by alice")

    response = client_for(bob).post(f"/backlog/items/{item.pk}/edit/", _edit(title="Mine"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Saved by someone else" in html and 'value="Mine"' in html
    assert BacklogItem.objects.get(pk=item.pk).title == "Renamed by alice"


def test_a_refused_edit_shows_an_error_summary(client_for: Any, bob: Any, item: Any) -> None:
    response = client_for(bob).post(f"/backlog/items/{item.pk}/edit/", _edit(title=""))

    assert 'href="#id_title"' in response.content.decode()


def test_viewers_and_outsiders_cannot_edit(
    client_for: Any, victor: Any, charlie: Any, item: Any
) -> None:
    for person in (victor, charlie):
        assert client_for(person).get(f"/backlog/items/{item.pk}/edit/").status_code == 403
        response = client_for(person).post(f"/backlog/items/{item.pk}/edit/", _edit(title="X"))
        assert response.status_code == 403
    assert client_for(victor).post("/backlog/preview/", {"description": "x"}).status_code == 403


def test_the_new_item_form_defaults_to_my_first_team(
    client_for: Any, bob: Any, risk_team: Any
) -> None:
    response = client_for(bob).get("/backlog/new/")

    assert response.context["form"]["team"].value() == risk_team.pk
    assert "data-guard-unsaved" in response.content.decode()


def test_an_item_about_a_model_is_filed_with_its_link(
    client_for: Any, bob: Any, risk_team: Any, churn: Any, churn_v1: Any
) -> None:
    client = client_for(bob)
    form = client.get(f"/backlog/new/?about=version:{churn_v1.pk}")
    assert "churn-risk 1.0.0" in form.content.decode()

    response = client.post(
        "/backlog/new/",
        _edit(title="Check 1.0.0 drift", team=risk_team.pk, about=f"version:{churn_v1.pk}"),
    )

    item = BacklogItem.objects.get()
    assert response["Location"] == item.get_absolute_url()
    assert [link.target for link in item.links.all()] == [churn_v1]
    assert item.reporter == bob


def test_an_unknown_about_is_404(client_for: Any, bob: Any, db: Any) -> None:
    assert client_for(bob).get("/backlog/new/?about=model:999").status_code == 404
    assert client_for(bob).get("/backlog/new/?about=spaceship:1").status_code == 404


def test_viewers_cannot_file_items(client_for: Any, victor: Any, risk_team: Any) -> None:
    assert client_for(victor).get("/backlog/new/").status_code == 403
    response = client_for(victor).post("/backlog/new/", _edit(team=risk_team.pk))
    assert response.status_code == 403
    assert not BacklogItem.objects.exists()


def test_the_model_page_lists_its_open_items_and_files_new_ones(
    client_for: Any, alice: Any, victor: Any, item: Any, churn: Any, churn_v1: Any
) -> None:
    add_link(actor=alice, item=item, target=churn_v1)

    html = client_for(alice).get("/models/churn-risk/").content.decode()
    viewer = client_for(victor).get("/models/churn-risk/").content.decode()

    assert f'<a href="/backlog/items/{item.pk}/">#{item.pk} Retrain on Q3 data</a>' in html
    assert f'href="/backlog/new/?about=model:{churn.pk}">New item about this' in html
    assert f"/backlog/new/?about=version:{churn_v1.pk}" in html
    assert "Retrain on Q3 data" in viewer and "New item about this" not in viewer
