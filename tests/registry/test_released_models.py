"""A version that was ever released, and its model, stay: they are archived, not deleted."""

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from portal.models import AuditEvent
from registry.models import ModelVersion, RegisteredModel
from registry.services.models import delete_model
from registry.services.versions import create_version, delete_version, set_version_status

MIGRATION = importlib.import_module("registry.migrations.0002_version_order_and_releases")


def release(actor: Any, version: Any, status: str = "production") -> None:
    """Move a draft through candidate and release it to ``status``."""
    set_version_status(actor=actor, version=version, status="candidate")
    set_version_status(actor=actor, version=version, status=status, via_release=True)


def back_to_draft(actor: Any, version: Any) -> None:
    """staging → candidate by a release, then candidate → draft directly."""
    set_version_status(actor=actor, version=version, status="candidate", via_release=True)
    set_version_status(actor=actor, version=version, status="draft")


def test_a_release_records_when_the_version_was_first_released(alice: Any, v1: Any) -> None:
    """The first move to staging sets released_at; later moves keep it."""
    set_version_status(actor=alice, version=v1, status="candidate")
    assert ModelVersion.objects.get().released_at is None
    set_version_status(actor=alice, version=v1, status="staging", via_release=True)
    first = ModelVersion.objects.get().released_at
    assert first is not None and v1.released_at == first
    set_version_status(actor=alice, version=v1, status="production", via_release=True)
    set_version_status(actor=alice, version=v1, status="staging", via_release=True)
    back_to_draft(alice, v1)
    assert ModelVersion.objects.get().released_at == first


def test_a_direct_move_to_candidate_is_not_a_release(alice: Any, v1: Any) -> None:
    """Only staging and production count; an unreleased candidate may go back and be deleted."""
    set_version_status(actor=alice, version=v1, status="candidate")
    set_version_status(actor=alice, version=v1, status="draft")
    delete_version(actor=alice, version=v1)
    assert not ModelVersion.objects.exists()


def test_a_once_released_draft_cannot_be_deleted(alice: Any, v1: Any) -> None:
    """Back in draft after staging, the version is still refused under "status"."""
    release(alice, v1, "staging")
    back_to_draft(alice, v1)
    with pytest.raises(ValidationError) as caught:
        delete_version(actor=alice, version=v1)
    message = caught.value.message_dict["status"][0]
    assert "was released" in message and "archive it instead" in message
    assert ModelVersion.objects.count() == 1


def test_a_live_version_is_refused_as_released(alice: Any, v1: Any) -> None:
    """A version in production is refused with the same reason."""
    release(alice, v1)
    with pytest.raises(ValidationError, match="was released"):
        delete_version(actor=alice, version=v1)


def test_a_once_released_model_cannot_be_deleted(alice: Any, v1: Any) -> None:
    """Even when no version is live any more, the model is refused under "detail"."""
    release(alice, v1, "staging")
    back_to_draft(alice, v1)
    create_version(actor=alice, model=v1.model, version="1.1.0")
    with pytest.raises(ValidationError) as caught:
        delete_model(actor=alice, model=v1.model)
    message = caught.value.message_dict["detail"][0]
    assert "released versions: 1.0.0 (draft)" in message and "archive" in message
    assert RegisteredModel.objects.count() == 1 and ModelVersion.objects.count() == 2
    assert not AuditEvent.objects.filter(verb="model.deleted").exists()


def test_the_api_refuses_to_delete_a_once_released_model(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """DELETE /api/v1/models/<name>/ is a 400 with the reason under detail."""
    release(alice, v1, "staging")
    back_to_draft(alice, v1)
    response = client_for(alice).delete("/api/v1/models/fraud-score/")
    assert response.status_code == 400
    assert "archive" in response.json()["errors"]["detail"][0]
    assert RegisteredModel.objects.exists()


def test_the_api_refuses_to_delete_a_once_released_version(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """DELETE of the version is a 400 naming status."""
    release(alice, v1, "staging")
    back_to_draft(alice, v1)
    response = client_for(alice).delete("/api/v1/models/fraud-score/versions/1.0.0/")
    assert response.status_code == 400
    assert "was released" in response.json()["errors"]["status"][0]


def test_the_delete_button_shows_why_a_released_model_stays(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """The page POST comes back to the model with the refusal as a message."""
    release(alice, v1, "staging")
    back_to_draft(alice, v1)
    response = client_for(alice).post("/models/fraud-score/delete/", follow=True)
    assert response.redirect_chain == [("/models/fraud-score/", 302)]
    page = response.content.decode()
    assert "has released versions" in page and "archive its versions instead" in page
    assert RegisteredModel.objects.exists()


def test_the_delete_button_shows_why_a_released_draft_stays(
    client_for: Any, alice: Any, v1: Any
) -> None:
    """Deleting the once-released draft from its page shows the reason."""
    release(alice, v1, "staging")
    back_to_draft(alice, v1)
    response = client_for(alice).post("/models/fraud-score/versions/1.0.0/delete/", follow=True)
    assert "was released" in response.content.decode()
    assert ModelVersion.objects.exists()


def test_the_migration_backfills_releases_from_status_and_audit_trail(
    alice: Any, fraud_model: Any
) -> None:
    """Earliest release event wins; live rows without a trail use updated_at; others stay."""
    # given: versions as an older Handoff left them, with no released_at
    was_staged = create_version(actor=alice, model=fraud_model, version="1.0.0")
    release(alice, was_staged, "staging")
    set_version_status(actor=alice, version=was_staged, status="production", via_release=True)
    set_version_status(actor=alice, version=was_staged, status="staging", via_release=True)
    back_to_draft(alice, was_staged)
    live_untracked = create_version(actor=alice, model=fraud_model, version="1.1.0")
    ModelVersion.objects.filter(pk=live_untracked.pk).update(status="production")
    candidate = create_version(actor=alice, model=fraud_model, version="1.2.0")
    set_version_status(actor=alice, version=candidate, status="candidate")
    ModelVersion.objects.update(released_at=None)
    # when
    MIGRATION.recompute_keys_and_releases(apps, None)
    # then
    first_staging = (
        AuditEvent.objects.filter(target_id=str(was_staged.pk), after__status="staging")
        .order_by("created_at")
        .first()
    )
    assert first_staging is not None
    released = dict(ModelVersion.objects.values_list("version", "released_at"))
    assert released["1.0.0"] == first_staging.created_at
    assert released["1.1.0"] == ModelVersion.objects.get(version="1.1.0").updated_at
    assert released["1.2.0"] is None


def test_the_backfill_ignores_events_of_other_objects(
    alice: Any, fraud_model: Any, v1: Any
) -> None:
    """Only status_changed events on the version itself count as its release."""
    model_type = ContentType.objects.get_for_model(RegisteredModel)
    version_type = ContentType.objects.get_for_model(ModelVersion)
    for verb, target_type in [
        ("version.status_changed", model_type),  # same id, another kind of object
        ("version.noted", version_type),  # the version, another verb
    ]:
        AuditEvent.objects.create(
            verb=verb, target_type=target_type, target_id=str(v1.pk), after={"status": "staging"}
        )
    MIGRATION.recompute_keys_and_releases(apps, None)
    assert ModelVersion.objects.get().released_at is None
