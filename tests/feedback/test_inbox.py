"""The feedback inbox: filters, keyset pages in a constant number of queries, triage in bulk
(reviewed, or a linked backlog item), and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import inbox_queries
from feedback.models import Feedback, PredictionKey
from portal.backlog.models import BacklogItem
from registry.services.versions import create_version
from tests.feedback.conftest import prediction

INBOX = "/feedback/"
TRIAGE = "/feedback/triage/"


def _ids(response: Any) -> list[str]:
    return [row.feedback.prediction_id for row in response.context["page"].rows]


def _at(day: int, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(2026, 11, day, hour))


@pytest.fixture
def mixed(alice: Any, victor: Any, scorer: Any, other_model: Any, log: Any, give: Any) -> Any:
    """Feedback of several kinds, days, models and versions, one piece reviewed."""
    create_version(actor=alice, model=scorer, version="2.0.0")
    log(scorer, prediction(1), {**prediction(2), "version": "2.0.0"}, by=alice)
    log(other_model, {**prediction(3), "version": "0.1.0"}, by=alice)
    give(scorer, "p-1", by=victor, value="down", comment="wrong plan", at=_at(1))
    give(scorer, "p-2", by=victor, kind="label", value="churn", at=_at(10))
    give(other_model, "p-3", by=victor, value="up", at=_at(20), source="widget")
    reviewed = give(scorer, "p-1", by=alice, kind="rating", value=2, at=_at(25))
    Feedback.objects.filter(pk=reviewed.pk).update(reviewed_at=_at(26), reviewed_by=alice)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["p-1", "p-3", "p-2", "p-1"]),
        ("?model=scorer", ["p-1", "p-2", "p-1"]),
        ("?model=scorer&version=2.0.0", ["p-2"]),
        ("?version=0.1.0", ["p-3"]),
        ("?kind=label", ["p-2"]),
        ("?source=widget", ["p-3"]),
        ("?since=2026-11-10&until=2026-11-20", ["p-3", "p-2"]),
        ("?until=2026-11-01", ["p-1"]),
        ("?comment=yes", ["p-1"]),
        ("?comment=no&model=scorer", ["p-1", "p-2"]),
        ("?triaged=yes", ["p-1"]),
        ("?triaged=no&model=scorer", ["p-2", "p-1"]),
        ("?prediction=p-3", ["p-3"]),
        ("?kind=nonsense", ["p-1", "p-3", "p-2", "p-1"]),  # not an allowed value: no filter
    ],
)
def test_the_inbox_filters(
    client_for: Any, victor: Any, mixed: None, query: str, expected: list[str]
) -> None:
    response = client_for(victor).get(INBOX + query)

    assert response.status_code == 200
    assert _ids(response) == expected


def test_a_row_shows_the_feedback_beside_the_predictions_inputs_and_output(
    client_for: Any, victor: Any, mixed: None
) -> None:
    html = client_for(victor).get(INBOX + "?kind=thumbs&model=scorer").content.decode()

    assert "Thumbs down" in html and "wrong plan" in html
    assert "<dt>age</dt><dd>21</dd>" in html and "<dt>plan</dt><dd>basic</dd>" in html
    assert "Said <strong>stay (70%)</strong>" in html
    assert 'href="/feedback/models/scorer/predictions/p-1/"' in html


def test_a_row_shows_the_first_few_features_and_links_to_the_rest(
    client_for: Any, alice: Any, victor: Any, scorer: Any, log: Any, give: Any
) -> None:
    features = {"age": 40, "lab": {f"m{i}": i for i in range(8)}}
    log(scorer, prediction(1, features=features), by=alice)
    give(scorer, "p-1", by=victor)

    response = client_for(victor).get(INBOX)

    [row] = response.context["page"].rows
    assert row.features == [("age", "40"), *[(f"lab.m{i}", str(i)) for i in range(3)]]
    assert row.more_features == 5
    assert "and 5 more" in response.content.decode()


@pytest.mark.parametrize(
    ("label", "agrees"), [("stay", "agrees with"), ("churn", "said otherwise")]
)
def test_a_corrected_label_says_whether_it_agrees_with_the_model(
    client_for: Any, alice: Any, scorer: Any, log: Any, give: Any, label: str, agrees: str
) -> None:
    log(scorer, prediction(1), by=alice)  # the model said "stay"
    give(scorer, "p-1", by=alice, kind="label", value=label)

    assert agrees in client_for(alice).get(INBOX).content.decode()


def test_an_empty_inbox_says_how_feedback_arrives(client_for: Any, victor: Any) -> None:
    response = client_for(victor).get(INBOX)

    assert response.status_code == 200 and "No feedback yet" in response.content.decode()


def _feedback(
    alice: Any, victor: Any, scorer: Any, log: Any, give: Any, start: int, n: int
) -> None:
    log(scorer, *[prediction(i) for i in range(start, start + n)], by=alice)
    for i in range(start, start + n):
        give(scorer, f"p-{i}", by=victor if i % 2 else alice, comment=f"note {i}")


def _queries(client: Any, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in queries]


def test_the_inbox_runs_the_same_queries_for_2_or_30_rows(
    client_for: Any, alice: Any, victor: Any, scorer: Any, log: Any, give: Any
) -> None:
    """Predictions, versions, people and filed items are joined or read once, not per row."""
    client = client_for(alice)
    _feedback(alice, victor, scorer, log, give, 0, 2)
    client.get(INBOX)  # warm the content-type cache
    few = _queries(client, INBOX)
    few_filtered = _queries(client, INBOX + "?model=scorer&comment=yes")

    _feedback(alice, victor, scorer, log, give, 2, 28)
    client.post(TRIAGE, {"feedback": [f.pk for f in Feedback.objects.all()[:3]], "action": "file"})
    client.post(
        TRIAGE, {"feedback": [f.pk for f in Feedback.objects.all()[:5]], "action": "review"}
    )
    many = _queries(client, INBOX)
    many_filtered = _queries(client, INBOX + "?model=scorer&comment=yes")

    assert len(client.get(INBOX).context["page"].rows) == 30
    assert (len(many), len(many_filtered)) == (len(few), len(few_filtered))
    assert not any("COUNT(" in sql and "feedback_feedback" in sql for sql in many + many_filtered)


def test_pages_go_older_and_back_newer_without_gaps(
    client_for: Any, alice: Any, victor: Any, scorer: Any, log: Any, give: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(inbox_queries, "PAGE_SIZE", 3)
    log(scorer, *[prediction(i) for i in range(7)], by=alice)
    same_time = timezone.now()
    for i in range(7):  # two pieces share their time: the id breaks the tie
        give(scorer, f"p-{i}", by=victor, at=same_time if i in (2, 3) else _at(1 + i))
    client = client_for(victor)
    newest_first = list(Feedback.objects.values_list("prediction_id", flat=True))

    first = client.get(INBOX)
    second = client.get(INBOX, {"after": first.context["page"].older})
    third = client.get(INBOX, {"after": second.context["page"].older})
    back = client.get(INBOX, {"before": third.context["page"].newer})

    assert _ids(first) + _ids(second) + _ids(third) == newest_first
    assert (first.context["page"].newer, third.context["page"].older) == ("", "")
    assert _ids(back) == _ids(second)
    assert 'rel="next"' in first.content.decode() and 'rel="prev"' in third.content.decode()


@pytest.mark.parametrize("cursor", ["junk", "1.x", "9" * 30 + ".1", "-5.3"])
def test_a_bad_cursor_shows_the_newest_page(
    client_for: Any, victor: Any, mixed: None, cursor: str
) -> None:
    response = client_for(victor).get(INBOX, {"after": cursor})

    assert response.status_code == 200 and len(_ids(response)) == 4


# Triage -------------------------------------------------------------------------------------


def test_an_author_marks_feedback_reviewed_in_bulk(client_for: Any, bob: Any, mixed: None) -> None:
    chosen = list(Feedback.objects.filter(reviewed_at__isnull=True, model__name="scorer"))
    back = "/feedback/?model=scorer&triaged=no"

    response = client_for(bob).post(
        TRIAGE, {"feedback": [f.pk for f in chosen], "action": "review", "next": back}
    )

    assert response.status_code == 303 and response["Location"] == back
    for feedback in chosen:
        feedback.refresh_from_db()
        assert feedback.reviewed_at is not None and feedback.reviewed_by == bob
    assert _ids(client_for(bob).get(back)) == []


@pytest.mark.parametrize("person", ["charlie", "victor", "dana"])
def test_only_the_models_authors_mark_it_reviewed(
    request: Any, client_for: Any, mixed: None, person: str
) -> None:
    chosen = [f.pk for f in Feedback.objects.filter(reviewed_at__isnull=True)]

    response = client_for(request.getfixturevalue(person)).post(
        TRIAGE, {"feedback": chosen, "action": "review"}
    )

    assert response.status_code == 403
    assert Feedback.objects.filter(reviewed_at__isnull=False).count() == 1


def test_filing_an_item_links_it_to_the_feedback_and_its_predictions(
    client_for: Any, bob: Any, scorer: Any, mixed: None
) -> None:
    chosen = list(Feedback.objects.filter(model=scorer).order_by("pk")[:2])
    client = client_for(bob)

    response = client.post(TRIAGE, {"feedback": [f.pk for f in chosen], "action": "file"})

    item = BacklogItem.objects.get()
    assert response.status_code == 303 and response["Location"] == item.get_absolute_url()
    assert (item.kind, item.team, item.reporter) == ("feedback", scorer.team, bob)
    assert item.title == "2 pieces of feedback on scorer"
    kinds = ContentType.objects.get_for_models(Feedback, PredictionKey)
    linked = set(item.links.values_list("target_type", "target_id"))
    keys = {f.prediction_key_id for f in chosen}
    assert linked == {(kinds[Feedback].pk, str(f.pk)) for f in chosen} | {
        (kinds[PredictionKey].pk, str(pk)) for pk in keys
    }
    page = client.get(item.get_absolute_url()).content.decode()
    assert 'href="/feedback/models/scorer/predictions/p-1/"' in page
    assert f'href="/feedback/models/scorer/predictions/p-2/#feedback-{chosen[1].pk}"' in page
    inbox = client.get(INBOX).content.decode()
    assert f"#{item.pk} 2 pieces of feedback" in inbox


def test_an_items_description_quotes_comments_as_plain_text(
    client_for: Any, alice: Any, victor: Any, scorer: Any, give: Any
) -> None:
    feedback = give(
        scorer, "p-[x](javascript:alert(1))", by=victor, comment="<script>x</script> **hi**"
    )

    client_for(alice).post(TRIAGE, {"feedback": [feedback.pk], "action": "file"})

    item = BacklogItem.objects.get()
    html = item.description_html
    assert "<script>" not in html and 'href="javascript:' not in html
    assert "“&lt;script&gt;x&lt;/script&gt; **hi**”" in html
    assert item.title.startswith("Thumbs down on scorer p-[x]")


def test_an_item_is_about_one_teams_models(
    client_for: Any, alice: Any, charlie: Any, victor: Any, scorer: Any, give: Any
) -> None:
    from registry.services.models import create_model

    theirs = create_model(actor=charlie, name="ranker", title="Ranker", team=charlie.teams.first())
    chosen = [give(scorer, "p-1", by=victor).pk, give(theirs, "p-1", by=victor).pk]

    response = client_for(alice).post(TRIAGE, {"feedback": chosen, "action": "file"}, follow=True)

    assert "one team" in response.content.decode()
    assert not BacklogItem.objects.exists()


def test_viewers_and_outsiders_file_no_items(
    client_for: Any, victor: Any, charlie: Any, scorer: Any, give: Any
) -> None:
    chosen = [give(scorer, "p-1", by=victor).pk]

    assert (
        client_for(victor).post(TRIAGE, {"feedback": chosen, "action": "file"}).status_code == 403
    )
    assert (
        client_for(charlie).post(TRIAGE, {"feedback": chosen, "action": "file"}).status_code == 403
    )
    assert not BacklogItem.objects.exists()


def test_triage_refuses_get_an_empty_choice_and_too_many(
    client_for: Any, alice: Any, mixed: None
) -> None:
    client = client_for(alice)

    assert client.get(TRIAGE).status_code == 405
    empty = client.post(TRIAGE, {"action": "review"}, follow=True).content.decode()
    many = client.post(TRIAGE, {"feedback": list(range(1, 52)), "action": "review"}, follow=True)
    bad = client.post(TRIAGE, {"feedback": [1], "action": "delete"}, follow=True).content.decode()

    assert "Choose the feedback first" in empty
    assert "At most 50 pieces" in many.content.decode()
    assert "not one of the available choices" in bad
    assert Feedback.objects.filter(reviewed_at__isnull=False).count() == 1


def test_triage_goes_back_only_to_this_site(client_for: Any, alice: Any, mixed: None) -> None:
    chosen = [Feedback.objects.first().pk]

    response = client_for(alice).post(
        TRIAGE, {"feedback": chosen, "action": "review", "next": "https://evil.example/"}
    )

    assert response["Location"] == INBOX


# CSV ----------------------------------------------------------------------------------------


def _csv(response: Any) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_csv_holds_the_filtered_feedback_with_its_predictions(
    client_for: Any, victor: Any, mixed: None
) -> None:
    response = client_for(victor).get("/feedback/export.csv?model=scorer&kind=thumbs")

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="feedback-scorer.csv"'
    [row] = _csv(response)
    assert {k: row[k] for k in ("model", "version", "prediction id", "kind", "score")} == {
        "model": "scorer",
        "version": "1.0.0",
        "prediction id": "p-1",
        "kind": "thumbs",
        "score": "0.0",
    }
    assert (row["comment"], row["predicted label"]) == ("wrong plan", "stay")
    assert row["features"] == '{"age": 21, "plan": "basic"}'


def test_the_csv_quotes_formulas_and_stops_at_its_cap(
    client_for: Any, victor: Any, scorer: Any, give: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(inbox_queries, "CSV_MAX_ROWS", 2)
    monkeypatch.setattr(inbox_queries.csv_rows, "__defaults__", (2,))
    for i in range(3):
        give(scorer, f"p-{i}", by=victor, comment="=HYPERLINK(1)", at=_at(1) + timedelta(hours=i))

    rows = _csv(client_for(victor).get("/feedback/export.csv"))

    assert [row["prediction id"] for row in rows] == ["p-2", "p-1"]
    assert rows[0]["comment"] == "'=HYPERLINK(1)"


def test_a_models_inbox_is_the_inbox_filtered_to_it(
    client_for: Any, victor: Any, scorer: Any
) -> None:
    client = client_for(victor)

    assert client.get("/feedback/models/scorer/inbox/")["Location"] == "/feedback/?model=scorer"
    assert client.get("/feedback/models/nothing/inbox/").status_code == 404


def test_the_triage_buttons_show_only_to_who_may_use_them(
    client_for: Any, bob: Any, charlie: Any, victor: Any, mixed: None
) -> None:
    """The model's authors mark reviewed; anyone who plans work files items; viewers neither."""
    pages = {
        person.username: client_for(person).get(INBOX).content.decode()
        for person in (bob, charlie, victor)
    }

    assert "Mark reviewed" in pages["bob"] and "File a backlog item" in pages["bob"]
    assert "Mark reviewed" not in pages["charlie"] and "File a backlog item" in pages["charlie"]
    assert "Mark reviewed" not in pages["victor"] and 'name="feedback"' not in pages["victor"]
