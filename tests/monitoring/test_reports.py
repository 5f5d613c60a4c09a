"""Drift reports through the services: a window of logged predictions against a profiled
reference, exact and bounded, one report per window, scheduled by beat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from registry.monitoring.models import DriftReport
from registry.monitoring.selection import ColumnKind
from registry.monitoring.services.configs import default_columns, save_config
from registry.monitoring.services.reports import run_report, schedule_due_reports, start_report
from tests.monitoring.conftest import NOW, verdicts

pytestmark = pytest.mark.django_db


def _config(alice: Any, version: Any, reference: Any, **settings: Any) -> Any:
    return save_config(actor=alice, version=version, reference=reference, **settings)


def _report(alice: Any, config: Any, now: Any = NOW, trigger: str = "manual") -> DriftReport:
    report, _ = start_report(actor=alice, config=config, trigger=trigger, now=now)
    return run_report(report_id=report.pk)


def test_columns_default_from_the_contract_that_the_reference_holds(version, dataset):
    columns = default_columns(version, dataset())
    assert [(c["name"], c["kind"]) for c in columns] == [
        ("age", "numeric"),
        ("income", "numeric"),
        ("tenure", "numeric"),
        ("tickets", "numeric"),
        ("region", "categorical"),
    ]
    assert all(c["test"] == "" and c["threshold"] is None for c in columns)


def test_a_window_like_the_reference_does_not_drift(alice, version, dataset, log_window):
    config = _config(alice, version, dataset())
    log_window(version, by=alice)
    report = _report(alice, config)
    assert report.status == "succeeded", report.error
    assert report.current_rows == 1_500 and report.reference_rows == 2_000
    assert report.drifted is False and report.alert is None
    assert set(verdicts(report)) == {"age", "income", "tenure", "tickets", "region"}
    # Defaults as Evidently chooses them: over 1,000 reference rows, distances.
    tests = {c["name"]: c["test"] for c in report.columns}
    assert tests["age"] == "wasserstein" and tests["region"] == "jensenshannon"


def test_shifted_features_drift_and_raise_one_alert(
    alice, bob, version, dataset, log_window, django_capture_on_commit_callbacks
):
    from prometheus_client import REGISTRY

    from portal.backlog.choices import Kind
    from portal.notifications.models import Notification

    alerts = REGISTRY.get_sample_value("handoff_drift_alerts_total") or 0.0
    config = _config(alice, version, dataset(), drift_share=0.4)
    log_window(version, by=alice, shift=0.5)
    with django_capture_on_commit_callbacks(execute=True):
        report = _report(alice, config)
    assert REGISTRY.get_sample_value("handoff_drift_alerts_total") == alerts + 1
    assert report.drifted is True
    assert report.drifted_columns == ["age", "income"]
    assert [c["name"] for c in report.columns[:2]] == ["age", "income"]  # most drifted first
    item = report.alert
    assert item is not None and item.kind == Kind.DRIFT_ALERT
    linked = {(link.target_type.model, link.target_id) for link in item.links.all()}
    assert ("driftreport", str(report.pk)) in linked
    assert ("modelversion", str(version.pk)) in linked
    assert Notification.objects.filter(recipient=bob, cause=f"drift:{report.pk}").exists()

    # A later window that drifts again comments on the open alert instead of filing another.
    log_window(version, by=alice, shift=0.5, seed=2, at=NOW + timedelta(hours=1))
    later = _report(alice, config, now=NOW + timedelta(hours=2))
    assert later.alert == item
    assert item.comments.filter(author=None).count() == 1
    assert ("driftreport", str(later.pk)) in {
        (link.target_type.model, link.target_id) for link in item.links.all()
    }
    from portal.backlog.models import BacklogItem

    assert BacklogItem.objects.filter(kind=Kind.DRIFT_ALERT).count() == 1


def test_a_critical_column_alerts_on_its_own(alice, version, dataset, log_window):
    reference = dataset()
    columns = default_columns(version, reference)
    for column in columns:
        column["critical"] = column["name"] == "age"
    config = _config(alice, version, reference, columns=columns)
    log_window(version, by=alice, shift=0.5)
    report = _report(alice, config)
    assert report.drifted is False  # 2 of 5 is under half
    assert report.alert is not None
    assert report.columns[0]["critical"] is True


def test_one_report_per_window_however_often_it_is_started(alice, version, dataset):
    config = _config(alice, version, dataset())
    first, created = start_report(actor=alice, config=config, trigger="manual", now=NOW)
    again, created_again = start_report(
        actor=alice, config=config, trigger="manual", now=NOW + timedelta(seconds=20)
    )
    assert created and not created_again and again.pk == first.pk
    run_report(report_id=first.pk)
    run_report(report_id=first.pk)  # a redelivered task finds the job final
    assert DriftReport.objects.count() == 1


def test_beat_starts_each_due_report_once_per_period(alice, version, dataset):
    config = _config(alice, version, dataset(), schedule="hourly")
    assert schedule_due_reports(now=NOW) == 1
    assert schedule_due_reports(now=NOW + timedelta(minutes=20)) == 0
    assert schedule_due_reports(now=NOW + timedelta(hours=1)) == 1
    windows = sorted(r.window_end for r in DriftReport.objects.filter(config=config))
    assert [w.minute for w in windows] == [0, 0]
    assert windows[1] - windows[0] == timedelta(hours=1)
    manual = _config(alice, version, config.reference, schedule="manual")
    assert schedule_due_reports(now=NOW + timedelta(hours=2)) == 0
    assert manual.pk == config.pk


def test_an_empty_window_is_a_report_with_a_note_not_a_failure(alice, version, dataset):
    report = _report(alice, _config(alice, version, dataset()))
    assert report.status == "succeeded"
    assert report.current_rows == 0 and report.drifted is None and report.columns == []
    assert "No predictions" in report.notes[0]


def test_bounded_mode_gives_the_exact_verdicts(alice, version, dataset, log_window, settings):
    config = _config(alice, version, dataset(), drift_share=0.4)
    log_window(version, by=alice, shift=0.3)
    exact = _report(alice, config)
    settings.HANDOFF_DRIFT_EXACT_ROWS = 100
    bounded = _report(alice, config, now=NOW + timedelta(minutes=5))
    assert not exact.bounded and bounded.bounded
    assert verdicts(bounded) == verdicts(exact)
    assert "bounded memory" in bounded.notes[0]
    from registry.monitoring.models import ReferenceColumn

    assert ReferenceColumn.objects.filter(dataset=config.reference).count() == 5


def test_prediction_drift_compares_logged_labels_with_the_reference_column(
    alice, version, dataset, log_window
):
    config = _config(alice, version, dataset(), prediction_column="stored_prediction")
    log_window(version, by=alice)
    report = _report(alice, config)
    assert [p["name"] for p in report.predictions] == ["prediction"]
    assert report.predictions[0]["kind"] == "categorical"
    assert report.predictions[0]["drifted"] is False
    assert "prediction" not in verdicts(report)


def test_a_current_dataset_instead_of_logs(alice, version, dataset):
    reference = dataset()
    current = dataset(name="churn-now", seed=3, shift=0.6)
    config = _config(alice, version, reference, source="dataset", current=current, drift_share=0.4)
    report = _report(alice, config)
    assert report.source == "dataset" and report.current_rows == 2_000
    assert report.drifted_columns == ["age", "income"]


def test_only_the_team_authors_set_up_and_run(alice, charlie, victor, version, dataset):
    reference = dataset()
    for outsider in (charlie, victor):
        with pytest.raises(PermissionDenied):
            save_config(actor=outsider, version=version, reference=reference)
    config = _config(alice, version, reference)
    for outsider in (charlie, victor):
        with pytest.raises(PermissionDenied):
            start_report(actor=outsider, config=config, trigger="manual")


@pytest.mark.parametrize(
    ("columns", "reason"),
    [
        ([], "at least one"),
        ([{"name": "nope"}], "no column 'nope'"),
        ([{"name": "region", "test": "ks"}], "compares numbers"),
        ([{"name": "age", "test": "magic"}], "unknown test"),
        ([{"name": "age", "threshold": -1}], "positive number"),
        ([{"name": "age"}, {"name": "age"}], "listed twice"),
    ],
)
def test_bad_columns_are_refused_naming_the_entry(alice, version, dataset, columns, reason):
    with pytest.raises(ValidationError) as caught:
        save_config(actor=alice, version=version, reference=dataset(), columns=columns)
    assert reason in " ".join(caught.value.message_dict["columns"])


def test_output_columns_must_exist_in_the_reference(alice, version, dataset):
    with pytest.raises(ValidationError) as caught:
        save_config(actor=alice, version=version, reference=dataset(), prediction_column="nothing")
    assert "no column 'nothing'" in caught.value.message_dict["prediction_column"][0]


@pytest.mark.postgres
def test_a_window_is_read_in_time_slices_that_lose_and_repeat_no_row(
    alice, version, log_window, monkeypatch
):
    """Read 400 rows a slice: 300 rows spread over ten hours make one slice, 300 at one
    instant another, and 1,500 at one instant a third, which no cut can split (the
    counting stops at SLICE_FINEST); every row is read once."""
    from registry.monitoring import reading

    log_window(version, by=alice)
    log_window(version, by=alice, rows=300, seed=2, prefix="q", at=NOW - timedelta(hours=2))
    for minutes in range(0, 600, 2):  # 300 rows, one every other minute
        log_window(
            version,
            by=alice,
            rows=1,
            seed=3,
            prefix=f"r{minutes}",
            at=NOW - timedelta(hours=12, minutes=minutes),
        )
    window = reading.Window(version, NOW - timedelta(days=1), NOW)
    columns = [
        reading.Column("age", ColumnKind.NUMERIC, ("age",)),
        reading.Column("region", ColumnKind.CATEGORICAL, ("region",)),
    ]

    def read() -> tuple[int, dict[str, list[Any]]]:
        chunks = list(reading.log_chunks(window, columns, outputs=True))
        joined = {name: [v for c in chunks for v in c[name].tolist()] for name in chunks[0]}
        return len(chunks), {name: sorted(values, key=repr) for name, values in joined.items()}

    _, whole = read()
    monkeypatch.setattr(reading, "SLICE_ROWS", 400)
    slices, sliced = read()
    assert sliced == whole
    assert len(whole["age"]) == 2_100
    assert slices == 3


@pytest.mark.postgres
def test_a_window_copied_in_many_blocks_reports_progress_between_them(
    alice, version, dataset, log_window, monkeypatch
):
    from registry.monitoring import reading
    from registry.monitoring.services import reports

    monkeypatch.setattr(reading, "CSV_BLOCK_BYTES", 4096)  # many blocks out of one COPY
    monkeypatch.setattr(reports, "PROGRESS_SECONDS", 0.0)  # progress after every chunk
    config = _config(alice, version, dataset())
    log_window(version, by=alice)
    report = _report(alice, config)
    assert report.status == "succeeded", report.error
    assert {column["n_current"] for column in report.columns} == {1_500}
