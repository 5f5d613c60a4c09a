"""Team activity: what people in my teams did, as sentences linked to what they changed.

The home page shows my teammates' events and my own; someone in no team is told who can add
them to one; the model page's activity reads the same sentences.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.activity import describe, people_events
from portal.models import AuditEvent
from portal.services.audit import record_event
from portal.services.tokens import create_token
from registry.models import RegisteredModel
from registry.services.artifacts import store_artifact
from registry.services.model_cards import update_card
from registry.services.models import create_model
from registry.services.versions import create_version, delete_version, set_version_status
from tests.registry.onnx_files import linear_onnx

VERSION_URL = "/models/wine-cultivar/versions/1.1.0/"


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def wine(alice: Any, bob: Any, risk_team: Any) -> RegisteredModel:
    """Bob (named Bob Stone) registers wine-cultivar 1.1.0, moves it on and uploads its file."""
    bob.first_name, bob.last_name = "Bob", "Stone"
    bob.save(update_fields=["first_name", "last_name"])
    model = create_model(actor=bob, name="wine-cultivar", title="Wine cultivar", team=risk_team)
    version = create_version(actor=bob, model=model, version="1.1.0")
    set_version_status(actor=bob, version=version, status="candidate")
    upload = _onnx_upload()
    store_artifact(actor=bob, version=version, upload=upload)
    return model


def _onnx_upload() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("wine.onnx", linear_onnx(), "application/octet-stream")


def _entries(response: Any, key: str) -> list[str]:
    return [entry.text for entry in response.context[key]]


# Home: my teams' work -----------------------------------------------------------------------


def test_home_tells_what_my_teammates_did_in_sentences(client_for: Any, alice: Any, wine: Any):
    """Bob's registration, status move and upload read as sentences, newest first."""
    response = client_for(alice).get("/")

    assert _entries(response, "team_activity") == [
        "Bob Stone uploaded the artifact of wine-cultivar 1.1.0",
        "Bob Stone moved wine-cultivar 1.1.0 to candidate",
        "Bob Stone registered wine-cultivar 1.1.0",
        "Bob Stone registered wine-cultivar",
    ]
    html = response.content.decode()
    assert "My teams' recent activity" in html
    assert "version.status_changed" not in html and "artifact.uploaded" not in html


def test_each_sentence_links_to_the_model_or_version_it_names(
    client_for: Any, alice: Any, wine: Any
) -> None:
    """A version, its card and its artifact link to the version page; a model to its page."""
    card = wine.versions.get().card
    update_card(actor=card.version.created_by, card=card, sections={"intended_use": "Wine."})

    html = client_for(alice).get("/").content.decode()

    assert f'edited the <a href="{VERSION_URL}">card of wine-cultivar 1.1.0</a>' in html
    assert f'uploaded the <a href="{VERSION_URL}">artifact of wine-cultivar 1.1.0</a>' in html
    assert f'moved <a href="{VERSION_URL}">wine-cultivar 1.1.0</a> to candidate' in html
    assert 'registered <a href="/models/wine-cultivar/">wine-cultivar</a>' in html


def test_home_leaves_out_other_teams_and_my_teammates_tokens(
    client_for: Any, alice: Any, bob: Any, charlie: Any, search_team: Any, wine: Any
) -> None:
    """Charlie is in another team; Bob's API tokens are his alone."""
    create_model(actor=charlie, name="query-ranker", title="Query ranker", team=search_team)
    create_token(user=bob, name="laptop", scope="read")

    team = _entries(client_for(alice).get("/"), "team_activity")

    assert not any("query-ranker" in sentence or "token" in sentence for sentence in team)
    assert len(team) == 4


def test_my_own_events_read_as_sentences_too(client_for: Any, alice: Any, wine: Any) -> None:
    """My recent activity says what I did, in words, after "You"; not in the team list."""
    version = wine.versions.get()
    set_version_status(actor=alice, version=version, status="draft")

    response = client_for(alice).get("/")

    assert _entries(response, "recent_events")[0] == "You moved wine-cultivar 1.1.0 to draft"
    assert not any(s.startswith("You") for s in _entries(response, "team_activity"))


def test_a_deleted_version_is_named_but_not_linked(client_for: Any, alice: Any, wine: Any):
    """Its page is gone, so the sentence names it without a link."""
    version = wine.versions.get()
    set_version_status(actor=alice, version=version, status="draft")
    delete_version(actor=alice, version=version)

    html = client_for(alice).get("/").content.decode()

    assert "You deleted <em>wine-cultivar 1.1.0</em>" in html
    assert VERSION_URL not in html


def test_an_unknown_verb_reads_as_words_never_as_a_code(
    client_for: Any, alice: Any, bob: Any, wine: Any
) -> None:
    """A verb no phrase names yet still makes a sentence about its target."""
    record_event(actor=bob, verb="deployment.approved", target=wine.versions.get())
    record_event(actor=bob, verb="experiment.run_start")

    response = client_for(alice).get("/")

    assert _entries(response, "team_activity")[:2] == [
        "Bob Stone recorded “run start” for an experiment",
        "Bob Stone approved wine-cultivar 1.1.0",
    ]
    assert "deployment.approved" not in response.content.decode()


def test_a_phrase_missing_its_detail_falls_back_to_words() -> None:
    """A status move recorded without its status does not say "moved … to ."."""
    event = AuditEvent(verb="version.status_changed", target_repr="x 1.0.0")

    assert describe(event, actor=None).text == "Handoff changed the status of x 1.0.0"


# session, user, teams, their members, my teammates' newest events, mine, the pages of their
# targets (one query for the registry's), live workers, the viewer's roles, my open items,
# my mentions, the bell's unread count
TEAM_HOME_QUERIES = 12


def test_home_runs_the_same_queries_for_few_or_many_team_events(
    client_for: Any,
    alice: Any,
    bob: Any,
    dana: Any,
    risk_team: Any,
    wine: Any,
    django_assert_num_queries,
) -> None:
    """However many events, people and kinds of target, the home page reads them at once."""
    risk_team.members.add(dana)
    client = client_for(alice)
    client.get("/")  # warm the content-type cache
    with django_assert_num_queries(TEAM_HOME_QUERIES):
        client.get("/")

    for minor in range(10):
        version = create_version(actor=alice, model=wine, version=f"2.{minor}.0")
        update_card(actor=alice, card=version.card, sections={"intended_use": f"Use {minor}."})
        set_version_status(actor=bob, version=version, status="candidate")
        record_event(actor=dana, verb="deployment.approved", target=version)

    with django_assert_num_queries(TEAM_HOME_QUERIES):
        response = client.get("/")
    assert len(response.context["team_activity"]) == 10
    assert len(response.context["recent_events"]) == 10


# Home: someone in no team -------------------------------------------------------------------


def _staff(username: str, *, first_name: str = "", email: str = "", perm: bool = True) -> Any:
    from portal.services.accounts import create_user

    user = create_user(username=username, password="pw-staff-12345", first_name=first_name)
    user.email, user.is_staff = email, True
    user.save(update_fields=["email", "is_staff"])
    if perm:
        user.user_permissions.add(Permission.objects.get(codename="change_team"))
    return user


def test_someone_in_no_team_is_told_who_can_add_them(
    client_for: Any, victor: Any, superuser: Any, alice: Any
) -> None:
    """The admins who may staff teams are named, with a mail link when they have an address."""
    _staff("sam", first_name="Sam", email="sam@example.com")
    _staff("pat", first_name="Pat", perm=False)  # staff, but may not change teams

    response = client_for(victor).get("/")
    html = response.content.decode()

    assert "You are in no team yet" in html
    assert [admin.username for admin in response.context["team_admins"]] == ["root", "sam"]
    assert '<a href="mailto:sam@example.com">Sam</a>' in html and "<strong>root</strong>" in html
    assert "Pat" not in html
    assert "My teams' recent activity" not in html


def test_without_any_admin_the_next_step_still_says_whom_to_ask(
    client_for: Any, victor: Any
) -> None:
    """No admin yet: the page says so instead of naming nobody."""
    html = client_for(victor).get("/").content.decode()

    assert "You are in no team yet" in html and "make someone an admin" in html


def test_a_team_member_sees_no_next_step(client_for: Any, alice: Any, superuser: Any) -> None:
    """People in a team see their teams, not the way into one."""
    response = client_for(alice).get("/")

    assert "You are in no team yet" not in response.content.decode()
    assert response.context["team_admins"] == []


# The model page -----------------------------------------------------------------------------


def test_the_model_page_activity_reads_as_sentences_linked_to_their_targets(
    client_for: Any, alice: Any, victor: Any, wine: Any
) -> None:
    """The version, card and artifact link to the version page; the model to its own."""
    version = wine.versions.get()
    update_card(actor=alice, card=version.card, sections={"intended_use": "Wine."})

    response = client_for(victor).get("/models/wine-cultivar/")
    html = response.content.decode()

    assert _entries(response, "activity") == [
        "alice edited the card of wine-cultivar 1.1.0",
        "Bob Stone uploaded the artifact of wine-cultivar 1.1.0",
        "Bob Stone moved wine-cultivar 1.1.0 to candidate",
        "Bob Stone registered wine-cultivar 1.1.0",
        "Bob Stone registered wine-cultivar",
    ]
    assert f'edited the <a href="{VERSION_URL}">card of wine-cultivar 1.1.0</a>' in html
    assert f'uploaded the <a href="{VERSION_URL}">artifact of wine-cultivar 1.1.0</a>' in html
    assert 'registered <a href="/models/wine-cultivar/">wine-cultivar</a>' in html
    assert 'class="verb"' not in html


# How PostgreSQL reads it --------------------------------------------------------------------


def _plan_of(run: Any) -> str:
    with CaptureQueriesContext(connection) as queries:
        run()
    sql = [q["sql"] for q in queries.captured_queries if 'FROM "portal_auditevent"' in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql[-1])
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_team_activity_reads_each_teammates_newest_events_from_the_actor_index(
    alice: Any, bob: Any, charlie: Any, dana: Any, risk_team: Any, wine: Any
) -> None:
    """Teammates who acted a year ago, under a busy log: each read in index order, merged."""
    risk_team.members.add(dana)
    now = timezone.now()
    model_type = ContentType.objects.get_for_model(RegisteredModel)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=[charlie, bob, dana][n % 3] if n % 10 == 0 else charlie,
                verb="model.updated",
                target_type=model_type,
                target_id=str(wine.pk),
                created_at=now - timedelta(days=365) * n / 30_000,
            )
            for n in range(30_000)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE portal_auditevent")

    plan = _plan_of(lambda: people_events([bob.pk, dana.pk]))

    assert "Merge Append" in plan, plan
    assert plan.count("portal_audit_actor_recent") == 2, plan
    assert "portal_auditevent_created_at" not in plan and "Bitmap" not in plan, plan
