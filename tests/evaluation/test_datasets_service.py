"""The dataset services: upload (sniffed, capped, checksummed, nothing half-written), the
profiling job (progress, cancel, failure), contract checks and deletion."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from portal.jobs import JobStatus
from portal.models import AuditEvent
from portal.services import jobs
from portal.services.audit import events_for
from portal.uploads import limit_message
from registry.evaluation import profiling
from registry.evaluation.models import Dataset, Evaluation
from registry.evaluation.services import datasets
from registry.evaluation.services.datasets import (
    cancel_profiling,
    delete_dataset,
    profile_dataset,
    validate_dataset,
)
from registry.services.versions import create_version
from tests.evaluation.dataset_helpers import (
    PNG_BYTES,
    csv_bytes,
    file_upload,
    onnx_bytes,
    parquet_bytes,
    stored_files,
    upload,
)


def _verbs(dataset: Dataset) -> list[str]:
    return list(events_for(dataset).order_by("pk").values_list("verb", flat=True))


# Upload -------------------------------------------------------------------------------


def test_an_upload_is_stored_hashed_under_a_server_name_and_queued(
    alice: Any, risk_team: Any, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    """Its sha256 and size are the bytes'; the file is named by team and hash; the row is a
    queued job, sent to a worker only when the transaction commits."""
    data = csv_bytes(300)
    with django_capture_on_commit_callbacks() as callbacks:
        dataset = upload(alice, risk_team, data)

    assert dataset.sha256 == hashlib.sha256(data).hexdigest() and dataset.size == len(data)
    assert dataset.file_format == "csv" and dataset.original_name == "churn.csv"
    assert dataset.file.name == f"datasets/{risk_team.pk}/{dataset.sha256}.csv"
    assert Path(dataset.file.path).read_bytes() == data
    assert stored_files(media_root) == [dataset.file.name]  # no copy left behind
    assert dataset.phase == JobStatus.QUEUED and dataset.started_by == alice
    assert _verbs(dataset) == ["dataset.created"]
    assert len(callbacks) == 1


def test_the_queued_job_profiles_the_file_after_commit(
    alice: Any, risk_team: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        dataset = upload(alice, risk_team, parquet_bytes(250))

    dataset.refresh_from_db()
    assert dataset.phase == JobStatus.SUCCEEDED and dataset.progress == 100
    assert dataset.row_count == 250
    assert dataset.column_names() == [
        "age",
        "income",
        "tenure",
        "tickets",
        "region",
        "churned",
        "spend",
        "stored_prediction",
    ]


def test_the_type_comes_from_the_bytes_not_the_name(alice: Any, risk_team: Any) -> None:
    """Parquet named data.csv is stored as Parquet."""
    dataset = upload(alice, risk_team, upload=file_upload(parquet_bytes(), "data.csv"))

    assert dataset.file_format == "parquet" and dataset.file.name.endswith(".parquet")


@pytest.mark.parametrize(
    "data, reason",
    [
        (PNG_BYTES, "Not a CSV or Parquet file"),
        (onnx_bytes(), "Not a CSV or Parquet file"),
        (b"", "the file is empty"),
        (b"a,b\n1,2\n3,4,5\n", "pyarrow cannot read the file"),
        (b"a,a\n1,2\n", "Column names must be unique; repeated: a"),
    ],
    ids=["png", "onnx", "empty", "ragged-csv", "repeated-column"],
)
def test_a_file_that_is_not_readable_data_is_refused_on_file(
    alice: Any, risk_team: Any, media_root: Path, data: bytes, reason: str
) -> None:
    """Named data.csv or not, a PNG, an ONNX model, an empty file or a CSV pyarrow cannot
    read is refused on "file" with the reason; no row and no file remain."""
    with pytest.raises(ValidationError) as refused:
        upload(alice, risk_team, upload=file_upload(data, "data.csv"))

    assert list(refused.value.message_dict) == ["file"]
    assert reason in refused.value.message_dict["file"][0]
    assert str(media_root) not in refused.value.message_dict["file"][0]
    assert not Dataset.objects.exists() and stored_files(media_root) == []


def test_an_upload_over_the_cap_is_refused_naming_the_limit(
    alice: Any, risk_team: Any, media_root: Path, settings: Any
) -> None:
    settings.HANDOFF_MAX_UPLOAD_BYTES = 1_000

    with pytest.raises(ValidationError) as refused:
        upload(alice, risk_team, csv_bytes(500))

    assert refused.value.message_dict == {"file": [limit_message()]}
    assert not Dataset.objects.exists() and stored_files(media_root) == []


def test_a_taken_name_and_version_is_refused_on_version(
    alice: Any, risk_team: Any, media_root: Path
) -> None:
    first = upload(alice, risk_team)

    with pytest.raises(ValidationError) as refused:
        upload(alice, risk_team, csv_bytes(50), kind="training")

    assert refused.value.message_dict == {
        "version": ["Dataset churn-eval already has a version 1; choose another."]
    }
    assert list(Dataset.objects.all()) == [first] and stored_files(media_root) == [first.file.name]
    assert upload(alice, risk_team, version="2").version == "2"


def test_bad_fields_are_named_together_before_the_file_is_read(
    alice: Any, risk_team: Any, media_root: Path
) -> None:
    with pytest.raises(ValidationError) as refused:
        upload(alice, risk_team, name="Churn Eval!", version="1/2", kind="holdout")

    assert sorted(refused.value.message_dict) == ["kind", "name", "version"]
    assert stored_files(media_root) == []


def test_only_the_teams_data_scientists_and_engineers_may_upload(
    alice: Any, bob: Any, charlie: Any, victor: Any, risk_team: Any, media_root: Path
) -> None:
    """A viewer and a member of another team are refused before anything is read."""
    for outsider in (victor, charlie):
        with pytest.raises(PermissionDenied):
            upload(outsider, risk_team)
    assert stored_files(media_root) == []
    assert upload(bob, risk_team).created_by == bob


def test_the_same_bytes_twice_are_two_files(
    alice: Any, risk_team: Any, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    """Deleting one of two datasets with the same content leaves the other's file."""
    data = csv_bytes(80)
    first = upload(alice, risk_team, data, version="1")
    second = upload(alice, risk_team, data, version="2")

    assert first.sha256 == second.sha256 and first.file.name != second.file.name
    with django_capture_on_commit_callbacks(execute=True):
        delete_dataset(actor=alice, dataset=first)
    assert stored_files(media_root) == [second.file.name]


# Profiling ----------------------------------------------------------------------------


def _queued(alice: Any, risk_team: Any, data: bytes | None = None) -> Dataset:
    return upload(alice, risk_team, data)


def test_profiling_stores_the_profile_and_reports_rows_done_of_total(
    alice: Any, risk_team: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = _queued(alice, risk_team, parquet_bytes(1_200))
    reports: list[tuple[int, str]] = []
    real = datasets.report_progress

    def spy(job: Any, percent: int, text: str = "") -> None:
        reports.append((percent, text))
        real(job, percent, text)

    monkeypatch.setattr(datasets, "report_progress", spy)
    monkeypatch.setattr(datasets, "PROGRESS_SECONDS", 0)
    monkeypatch.setattr(
        datasets, "profile", lambda *a, **k: profiling.profile(*a, batch_rows=500, **k)
    )

    profiled = profile_dataset(dataset_id=dataset.pk)

    assert profiled.phase == JobStatus.SUCCEEDED and profiled.progress == 100
    assert profiled.row_count == 1_200 and len(profiled.columns) == 8
    assert profiled.columns[0]["name"] == "age" and profiled.columns[0]["kind"] == "number"
    texts = [text for _, text in reports]
    assert texts == [
        "Opening the file",
        "500 / 1,200 rows",
        "1,000 / 1,200 rows",
        "1,200 / 1,200 rows",
        "Recording the profile",
    ]
    percents = [percent for percent, _ in reports]
    assert percents == sorted(percents)
    assert _verbs(profiled) == ["dataset.created", "dataset.profile_succeeded"]


def test_a_csv_reports_rows_read_of_an_estimate(
    alice: Any, risk_team: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = _queued(alice, risk_team, csv_bytes(1_000))
    texts: list[str] = []
    real = datasets.report_progress

    def spy(job: Any, percent: int, text: str = "") -> None:
        texts.append(text)
        real(job, percent, text)

    monkeypatch.setattr(datasets, "report_progress", spy)
    monkeypatch.setattr(datasets, "PROGRESS_SECONDS", 0)
    monkeypatch.setattr(
        datasets, "profile", lambda *a, **k: profiling.profile(*a, batch_rows=400, **k)
    )

    profile_dataset(dataset_id=dataset.pk)

    assert texts[1].startswith("400 rows read (about ") and texts[1].endswith(" in all)")


def test_a_cancel_stops_the_job_between_batches(
    alice: Any, risk_team: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancel asked while the worker reads: the next report stops it, no profile is kept."""
    dataset = _queued(alice, risk_team, parquet_bytes(1_200))
    real = datasets.report_progress
    calls = []

    def cancel_then_report(job: Any, percent: int, text: str = "") -> None:
        calls.append(text)
        if len(calls) == 2:  # the first batch is read: a person presses Cancel
            cancel_profiling(actor=alice, dataset=Dataset.objects.get(pk=job.pk))
        real(job, percent, text)

    monkeypatch.setattr(datasets, "report_progress", cancel_then_report)
    monkeypatch.setattr(datasets, "PROGRESS_SECONDS", 0)
    monkeypatch.setattr(
        datasets, "profile", lambda *a, **k: profiling.profile(*a, batch_rows=500, **k)
    )

    stopped = profile_dataset(dataset_id=dataset.pk)

    assert stopped.phase == JobStatus.CANCELLED
    assert stopped.row_count is None and stopped.columns == []
    assert len(calls) == 2
    assert _verbs(stopped)[-1] == "dataset.profile_cancelled"


def test_cancelling_a_queued_profile_ends_it_at_once(
    alice: Any, charlie: Any, risk_team: Any
) -> None:
    dataset = _queued(alice, risk_team)
    with pytest.raises(PermissionDenied):
        cancel_profiling(actor=charlie, dataset=dataset)

    cancelled = cancel_profiling(actor=alice, dataset=dataset)

    assert cancelled.phase == JobStatus.CANCELLED
    assert profile_dataset(dataset_id=dataset.pk).phase == JobStatus.CANCELLED  # not run
    with pytest.raises(ValidationError, match="already ended"):
        cancel_profiling(actor=alice, dataset=dataset)


def test_an_unreadable_file_fails_the_job_with_a_reason_a_person_can_act_on(
    alice: Any, risk_team: Any, media_root: Path
) -> None:
    """The stored file no longer parses: the job fails once (no retry could help), naming
    pyarrow's reason and what to do, without the server's path."""
    dataset = _queued(alice, risk_team)
    Path(dataset.file.path).write_bytes(b"age,income\n1,2\n3,4,5,6\n")

    failed = profile_dataset(dataset_id=dataset.pk)

    assert failed.phase == JobStatus.FAILED and failed.attempts == 1
    assert failed.error.startswith("pyarrow cannot read the file: ")
    assert failed.error.endswith(Dataset.retry_hint)
    assert str(media_root) not in failed.error
    assert _verbs(failed)[-1] == "dataset.profile_failed"


def test_a_missing_file_fails_the_job(alice: Any, risk_team: Any) -> None:
    dataset = _queued(alice, risk_team)
    Path(dataset.file.path).unlink()

    failed = profile_dataset(dataset_id=dataset.pk)

    assert failed.phase == JobStatus.FAILED
    assert failed.error == "The stored file is missing. Upload the dataset again."


def test_a_crash_gives_the_job_back_for_another_attempt(
    alice: Any, risk_team: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = _queued(alice, risk_team)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise MemoryError

    monkeypatch.setattr(datasets, "profile", crash)
    with pytest.raises(MemoryError):
        profile_dataset(dataset_id=dataset.pk)

    dataset.refresh_from_db()
    assert dataset.phase == JobStatus.QUEUED and dataset.attempts == 1
    assert "stopped with MemoryError" in dataset.error


def test_running_a_finished_job_again_changes_nothing(alice: Any, risk_team: Any) -> None:
    dataset = _queued(alice, risk_team)
    done = profile_dataset(dataset_id=dataset.pk)

    again = profile_dataset(dataset_id=dataset.pk)

    assert again.finished_at == done.finished_at and again.attempts == done.attempts == 1


def test_a_job_whose_lease_was_taken_over_writes_nothing(alice: Any, risk_team: Any) -> None:
    dataset = _queued(alice, risk_team)
    claimed = jobs.claim_job(Dataset, dataset.pk)
    assert claimed is not None
    Dataset.objects.filter(pk=dataset.pk).update(lease_token=None)  # another run took it

    datasets._finish(claimed, profiling.Profile(row_count=7, columns=[]))

    dataset.refresh_from_db()
    assert dataset.row_count is None and dataset.phase == JobStatus.RUNNING


# Contract checks ----------------------------------------------------------------------


def test_a_dataset_is_checked_against_a_versions_contract(
    alice: Any, risk_team: Any, classifier: Any
) -> None:
    dataset = upload(alice, risk_team, csv_bytes(300))

    report = validate_dataset(dataset=dataset, version=classifier)

    assert report.ok and report.rows == 300


def test_a_version_without_a_contract_is_refused_on_version(
    alice: Any, risk_team: Any, churn: Any
) -> None:
    dataset = upload(alice, risk_team)
    bare = create_version(actor=alice, model=churn, version="2.0.0")

    with pytest.raises(ValidationError) as refused:
        validate_dataset(dataset=dataset, version=bare)

    assert refused.value.message_dict == {
        "version": ["churn 2.0.0 has no input contract to check against."]
    }


# Deleting -----------------------------------------------------------------------------


def test_deleting_removes_the_row_and_its_file_on_commit(
    alice: Any, bob: Any, risk_team: Any, media_root: Path, django_capture_on_commit_callbacks: Any
) -> None:
    dataset = upload(alice, risk_team)

    with django_capture_on_commit_callbacks(execute=True):
        delete_dataset(actor=bob, dataset=dataset)

    assert not Dataset.objects.exists() and stored_files(media_root) == []
    assert AuditEvent.objects.filter(verb="dataset.deleted", actor=bob).exists()


def test_a_dataset_an_evaluation_used_is_kept_and_the_evaluations_named(
    alice: Any, risk_team: Any, classifier: Any, media_root: Path
) -> None:
    dataset = upload(alice, risk_team)
    used = Evaluation.objects.create(
        version=classifier, dataset=dataset, label_column="churned", task_kind="classification"
    )

    with pytest.raises(ValidationError) as refused:
        delete_dataset(actor=alice, dataset=dataset)

    assert refused.value.message_dict["detail"] == [
        f"churn-eval 1 cannot be deleted: evaluations were measured on it: churn 1.0.0 "
        f"(evaluation {used.pk}). Their results need the data they were measured on."
    ]
    assert Dataset.objects.filter(pk=dataset.pk).exists()
    assert dataset.file.name in stored_files(media_root)


def test_only_the_teams_authors_may_delete(
    alice: Any, charlie: Any, victor: Any, risk_team: Any
) -> None:
    dataset = upload(alice, risk_team)
    for outsider in (charlie, victor):
        with pytest.raises(PermissionDenied):
            delete_dataset(actor=outsider, dataset=dataset)
    assert Dataset.objects.filter(pk=dataset.pk).exists()
