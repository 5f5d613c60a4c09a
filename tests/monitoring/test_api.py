"""The drift-monitoring API: a version's settings, running a report now, listing and reading
reports, cancelling one; who may, and the error shape of what is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from portal.jobs import JobStatus
from registry.monitoring.models import DriftReport, MonitoringConfig
from registry.monitoring.services.configs import save_config
from registry.monitoring.services.reports import run_report, start_report
from registry.services.versions import create_version
from tests.monitoring.conftest import NOW

pytestmark = pytest.mark.django_db

VERSION = "/api/v1/models/churn/versions/1.0.0"
CONFIG = f"{VERSION}/monitoring/"
REPORTS = f"{VERSION}/drift-reports/"
REFERENCE = {"name": "churn-ref", "version": "0"}
CONTRACT_COLUMNS = ["age", "income", "tenure", "tickets", "region"]


@pytest.fixture
def reference(dataset: Any) -> Any:
    return dataset()


@pytest.fixture
def config(alice: Any, version: Any, reference: Any) -> MonitoringConfig:
    return save_config(actor=alice, version=version, reference=reference, drift_share=0.4)


def queued(alice: Any, config: MonitoringConfig, minutes: int = 0) -> DriftReport:
    """A report left queued: its task is sent on commit, which a test's transaction never
    reaches unless it captures the callbacks."""
    now = NOW + timedelta(minutes=minutes)
    report, _ = start_report(actor=alice, config=config, trigger="api", now=now)
    return report


# Settings -------------------------------------------------------------------------------


def test_the_teams_author_sets_up_monitoring_and_anyone_signed_in_reads_it(
    api_for: Any, alice: Any, victor: Any, version: Any, reference: Any
) -> None:
    # when: set up with the reference only
    created = api_for(alice).put(CONFIG, {"reference": REFERENCE}, format="json")

    # then: 201, with the columns drafted from the contract and every default
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["reference"] == REFERENCE and body["current"] is None
    assert [c["name"] for c in body["columns"]] == CONTRACT_COLUMNS
    assert body["columns"][0] == {
        "name": "age",
        "path": ["age"],
        "kind": "numeric",
        "test": "",
        "threshold": None,
        "critical": False,
    }
    assert (body["source"], body["schedule"], body["window_hours"]) == ("logs", "daily", 24)
    assert (body["drift_share"], body["mode"], body["created_by"]) == (0.5, "two_sample", "alice")
    assert body["page"] == "/models/churn/monitoring/"

    # when: replaced with chosen columns, a schedule and a webhook
    replaced = api_for(alice).put(
        CONFIG,
        {
            "reference": REFERENCE,
            "columns": [
                {"name": "age", "test": "psi", "threshold": 0.2, "critical": True},
                {"name": "region"},
            ],
            "schedule": "hourly",
            "prediction_column": "stored_prediction",
            "webhook_url": "https://hooks.example.com/drift",
        },
        format="json",
    )

    # then: 200, stored as the service cleans them, read by a Viewer without the webhook
    assert replaced.status_code == 200, replaced.json()
    stored = MonitoringConfig.objects.get(version=version)
    assert stored.columns[0] == {
        "name": "age",
        "path": ["age"],
        "kind": "numeric",
        "test": "psi",
        "threshold": 0.2,
        "critical": True,
    }
    assert [c["name"] for c in stored.columns] == ["age", "region"]
    assert stored.schedule == "hourly" and stored.prediction_column == "stored_prediction"
    read = api_for(victor).get(CONFIG)
    assert read.status_code == 200
    assert read.json()["columns"] == stored.columns and read.json()["webhook_url"] is None
    assert api_for(alice).get(CONFIG).json()["webhook_url"] == "https://hooks.example.com/drift"
    assert MonitoringConfig.objects.count() == 1


def test_a_dataset_window_names_its_current_dataset(
    api_for: Any, alice: Any, version: Any, reference: Any, dataset: Any
) -> None:
    dataset(name="churn-now", seed=1)
    body = {"reference": REFERENCE, "source": "dataset", "current": {"name": "churn-now"}}

    incomplete = api_for(alice).put(CONFIG, body, format="json")
    body["current"] = {"name": "churn-now", "version": "1"}
    response = api_for(alice).put(CONFIG, body, format="json")

    assert incomplete.status_code == 400 and "current" in incomplete.json()["errors"]
    assert response.status_code == 201, response.json()
    assert response.json()["current"] == {"name": "churn-now", "version": "1"}
    current = MonitoringConfig.objects.get().current
    assert current is not None and current.name == "churn-now"


def test_settings_not_set_up_are_a_404_that_says_so(
    api_for: Any, victor: Any, version: Any
) -> None:
    response = api_for(victor).get(CONFIG)

    assert response.status_code == 404
    assert "not set up" in response.json()["errors"]["detail"][0]
    assert api_for(victor).get("/api/v1/models/churn/versions/9.9.9/monitoring/").status_code == 404


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ([{"name": "agee"}], "Column 1: the reference has no column 'agee'."),
        ([{"name": "region", "test": "ks"}], "Column 1: ks compares numbers"),
        ([{"name": "age"}, {"name": "age"}], "Column 2: 'age' is listed twice."),
        ([], "Monitor at least one column."),
        ([{"name": "age", "test": "t-test"}], None),
        ([{"name": "age", "threshold": "NaN"}], None),
        ([{"name": "age", "colour": "red"}], None),
    ],
)
def test_a_column_that_cannot_be_monitored_is_a_400_naming_columns(
    api_for: Any, alice: Any, version: Any, reference: Any, columns: Any, message: str | None
) -> None:
    response = api_for(alice).put(
        CONFIG, {"reference": REFERENCE, "columns": columns}, format="json"
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["columns"], errors
    if message is not None:
        assert errors["columns"][0].startswith(message), errors
    assert not MonitoringConfig.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reference": {"name": "nope", "version": "0"}}, "reference"),
        ({"reference": "churn-ref"}, "reference"),
        ({"source": "dataset"}, "current"),
        ({"prediction_column": "predicted"}, "prediction_column"),
        ({"drift_share": 2}, "drift_share"),
        ({"drift_share": "NaN"}, "drift_share"),
        ({"window_hours": 0}, "window_hours"),
        ({"schedule": "weekly"}, "schedule"),
        ({"webhook_url": "https://user:secret@hooks.example.com/"}, "webhook_url"),
        ({"webhook_url": "ftp://hooks.example.com/"}, "webhook_url"),
        ({"created_by": "bob"}, "created_by"),
        ({"status": "on"}, "status"),
    ],
)
def test_a_setting_that_cannot_be_used_is_a_400_naming_it(
    api_for: Any, alice: Any, version: Any, reference: Any, change: Any, field: str
) -> None:
    response = api_for(alice).put(CONFIG, {"reference": REFERENCE, **change}, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert not MonitoringConfig.objects.exists()


def test_only_the_teams_authors_change_monitoring(
    api_for: Any, charlie: Any, victor: Any, dana: Any, version: Any, reference: Any
) -> None:
    for user in (charlie, victor, dana):
        # Refused before the body is read: even a malformed one is a 403.
        assert api_for(user).put(CONFIG, {"reference": REFERENCE}, format="json").status_code == 403
        assert api_for(user).put(CONFIG, {"x": 1}, format="json").status_code == 403
    anonymous = APIClient()
    assert anonymous.get(CONFIG).status_code == 401
    assert anonymous.put(CONFIG, {"reference": REFERENCE}, format="json").status_code == 401
    assert not MonitoringConfig.objects.exists()


def test_the_settings_take_only_get_and_put(api_for: Any, alice: Any, config: Any) -> None:
    assert api_for(alice).post(CONFIG, {"reference": REFERENCE}, format="json").status_code == 405
    assert api_for(alice).delete(CONFIG).status_code == 405


# Reports --------------------------------------------------------------------------------


def test_a_report_is_run_now_once_per_window_and_read_whole(
    api_for: Any,
    alice: Any,
    victor: Any,
    version: Any,
    config: Any,
    log_window: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given: an hour of predictions shifted from the reference
    log_window(version, by=alice, shift=0.5)
    api = api_for(alice)

    with time_machine.travel(NOW, tick=False):
        # when: run now (the worker runs it on commit: eager in tests)
        with django_capture_on_commit_callbacks(execute=True):
            first = api.post(REPORTS)
        again = api.post(REPORTS)

    # then: 202 with the queued report, then 200 with the same one
    assert first.status_code == 202, first.json()
    started = first.json()
    assert (started["job_status"], started["trigger"], started["started_by"]) == (
        "queued",
        "api",
        "alice",
    )
    assert again.status_code == 200 and again.json()["id"] == started["id"]
    assert DriftReport.objects.count() == 1
    # and: the finished report has every column, most drifted first, and its alert
    detail = api_for(victor).get(started["url"])
    assert detail.status_code == 200
    report = detail.json()
    assert report["job_status"] == "succeeded", report["error"]
    assert report["progress"] == 100 and report["current_rows"] == 1_500
    assert report["window_end"] == "2026-11-30T10:30:00Z"
    columns = report["columns"]
    assert {c["name"] for c in columns} == set(CONTRACT_COLUMNS)
    assert [c["name"] for c in columns[:2]] == ["age", "income"]
    ranks = [(not c["drifted"], -c["score"], c["name"]) for c in columns]
    assert ranks == sorted(ranks)
    assert set(columns[0]["reference_histogram"]) >= {"edges", "counts"}
    assert report["drifted"] is True and report["drifted_columns"] == ["age", "income"]
    assert report["alert"] is not None
    assert report["alert_url"].endswith(f"/api/v1/backlog-items/{report['alert']}/")
    assert report["alert_page"] == f"/backlog/items/{report['alert']}/"
    assert report["page"] == f"/models/churn/versions/1.0.0/drift/{report['id']}/"
    assert {"predictions", "target", "accuracy", "notes"} <= set(report)

    # and: a finished report cannot be cancelled
    cancelled = api.post(f"{REPORTS}{started['id']}/cancel/")
    assert cancelled.status_code == 400
    assert cancelled.json()["errors"]["detail"] == [
        "Nothing to cancel: it has already ended (Succeeded)."
    ]


def test_running_a_report_needs_monitoring_set_up_and_a_team_author(
    api_for: Any, alice: Any, charlie: Any, victor: Any, version: Any, reference: Any
) -> None:
    missing = api_for(alice).post(REPORTS)

    assert missing.status_code == 409
    assert "not set up" in missing.json()["errors"]["detail"][0]
    save_config(actor=alice, version=version, reference=reference)
    for user in (charlie, victor):
        assert api_for(user).post(REPORTS).status_code == 403
    assert APIClient().post(REPORTS).status_code == 401
    assert not DriftReport.objects.exists()


def test_the_list_is_newest_window_first_without_columns_in_constant_queries(
    api_for: Any, alice: Any, victor: Any, config: Any
) -> None:
    first = run_report(report_id=queued(alice, config).pk)
    api = api_for(victor)
    with CaptureQueriesContext(connection) as one:
        assert api.get(REPORTS).status_code == 200
    later = [queued(alice, config, minutes=minutes) for minutes in (5, 10, 15)]

    with CaptureQueriesContext(connection) as four:
        response = api.get(REPORTS)

    listed = response.json()["results"]
    assert [row["id"] for row in listed] == [r.pk for r in reversed([first, *later])]
    assert response.json()["count"] == 4
    assert len(four) == len(one)
    assert not {"columns", "predictions", "target", "accuracy"} & set(listed[0])
    assert "drifted_columns" in listed[0] and listed[3]["job_status"] == "succeeded"


def test_a_report_is_read_only_through_its_own_version(
    api_for: Any, alice: Any, version: Any, config: Any
) -> None:
    report = queued(alice, config)
    create_version(actor=alice, model=version.model, version="2.0.0")
    other = "/api/v1/models/churn/versions/2.0.0/drift-reports"
    api = api_for(alice)

    assert api.get(f"{REPORTS}{report.pk}/").status_code == 200
    assert api.get(f"{other}/{report.pk}/").status_code == 404
    assert api.post(f"{other}/{report.pk}/cancel/").status_code == 404
    assert api.get(f"{other}/").json()["count"] == 0
    assert api.get(f"{REPORTS}999999/").status_code == 404
    assert api.get(f"{REPORTS}{10**20}/").status_code == 404
    assert api.get("/api/v1/models/churn/versions/9.9.9/drift-reports/").status_code == 404
    report.refresh_from_db()
    assert report.status == JobStatus.QUEUED


def test_the_team_cancels_a_queued_report(
    api_for: Any, alice: Any, charlie: Any, victor: Any, config: Any
) -> None:
    report = queued(alice, config)
    url = f"{REPORTS}{report.pk}/cancel/"

    assert api_for(alice).get(url).status_code == 405
    for user in (charlie, victor):
        assert api_for(user).post(url).status_code == 403
    assert APIClient().post(url).status_code == 401
    response = api_for(alice).post(url)

    assert response.status_code == 200, response.json()
    assert response.json()["job_status"] == JobStatus.CANCELLED
    again = api_for(alice).post(url)
    assert again.status_code == 400
    assert again.json()["errors"]["detail"][0].startswith("Nothing to cancel")
