"""The artifact tasks: thin, retried on outages, re-sent when a message is lost, swept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.utils import timezone

from portal.services.jobs import requeue_stale_jobs
from registry.choices import ArtifactStatus
from registry.models import Artifact
from registry.services.artifacts import store_artifact, validate_artifact
from registry.services.versions import create_version
from registry.tasks import validate_artifact_task
from tests.registry import onnx_files
from tests.registry.artifact_helpers import (
    upload,
)

# The task -----------------------------------------------------------------------------


def test_the_task_calls_the_service() -> None:
    with mock.patch("registry.tasks.validate_artifact") as service:
        validate_artifact_task(42)

    service.assert_called_once_with(artifact_id=42)


def test_the_task_runs_eagerly_through_delay(alice: Any, draft: Any) -> None:
    artifact = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))

    validate_artifact_task.delay(artifact.pk)

    artifact.refresh_from_db()
    assert artifact.status == ArtifactStatus.VALID


def test_the_task_retries_database_outages_only() -> None:
    assert validate_artifact_task.autoretry_for == (OperationalError,)
    assert validate_artifact_task.max_retries == 5
    assert validate_artifact_task.name == "registry.tasks.validate_artifact_task"


# Lost messages ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_broker_outage_after_commit_keeps_the_upload(
    alice: Any, draft: Any, media_root: Path
) -> None:
    """Outside a test transaction on_commit runs at once; a failing enqueue must not undo."""
    with mock.patch(
        "registry.tasks.validate_artifact_task.delay", side_effect=OperationalError("broker down")
    ):
        artifact = store_artifact(
            actor=alice, version=draft, upload=upload(onnx_files.linear_onnx())
        )

    artifact.refresh_from_db()
    assert artifact.status == ArtifactStatus.PENDING
    assert Path(artifact.file.path).is_file()
    assert artifact.lease_expires_at is not None  # beat sends it once this delivery lease ends


def test_an_upload_whose_message_was_lost_is_sent_again(
    alice: Any, scorer: Any, draft: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Only a queued upload whose delivery lease ran out is sent; fresh and final ones are not."""
    # given: one upload never picked up, one just made, one validated
    stuck = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))
    fresh_version = create_version(actor=alice, model=scorer, version="1.1.0")
    store_artifact(actor=alice, version=fresh_version, upload=upload(onnx_files.linear_onnx()))
    done_version = create_version(actor=alice, model=scorer, version="1.2.0")
    done = store_artifact(
        actor=alice, version=done_version, upload=upload(onnx_files.linear_onnx())
    )
    validate_artifact(artifact_id=done.pk)
    expired = timezone.now() - timedelta(seconds=1)
    Artifact.objects.filter(pk__in=[stuck.pk, done.pk]).update(lease_expires_at=expired)

    # when
    with (
        mock.patch("registry.tasks.validate_artifact_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        sent = requeue_stale_jobs()

    # then
    assert sent == 1
    delay.assert_called_once_with(stuck.pk)


def test_a_replacement_is_a_new_validation(alice: Any, draft: Any) -> None:
    """A new file resets the job: fresh attempts and times, no cancel left over."""
    first = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))
    three_days_ago = timezone.now() - timedelta(days=3)
    Artifact.objects.filter(pk=first.pk).update(
        created_at=three_days_ago,
        queued_at=three_days_ago,
        status=ArtifactStatus.FAILED,
        attempts=3,
        cancel_requested=True,
        error="The worker died 3 times while validating.",
    )

    second = store_artifact(
        actor=alice, version=draft, upload=upload(onnx_files.breast_cancer_onnx())
    )

    second.refresh_from_db()
    assert timezone.now() - second.created_at < timedelta(minutes=1)
    assert timezone.now() - second.queued_at < timedelta(minutes=1)
    assert second.status == ArtifactStatus.PENDING
    assert (second.attempts, second.error, second.cancel_requested) == (0, "", False)
    assert second.started_by == alice


def test_the_task_ignores_an_artifact_deleted_meanwhile(alice: Any, draft: Any) -> None:
    artifact = store_artifact(actor=alice, version=draft, upload=upload(onnx_files.linear_onnx()))
    artifact_id = artifact.pk
    artifact.delete()

    validate_artifact_task.delay(artifact_id)  # no exception

    assert not Artifact.objects.filter(pk=artifact_id).exists()


def test_the_sweep_removes_only_old_unreferenced_files(alice, v1, onnx_bytes, settings, tmp_path):
    """A file left by a rolled-back upload goes after the grace period; live files stay."""
    import os
    import time
    from pathlib import Path

    from django.db import transaction

    from registry.services.artifacts import store_artifact, sweep_orphan_files

    settings.MEDIA_ROOT = str(tmp_path)
    kept = store_artifact(
        actor=alice, version=v1, upload=SimpleUploadedFile("m.onnx", onnx_bytes)
    ).file.name
    # given: an upload whose surrounding transaction rolled back
    with pytest.raises(RuntimeError), transaction.atomic():
        from registry.services.versions import create_version

        v2 = create_version(actor=alice, model=v1.model, version="1.1.0")
        store_artifact(
            actor=alice, version=v2, upload=SimpleUploadedFile("m.onnx", onnx_bytes + b"\x00")
        )
        raise RuntimeError("the caller failed after the upload")
    stored = {str(p.relative_to(tmp_path)) for p in Path(tmp_path, "artifacts").rglob("*.onnx")}
    orphans = stored - {kept}
    assert len(orphans) == 1
    # when: the sweep runs before and after the grace period
    assert sweep_orphan_files() == 0
    old = time.time() - 2 * 3600
    for name in stored:
        os.utime(tmp_path / name, (old, old))
    assert sweep_orphan_files() == 1
    # then: only the referenced file remains
    remaining = {str(p.relative_to(tmp_path)) for p in Path(tmp_path, "artifacts").rglob("*.onnx")}
    assert remaining == {kept}
