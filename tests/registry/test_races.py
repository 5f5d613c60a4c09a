"""Concurrent registrations end in one consistent state and a 400, never an IntegrityError.

The threaded tests need PostgreSQL: SQLite serialises writers, so it cannot race. The
tests without threads put the racing row in place between the check and the insert, so
SQLite covers the mapping of the unique violations too.
"""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from registry.models import ModelVersion, RegisteredModel, Tag
from registry.services import versions
from registry.services.models import create_model, update_model
from registry.services.versions import create_version, semver_sort_key

THREADS = 8


def race(call: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    """Run ``call(i)`` in ``threads`` threads released together: each result or exception."""
    barrier = threading.Barrier(threads)
    outcomes: list[Any] = [None] * threads

    def run(i: int) -> None:
        try:
            barrier.wait()
            outcomes[i] = call(i)
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    return outcomes


def kinds(outcomes: list[Any]) -> list[str]:
    return sorted(type(outcome).__name__ for outcome in outcomes)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_one_name_leave_one_model(alice: Any, risk_team: Any) -> None:
    """One registration wins; the others are refused on the name."""
    outcomes = race(
        lambda i: create_model(actor=alice, name="churn-risk", title=f"Churn {i}", team=risk_team)
    )
    assert kinds(outcomes) == ["RegisteredModel"] + ["ValidationError"] * (THREADS - 1)
    for outcome in outcomes:
        if isinstance(outcome, ValidationError):
            assert "already exists" in outcome.message_dict["name"][0]
    assert RegisteredModel.objects.filter(name="churn-risk").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_models_with_one_new_tag_share_it(alice: Any, risk_team: Any) -> None:
    """Every model is registered; the tag exists once and all of them carry it."""
    outcomes = race(
        lambda i: create_model(
            actor=alice, name=f"model-{i}", title="M", team=risk_team, tags=["Fresh Tag", f"t{i}"]
        )
    )
    assert kinds(outcomes) == ["RegisteredModel"] * THREADS
    tag = Tag.objects.get(name="fresh-tag")
    assert tag.models.count() == THREADS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_adding_one_new_tag_share_it(alice: Any, risk_team: Any) -> None:
    """update_model reuses the tag another transaction has just created."""
    models = [
        create_model(actor=alice, name=f"model-{i}", title="M", team=risk_team)
        for i in range(THREADS)
    ]
    outcomes = race(lambda i: update_model(actor=alice, model=models[i], tags=["shared"]))
    assert kinds(outcomes) == ["RegisteredModel"] * THREADS
    assert Tag.objects.get(name="shared").models.count() == THREADS


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_build_metadata_twins_leave_one_version(alice: Any, fraud_model: Any) -> None:
    """1.0.0+build.i from every thread: one is stored, the rest are duplicates."""
    outcomes = race(
        lambda i: create_version(actor=alice, model=fraud_model, version=f"1.0.0+build.{i}")
    )
    assert kinds(outcomes) == ["ModelVersion"] + ["ValidationError"] * (THREADS - 1)
    assert ModelVersion.objects.count() == 1


def test_a_name_taken_after_validation_is_refused_on_the_name(
    alice: Any, risk_team: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A racer that commits the name just before the insert: ValidationError, not a 500."""
    validate = RegisteredModel.full_clean

    def racer_commits_first(model: RegisteredModel, *args: Any, **kwargs: Any) -> None:
        RegisteredModel.objects.create(
            name=model.name, title="Racer", team=risk_team, created_by=alice, updated_by=alice
        )
        validate(model, *args, **kwargs)

    monkeypatch.setattr(RegisteredModel, "full_clean", racer_commits_first)
    with pytest.raises(ValidationError) as caught:
        create_model(actor=alice, name="churn-risk", title="Churn", team=risk_team)
    assert caught.value.message_dict == {"name": ["A model named “churn-risk” already exists."]}
    # The stand-in racer shared the refused transaction, so it is rolled back with it.
    assert not RegisteredModel.objects.filter(name="churn-risk").exists()


def test_a_refused_name_leaves_the_callers_transaction_usable(
    alice: Any, fraud_model: Any, risk_team: Any
) -> None:
    """The unique violation is rolled back to a savepoint, so the caller can go on."""
    with transaction.atomic():
        with pytest.raises(ValidationError, match="already exists"):
            create_model(actor=alice, name="fraud-score", title="Again", team=risk_team)
        create_model(actor=alice, name="fraud-score-2", title="Next", team=risk_team)
    assert RegisteredModel.objects.count() == 2


def test_a_twin_inserted_during_registration_is_refused_as_a_duplicate(
    alice: Any, fraud_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The (model, sort_key) constraint catches what the check missed, naming the twin."""
    check_contract = versions.check_contract

    def racer_registers_a_twin(**kwargs: Any) -> None:
        ModelVersion.objects.create(
            model=fraud_model,
            version="1.0.0+a",
            number=99,
            sort_key=semver_sort_key(versions.parse_semver("1.0.0+a")),
            created_by=alice,
        )
        check_contract(**kwargs)

    monkeypatch.setattr(versions, "check_contract", racer_registers_a_twin)
    with pytest.raises(ValidationError) as caught:
        create_version(actor=alice, model=fraud_model, version="1.0.0+b")
    message = caught.value.message_dict["version"][0]
    assert "already has version 1.0.0+a" in message and "only in build metadata" in message
    assert not ModelVersion.objects.filter(version="1.0.0+b").exists()


def test_an_existing_tag_is_reused_by_insert_or_skip(alice: Any, risk_team: Any) -> None:
    """A tag already stored (as after a racer's commit) is shared, not duplicated."""
    Tag.objects.create(name="payments")
    model = create_model(
        actor=alice, name="m", title="M", team=risk_team, tags=["Payments", "new-one"]
    )
    assert list(model.tags.values_list("name", flat=True)) == ["new-one", "payments"]
    assert Tag.objects.count() == 2
