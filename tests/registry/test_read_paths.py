"""Read paths that stay fast as the registry grows: what they read, and how PostgreSQL reads it.

The query counts of the pages and the API are pinned next to their other tests; here are the
read functions themselves, and on PostgreSQL the indexes their plans must use, checked with
EXPLAIN on a log large enough for the planner to choose.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.models import AuditEvent
from registry.api.queries import model_api_queryset, model_api_rows, tag_names
from registry.models import Artifact, ModelVersion, RegisteredModel
from registry.queries import (
    VERSION_DETAIL_FIELDS,
    TeamOption,
    filter_choices,
    model_activity,
    model_list_queryset,
    model_page,
    model_rows,
)
from registry.services.model_cards import update_card
from registry.services.models import create_model
from registry.services.versions import (
    create_version,
    parse_semver,
    semver_sort_key,
    set_version_status,
)


def _artifact(version: Any, actor: Any) -> Artifact:
    return Artifact.objects.create(
        version=version, file="artifacts/x.onnx", size=1, sha256="0" * 64, uploaded_by=actor
    )


def _event(actor: Any, target: Any, verb: str, **fields: Any) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        verb=verb,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        **fields,
    )


# What they return -------------------------------------------------------------------------


def test_activity_merges_the_model_its_versions_cards_and_artifacts_newest_first(
    alice: Any, risk_team: Any, fraud_model: Any
) -> None:
    """Events of every target that belongs to the model, newest first; no other model's."""
    v1 = create_version(actor=alice, model=fraud_model, version="1.0.0")
    v2 = create_version(actor=alice, model=fraud_model, version="1.1.0")
    update_card(actor=alice, card=v2.card, sections={"intended_use": "Fraud."})
    _event(alice, _artifact(v1, alice), "artifact.uploaded")
    other = create_model(actor=alice, name="other", title="Other", team=risk_team)
    create_version(actor=alice, model=other, version="1.0.0")

    read = model_page(fraud_model, version=None, page=None)

    assert [event.verb for event in read.activity] == [
        "artifact.uploaded",
        "card.updated",
        "version.created",
        "version.created",
        "model.created",
    ]
    assert all(event.target_repr != "other" for event in read.activity)
    assert len(model_activity(fraud_model, read.versions, limit=2)) == 2


def test_the_list_reads_the_latest_version_and_only_what_a_row_shows(
    alice: Any, fraud_model: Any, risk_team: Any
) -> None:
    """1.10.0 beats 1.9.0; the row's version carries no contract and the empty model none."""
    for number in ("1.9.0", "1.10.0", "1.2.0"):
        create_version(actor=alice, model=fraud_model, version=number)
    create_model(actor=alice, name="empty", title="Empty", team=risk_team)

    rows = model_rows(model_list_queryset())

    assert [(row.model.name, row.latest and row.latest.version) for row in rows] == [
        ("empty", None),
        ("fraud-score", "1.10.0"),
    ]
    latest = rows[1].latest
    assert latest is not None and "input_schema" in latest.get_deferred_fields()
    assert rows[1].card is not None and rows[1].card.completeness == 0


def test_the_lists_team_and_tag_choices_come_in_one_query(
    alice: Any, risk_team: Any, search_team: Any, fraud_model: Any
) -> None:
    """Teams by name, the reader's marked, and tags by name, from a single UNION."""
    with CaptureQueriesContext(connection) as queries:
        choices = filter_choices(alice)

    assert len(queries) == 1
    assert choices.teams == [
        TeamOption(pk=risk_team.pk, slug=risk_team.slug, name="Risk Modelling", mine=True),
        TeamOption(pk=search_team.pk, slug=search_team.slug, name="Search Relevance", mine=False),
    ]
    assert choices.tags == ["payments", "tabular"]


def test_the_model_page_reads_the_contract_of_the_shown_versions_only(
    alice: Any, fraud_model: Any
) -> None:
    """The selected and previous versions are whole; the table's rows leave the contract."""
    for number in ("1.0.0", "1.1.0", "2.0.0"):
        create_version(actor=alice, model=fraud_model, version=number)

    read = model_page(fraud_model, version="1.1.0", page=None)

    assert (read.selected.version, read.previous.version) == ("1.1.0", "1.0.0")  # type: ignore[union-attr]
    assert not read.selected.get_deferred_fields()  # type: ignore[union-attr]
    assert set(read.cards) == {read.selected.pk, read.previous.pk}  # type: ignore[union-attr]
    for row in read.version_page:
        assert set(VERSION_DETAIL_FIELDS) <= row.get_deferred_fields()
    assert [v.version for v in read.versions] == ["2.0.0", "1.1.0", "1.0.0"]


def test_the_api_names_latest_and_production_versions_without_loading_versions(
    alice: Any, fraud_model: Any
) -> None:
    """Two annotations; a page's tag names come in one query of names."""
    live = create_version(actor=alice, model=fraud_model, version="1.0.0")
    set_version_status(actor=alice, version=live, status="candidate")
    set_version_status(actor=alice, version=live, status="production", via_release=True)
    create_version(actor=alice, model=fraud_model, version="1.1.0")

    row = model_api_rows(model_api_queryset()).get()
    with CaptureQueriesContext(connection) as queries:
        names = tag_names([row["pk"]])

    assert (row["latest_version_name"], row["production_version_name"]) == ("1.1.0", "1.0.0")
    assert (names, len(queries)) == ({fraud_model.pk: ["payments", "tabular"]}, 1)


# How PostgreSQL reads them ----------------------------------------------------------------

YEAR = timedelta(days=365)


def _plan(run: Any, table: str) -> str:
    """EXPLAIN of the last query ``run`` sends that reads ``table``."""
    with CaptureQueriesContext(connection) as queries:
        run()
    sql = [q["sql"] for q in queries.captured_queries if f'FROM "{table}"' in q["sql"]][-1]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def _busy_year(actor: Any, targets: list[Any], count: int = 30_000) -> None:
    """A year of other people's events on ``targets``, then fresh planner statistics."""
    now = timezone.now()
    types = {type(t): ContentType.objects.get_for_model(t) for t in targets}
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=actor,
                verb="model.updated",
                target_type=types[type(targets[n % len(targets)])],
                target_id=str(targets[n % len(targets)].pk),
                created_at=now - YEAR * n / count,
            )
            for n in range(count)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE portal_auditevent")
        cursor.execute("ANALYZE registry_modelversion")


@pytest.fixture
def old_model(alice: Any, bob: Any, risk_team: Any) -> RegisteredModel:
    """A model with five versions, under a year of other models' events."""
    model = create_model(actor=alice, name="old-model", title="Old", team=risk_team)
    for minor in range(5):
        create_version(actor=alice, model=model, version=f"1.{minor}.0")
    others = [
        create_model(actor=bob, name=f"busy-{n}", title="Busy", team=risk_team) for n in range(50)
    ]
    _busy_year(bob, others)
    return model


@pytest.mark.postgres
def test_activity_reads_the_target_index_not_the_whole_log_by_time(old_model: Any) -> None:
    """However old the model, its events come from the (target, time) index."""
    versions = model_page(old_model, version=None, page=None).versions

    plan = _plan(lambda: model_activity(old_model, versions), "portal_auditevent")

    assert "portal_audi_target__9370ce_idx" in plan, plan
    assert "portal_auditevent_created_at" not in plan, plan


@pytest.mark.postgres
def test_recent_activity_on_the_home_page_reads_the_actor_index(
    client_for: Any, alice: Any, old_model: Any
) -> None:
    """Alice's last ten events are ten index entries in order, though she acted a year ago."""
    long_ago = timezone.now() - YEAR
    AuditEvent.objects.bulk_create(
        AuditEvent(actor=alice, verb="model.viewed", created_at=long_ago - timedelta(minutes=n))
        for n in range(1000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE portal_auditevent")

    plan = _plan(lambda: client_for(alice).get("/"), "portal_auditevent")

    assert "portal_audit_actor_recent" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.postgres
def test_production_versions_are_one_index_probe_per_model(alice: Any, old_model: Any) -> None:
    """Latest by the (model, -sort_key) index, production by (model, status, -sort_key)."""
    versions = []
    for model in RegisteredModel.objects.all():
        for minor in range(10, 50):
            number = f"2.{minor}.0"
            versions.append(
                ModelVersion(
                    model=model,
                    version=number,
                    number=minor,
                    sort_key=semver_sort_key(parse_semver(number)),
                    status="production" if minor == 40 else "archived",
                    created_by=alice,
                )
            )
    ModelVersion.objects.bulk_create(versions)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_modelversion")

    plan = model_api_rows(model_api_queryset())[:50].explain()

    assert "registry_version_by_status" in plan, plan
