"""The monitoring pages: a drift report (verdict, columns, their histograms, the job while it
runs), a model's monitoring, the settings form, run now, the model page's badge; who may do
what on them, and query counts that do not grow with the reports or the columns."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.jobs import JobStatus
from portal.services.jobs import claim_job
from registry.monitoring.models import DriftReport, MonitoringConfig
from registry.monitoring.queries import verdict_of
from registry.monitoring.services.configs import save_config
from registry.monitoring.services.reports import run_report, start_report
from registry.services.versions import create_version, set_version_status
from tests.evaluation.data import INPUT_SCHEMA
from tests.monitoring.conftest import NOW

pytestmark = pytest.mark.django_db

MONITORING = "/models/churn/monitoring/"
SETTINGS = "/models/churn/versions/1.0.0/monitoring/"
RUN = "/models/churn/versions/1.0.0/monitoring/run/"
HTMX = {"HX-Request": "true"}


@pytest.fixture
def config(alice: Any, version: Any, dataset: Callable[..., Any]) -> MonitoringConfig:
    """churn 1.0.0 watched against a 2,000-row reference; 40 % of columns make drift."""
    return save_config(actor=alice, version=version, reference=dataset(), drift_share=0.4)


def reported(actor: Any, config: MonitoringConfig, now: Any = NOW) -> DriftReport:
    """A report of the window ending at ``now``, run to its end as a worker would."""
    report, _ = start_report(actor=actor, config=config, trigger="manual", now=now)
    return run_report(report_id=report.pk)


@pytest.fixture
def drifted(alice: Any, version: Any, config: MonitoringConfig, log_window: Any) -> DriftReport:
    """Age and income moved half a standard deviation up: the dataset drifts, an alert is filed."""
    log_window(version, by=alice, shift=0.5)
    report = reported(alice, config)
    assert report.status == JobStatus.SUCCEEDED and report.drifted, report.error
    return report


def queued(actor: Any, config: MonitoringConfig) -> DriftReport:
    """A report whose task was never sent: it stays queued."""
    report, _ = start_report(actor=actor, config=config, trigger="manual", now=NOW)
    return report


def page_of(report: DriftReport) -> str:
    return report.get_absolute_url()


def island(html: str, element_id: str) -> Any:
    """The figure in the JSON data island of chart ``element_id``."""
    found = re.search(
        rf'<script id="{element_id}-data" type="application/json">(.*?)</script>', html
    )
    assert found, f"no data island for {element_id}"
    return json.loads(found.group(1))


# The report page --------------------------------------------------------------------------


def test_a_drifted_report_shows_its_verdict_alert_and_columns_most_drifted_first(
    client_for: Any, victor: Any, drifted: DriftReport
) -> None:
    """A viewer reads the banner (share against threshold, window, rows, mode), the alert
    and a row per column in the report's order, each opening its histograms lazily."""
    response = client_for(victor).get(page_of(drifted))

    html = response.content.decode()
    assert response.status_code == 200
    assert "The data drifted" in html and 'data-drift="drift"' in html
    assert (
        "2 of 5 columns</strong> drifted: a share of 40%, at or above the threshold of 40%" in html
    )
    assert "2,000 reference" in html and "1,500 current" in html
    assert "Two-sample tests" in html and "exactly, on every row" in html
    assert f'href="/backlog/items/{drifted.alert_id}/">#{drifted.alert_id} Drift in' in html
    table = html.split('class="table drift-columns"')[1].split("</table>")[0]
    shown = re.findall(r'<tr class="column[^"]*" data-column="([^"]+)"', table)
    assert shown == [column["name"] for column in drifted.columns]
    assert shown[:2] == ["age", "income"]
    assert table.count('<span class="badge bad">yes</span>') == 2
    for index in range(len(shown)):
        column_url = f"{page_of(drifted)}columns/{index}/"
        assert f'hx-get="{column_url}" hx-trigger="click once"' in table
        assert f'aria-controls="column-{index}-detail"' in table
    assert 'aria-expanded="false"' in table
    assert "<script>" not in html  # figures reach the page as data, never as inline code
    assert "monitoring/drift.js" in html and "vendor/plotly.min.js" in html
    assert "cancel/" not in html  # a finished report has nothing to cancel


def test_a_critical_column_is_marked_and_named_in_the_banner(
    client_for: Any, alice: Any, version: Any, dataset: Callable[..., Any], log_window: Any
) -> None:
    reference = dataset()
    columns = [
        {"name": name, "kind": kind, "critical": name == "age"}
        for name, kind in (("age", "numeric"), ("tenure", "numeric"), ("region", "categorical"))
    ]
    config = save_config(actor=alice, version=version, reference=reference, columns=columns)
    log_window(version, by=alice, shift=0.5)
    report = reported(alice, config)
    assert report.drifted is False and report.alerting  # one of three drifted: below 50 %

    html = client_for(alice).get(page_of(report)).content.decode()

    assert "A critical column drifted" in html and 'data-drift="critical"' in html
    assert "Critical, so alerting on their own: <code>age</code>" in html
    assert html.count("critical-mark") == 1


def test_the_column_partial_draws_the_overlaid_shares_of_both_sides(
    client_for: Any, victor: Any, drifted: DriftReport
) -> None:
    """A fragment for the row that opens it: the figure as data, both sides as shares of
    their own rows (1,500 current and 2,000 reference rows compare), and the shares as a table."""
    client = client_for(victor)
    url = f"{page_of(drifted)}columns/0/"

    fragment = client.get(url, headers=HTMX)
    page = client.get(url)

    html = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in html
    figure = island(html, "column-0-chart")
    reference, current = figure["data"]
    assert (reference["name"], current["name"]) == ("reference", "current")
    assert figure["layout"]["barmode"] == "overlay"
    column = drifted.columns[0]
    edges = column["reference_histogram"]["edges"]
    assert len(reference["x"]) == len(edges) - 1 == len(reference["width"])
    assert sum(reference["y"]) == pytest.approx(1) and sum(current["y"]) == pytest.approx(1)
    counts = column["current_histogram"]["counts"]
    assert current["y"][1] == pytest.approx(counts[1] / sum(counts))
    assert "The shares as a table" in html
    assert page.status_code == 200 and "<html" in page.content.decode()
    assert "Column <code>age</code> in drift report" in page.content.decode()


def test_a_column_past_the_end_is_not_found(
    client_for: Any, victor: Any, drifted: DriftReport
) -> None:
    client = client_for(victor)
    assert client.get(f"{page_of(drifted)}columns/5/", headers=HTMX).status_code == 404
    assert client.get(f"{page_of(drifted)}columns/4/", headers=HTMX).status_code == 200


def test_a_categorical_column_shows_its_values(
    client_for: Any, victor: Any, drifted: DriftReport
) -> None:
    index = next(i for i, c in enumerate(drifted.columns) if c["name"] == "region")

    html = client_for(victor).get(f"{page_of(drifted)}columns/{index}/", headers=HTMX)

    figure = island(html.content.decode(), f"column-{index}-chart")
    assert sorted(figure["data"][0]["x"]) == ["east", "north", "south", "west"]
    assert figure["layout"]["xaxis"]["type"] == "category"


def test_prediction_drift_is_drawn_when_the_reference_names_the_outputs(
    client_for: Any, alice: Any, version: Any, dataset: Callable[..., Any], log_window: Any
) -> None:
    config = save_config(
        actor=alice, version=version, reference=dataset(), prediction_column="stored_prediction"
    )
    log_window(version, by=alice)
    report = reported(alice, config)
    assert report.predictions, report.notes

    html = client_for(alice).get(page_of(report)).content.decode()

    assert "Prediction drift" in html and "<code>stored_prediction</code>" in html
    figure = island(html, "prediction-chart")
    assert [trace["name"] for trace in figure["data"]] == ["reference", "current"]
    assert "Accuracy from feedback" in html  # logged predictions, none judged yet
    assert "No feedback judged these predictions" in html


def test_a_report_that_compared_nothing_says_why(
    client_for: Any, victor: Any, alice: Any, config: MonitoringConfig
) -> None:
    report = reported(alice, config)  # no prediction was logged in the window

    html = client_for(victor).get(page_of(report)).content.decode()

    assert report.drifted is None
    assert "Nothing compared" in html and 'data-drift="none"' in html
    assert "nothing to compare" in html
    assert 'class="table drift-columns"' not in html


def test_a_queued_report_polls_its_job_and_offers_cancel_to_authors(
    client_for: Any, alice: Any, bob: Any, victor: Any, config: MonitoringConfig
) -> None:
    report = queued(alice, config)
    job_url = f"{page_of(report)}job/"

    author = client_for(bob).get(page_of(report)).content.decode()
    viewer = client_for(victor).get(page_of(report)).content.decode()

    assert f'hx-get="{job_url}" hx-trigger="every 2s"' in author
    assert "No verdict yet" in author
    assert f'hx-post="{page_of(report)}cancel/"' in author
    assert 'hx-trigger="every 2s"' in viewer and "cancel/" not in viewer


def test_the_job_poll_reloads_the_page_once_the_report_is_final(
    client_for: Any, alice: Any, config: MonitoringConfig
) -> None:
    report = queued(alice, config)
    client = client_for(alice)
    job_url = f"{page_of(report)}job/"

    running = client.get(job_url, headers=HTMX)
    DriftReport.objects.filter(pk=report.pk).update(status=JobStatus.FAILED, error="boom")
    final = client.get(job_url, headers=HTMX)
    page = client.get(page_of(report)).content.decode()

    assert running.status_code == 200 and b'data-job-status="queued"' in running.content
    assert final.headers["HX-Refresh"] == "true"
    assert "This report failed" in page and "boom" in page and "Run now" in page


def test_cancel_stops_a_queued_report_refuses_get_and_viewers(
    client_for: Any, alice: Any, victor: Any, config: MonitoringConfig
) -> None:
    report = queued(alice, config)
    cancel = f"{page_of(report)}cancel/"
    client = client_for(alice)

    assert client.get(cancel).status_code == 405
    assert client_for(victor).post(cancel).status_code == 403
    response = client.post(cancel)

    assert response.status_code == 302 and response["Location"] == page_of(report)
    report.refresh_from_db()
    assert report.phase == JobStatus.CANCELLED
    assert "This report was cancelled" in client.get(page_of(report)).content.decode()


def test_cancelling_a_running_report_is_said_on_the_job_status(
    client_for: Any, alice: Any, config: MonitoringConfig
) -> None:
    report = queued(alice, config)
    assert claim_job(DriftReport, report.pk) is not None

    response = client_for(alice).post(f"{page_of(report)}cancel/", headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and "HX-Refresh" not in response.headers
    assert "Cancelling: the worker stops at its next step." in html


def test_a_report_of_another_version_is_not_found(
    client_for: Any, alice: Any, drifted: DriftReport
) -> None:
    create_version(actor=alice, model=drifted.version.model, version="2.0.0")
    url = page_of(drifted).replace("/1.0.0/", "/2.0.0/")
    assert client_for(alice).get(url).status_code == 404


# session, user, the report (with its version, config, datasets, alert and starter), the
# viewer's roles and teams (may they cancel), the bell
REPORT_QUERIES = 6


def test_the_report_page_reads_the_same_queries_for_5_or_60_columns(
    client_for: Any, alice: Any, drifted: DriftReport, django_assert_num_queries: Any
) -> None:
    """The columns are the report's JSON, their histograms drawn only when a row opens."""
    client = client_for(alice)
    client.get(page_of(drifted))  # warm the caches
    with django_assert_num_queries(REPORT_QUERIES):
        client.get(page_of(drifted))

    many = [{**c, "name": f"{c['name']}_{n}"} for n in range(12) for c in drifted.columns]
    DriftReport.objects.filter(pk=drifted.pk).update(columns=many)
    with django_assert_num_queries(REPORT_QUERIES):
        html = client.get(page_of(drifted)).content.decode()
    assert html.count('data-drift-toggle aria-expanded="false"') == 60
    assert "reference_histogram" not in html and '"edges"' not in html


# Run now ----------------------------------------------------------------------------------


def test_run_now_creates_one_report_and_opens_it(
    client_for: Any,
    alice: Any,
    config: MonitoringConfig,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The eager worker runs it at once; a second click in the same minute finds it."""
    client = client_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RUN)

    report = DriftReport.objects.get()
    assert response.status_code == 302 and response["Location"] == page_of(report)
    assert report.trigger == "manual" and report.started_by == alice
    assert report.is_final
    page = client.get(response["Location"]).content.decode()
    assert f"Drift report {report.pk} queued" in page  # said before the commit ran it
    assert "Nothing compared" in page  # no prediction logged in the last 24 hours

    again = client.post(RUN)
    assert again["Location"] == page_of(report) and DriftReport.objects.count() == 1


@pytest.mark.parametrize("persona", ["victor", "charlie", "dana"])
def test_run_now_is_refused_to_people_who_may_not_monitor(
    client_for: Any, persona: str, request: Any, config: MonitoringConfig
) -> None:
    response = client_for(request.getfixturevalue(persona)).post(RUN)

    assert response.status_code == 403
    assert not DriftReport.objects.exists()


def test_run_now_is_post_only_and_needs_monitoring(
    client_for: Any, alice: Any, version: Any
) -> None:
    client = client_for(alice)
    assert client.get(RUN).status_code == 405
    assert client.post(RUN).status_code == 404  # nothing set up to run
    assert not DriftReport.objects.exists()


# The model's monitoring page ------------------------------------------------------------


def test_the_monitoring_page_shows_each_version_its_reports_chart_and_alerts(
    client_for: Any, victor: Any, drifted: DriftReport
) -> None:
    response = client_for(victor).get(MONITORING)

    html = response.content.decode()
    assert response.status_code == 200
    row = html.split('data-version="1.0.0"')[1].split("</tr>")[0]
    assert 'data-drift="drift"' in row and f'href="{page_of(drifted)}"' in row
    assert f'action="{RUN}"' not in html  # a viewer reads only
    assert f'href="{SETTINGS}"' in row
    figure = island(html, "share-chart")
    line, threshold = figure["data"]
    assert line["name"] == "1.0.0" and line["y"] == [0.4]
    assert threshold["y"] == [0.4, 0.4] and threshold["line"]["dash"] == "dash"
    alerts = html.split('class="plain drift-alerts"')[1].split("</ul>")[0]
    assert f'href="/backlog/items/{drifted.alert_id}/"' in alerts
    recent = html.split('class="table recent-reports"')[1].split("</table>")[0]
    assert "<code>age</code>, <code>income</code>" in recent and "40%" in recent


def test_authors_get_run_now_and_the_versions_left_to_monitor(
    client_for: Any, alice: Any, version: Any, config: MonitoringConfig
) -> None:
    create_version(actor=alice, model=version.model, version="1.1.0", input_schema=INPUT_SCHEMA)

    html = client_for(alice).get(MONITORING).content.decode()

    assert f'action="{RUN}"' in html and "Run now" in html
    assert 'href="/models/churn/versions/1.1.0/monitoring/"' in html
    assert "No report yet" in html


def test_an_unmonitored_model_explains_how_to_set_monitoring_up(
    client_for: Any, alice: Any, victor: Any, version: Any
) -> None:
    author = client_for(alice).get(MONITORING).content.decode()
    viewer = client_for(victor).get(MONITORING).content.decode()

    assert "churn is not monitored yet" in author
    assert f'href="{SETTINGS}"' in author and f'href="{SETTINGS}"' in viewer
    assert "Data scientists and Engineers of Risk Modelling can set it up" in viewer


# session, user, the model, the configs (with their latest reports' keys), those reports, the
# newest reports, the chart's points, the open drift alerts, the versions not monitored, the
# viewer's roles and teams (may they run), the bell
MONITORING_QUERIES = 12


def test_the_monitoring_page_reads_the_same_queries_for_1_or_14_reports(
    client_for: Any,
    alice: Any,
    version: Any,
    dataset: Callable[..., Any],
    log_window: Any,
    django_assert_num_queries: Any,
) -> None:
    """Two monitored versions, their latest reports, the table, the chart and the alerts
    are read a query each, however many reports there are."""
    reference = dataset()
    config = save_config(actor=alice, version=version, reference=reference, drift_share=0.4)
    log_window(version, by=alice, rows=300, shift=0.5)
    reported(alice, config)
    client = client_for(alice)
    client.get(MONITORING)  # warm the caches
    with django_assert_num_queries(MONITORING_QUERIES):
        client.get(MONITORING)

    other = create_version(
        actor=alice, model=version.model, version="1.1.0", input_schema=INPUT_SCHEMA
    )
    second = save_config(actor=alice, version=other, reference=reference, drift_share=0.6)
    for hour in range(1, 7):
        at = NOW + timedelta(hours=hour)
        logged = at - timedelta(minutes=5)
        log_window(version, by=alice, rows=300, seed=hour + 1, at=logged, prefix=f"a{hour}")
        log_window(other, by=alice, rows=300, seed=hour + 1, at=logged, prefix=f"b{hour}")
        reported(alice, config, now=at)
        reported(alice, second, now=at)
    queued(alice, second)
    assert DriftReport.objects.count() == 14

    with django_assert_num_queries(MONITORING_QUERIES):
        html = client.get(MONITORING).content.decode()
    figure = island(html, "share-chart")
    assert [trace["name"] for trace in figure["data"][:2]] == ["1.0.0", "1.1.0"]
    assert len(figure["data"]) == 4  # a threshold each: 40 % and 60 %
    assert html.count('data-version="') == 2


# The settings form ----------------------------------------------------------------------


def _settings(reference: Any, **changes: Any) -> dict[str, Any]:
    """A valid post: the five contract columns, tickets left out, region critical."""
    rows = [
        ("age", "numeric", "psi", "0.2", True, False),
        ("income", "numeric", "", "", True, False),
        ("tenure", "numeric", "", "", True, False),
        ("tickets", "numeric", "", "", False, False),
        ("region", "categorical", "", "", True, True),
    ]
    data: dict[str, Any] = {
        "reference": reference.pk,
        "source": "logs",
        "current": "",
        "window_hours": "12",
        "schedule": "hourly",
        "drift_share": "0.3",
        "mode": "two_sample",
        "prediction_column": "",
        "target_column": "",
        "webhook_url": "",
        "columns-TOTAL_FORMS": str(len(rows)),
        "columns-INITIAL_FORMS": str(len(rows)),
    }
    for index, (name, kind, test, threshold, include, critical) in enumerate(rows):
        prefix = f"columns-{index}-"
        data |= {f"{prefix}name": name, f"{prefix}kind": kind, f"{prefix}test": test}
        data[f"{prefix}threshold"] = threshold
        if include:
            data[f"{prefix}include"] = "on"
        if critical:
            data[f"{prefix}critical"] = "on"
    return {**data, **changes}


def test_the_settings_form_drafts_the_columns_from_the_contract(
    client_for: Any, alice: Any, version: Any, dataset: Callable[..., Any]
) -> None:
    dataset()

    html = client_for(alice).get(SETTINGS).content.decode()

    rows = re.findall(r'<tr data-column="([^"]+)">', html)
    assert rows == ["age", "income", "tenure", "tickets", "region"]
    assert html.count('type="checkbox" name="columns-') == 10  # monitor and critical each
    assert html.count("checked") == 5  # every column monitored, none critical
    assert "churn-ref 0 (reference)" in html
    assert 'hx-get="/models/churn/versions/1.0.0/monitoring/"' in html
    assert "Save monitoring" in html


def test_the_settings_form_saves_the_settings_and_the_columns(
    client_for: Any, alice: Any, version: Any, dataset: Callable[..., Any]
) -> None:
    reference = dataset()

    response = client_for(alice).post(SETTINGS, _settings(reference))

    assert response.status_code == 302 and response["Location"] == MONITORING
    config = MonitoringConfig.objects.get(version=version)
    assert (config.window_hours, config.schedule, config.drift_share) == (12, "hourly", 0.3)
    assert [c["name"] for c in config.columns] == ["age", "income", "tenure", "region"]
    age = config.columns[0]
    assert (age["test"], age["threshold"], age["path"]) == ("psi", 0.2, ["age"])
    assert config.critical_columns() == ["region"]

    # Saved once, the form shows what was saved, tickets unmonitored below the rest.
    html = client_for(alice).get(SETTINGS).content.decode()
    assert re.findall(r'<tr data-column="([^"]+)">', html)[-1] == "tickets"
    assert 'value="psi" selected' in html


def test_the_settings_form_names_every_problem_and_keeps_what_was_typed(
    client_for: Any, alice: Any, version: Any, dataset: Callable[..., Any]
) -> None:
    """Field errors and column errors are listed at the top, each linking to its input."""
    reference = dataset()
    data = _settings(
        reference,
        drift_share="2",
        **{"columns-0-threshold": "-1", "columns-4-test": "ks"},
    )

    response = client_for(alice).post(SETTINGS, data)

    html = response.content.decode()
    assert response.status_code == 200
    assert not MonitoringConfig.objects.exists()
    summary = html.split("data-error-summary")[1].split("</div>")[0]
    assert "There are 3 problems with the monitoring settings" in summary
    assert 'href="#id_drift_share"' in summary
    assert 'href="#id_columns-0-threshold"' in summary and "positive number" in summary
    assert 'href="#id_columns-4-test"' in summary and "compares numbers" in summary
    assert 'value="-1"' in html and 'value="2"' in html


def test_the_service_refusal_lands_on_its_field(
    client_for: Any, alice: Any, version: Any, dataset: Callable[..., Any]
) -> None:
    reference = dataset()

    response = client_for(alice).post(
        SETTINGS, _settings(reference, prediction_column="no_such_column")
    )

    html = response.content.decode()
    assert response.status_code == 200 and not MonitoringConfig.objects.exists()
    assert 'href="#id_prediction_column"' in html and "has no column" in html


def test_leaving_every_column_out_is_refused(
    client_for: Any, alice: Any, version: Any, dataset: Callable[..., Any]
) -> None:
    reference = dataset()
    data = {k: v for k, v in _settings(reference).items() if not k.endswith("-include")}

    html = client_for(alice).post(SETTINGS, data).content.decode()

    assert "Columns: Monitor at least one column." in html
    assert not MonitoringConfig.objects.exists()


def test_choosing_another_reference_fetches_its_columns(
    client_for: Any, alice: Any, version: Any, dataset: Callable[..., Any]
) -> None:
    dataset()
    other = dataset(name="churn-recent", seed=3)

    response = client_for(alice).get(SETTINGS, {"reference": other.pk}, headers=HTMX)

    html = response.content.decode()
    assert 'id="monitoring-columns"' in html
    assert "Columns of churn-recent 3" in html
    assert f'<option value="{other.pk}" selected>' in html


def test_viewers_read_the_settings_and_may_not_change_them(
    client_for: Any, victor: Any, charlie: Any, config: MonitoringConfig
) -> None:
    html = client_for(victor).get(SETTINGS).content.decode()

    assert "You can read these settings" in html
    assert "Save monitoring" not in html
    assert 'name="drift_share" value="0.4"' in html and "disabled" in html
    before = config.updated_at
    for person in (victor, charlie):
        response = client_for(person).post(SETTINGS, _settings(config.reference))
        assert response.status_code == 403
    config.refresh_from_db()
    assert config.updated_at == before


def test_a_team_without_datasets_is_told_to_upload_a_reference(
    client_for: Any, alice: Any, version: Any
) -> None:
    html = client_for(alice).get(SETTINGS).content.decode()
    assert "No reference dataset to compare with" in html
    assert 'href="/datasets/new/"' in html


# The model page's badge -----------------------------------------------------------------


def test_the_model_page_shows_the_latest_drift_verdict_linking_to_monitoring(
    client_for: Any, victor: Any, alice: Any, version: Any, config: MonitoringConfig
) -> None:
    client = client_for(victor)
    before = client.get("/models/churn/").content.decode()
    assert 'data-drift="' not in before  # monitored, no report yet
    assert f'href="{MONITORING}">Monitoring</a>' in before

    reported(alice, config)  # compared nothing: still no verdict
    assert 'data-drift="' not in client.get("/models/churn/").content.decode()

    DriftReport.objects.update(drifted=True)
    html = client.get("/models/churn/").content.decode()
    fact = html.split('class="drift-fact"')[1].split("</dd>")[0]
    assert f'<a class="drift-status" href="{MONITORING}"' in fact
    assert '<span class="badge bad" data-drift="drift">Drift</span>' in fact
    card = html.split('id="card-heading"')[1].split("</div>")[0]
    assert 'data-drift="drift"' in card


def test_the_badge_follows_the_production_version(
    client_for: Any,
    alice: Any,
    version: Any,
    config: MonitoringConfig,
    dataset: Callable[..., Any],
) -> None:
    """Production's verdict, though a higher version is monitored too and drifts."""
    reported(alice, config)
    DriftReport.objects.update(drifted=False)
    newer = create_version(actor=alice, model=version.model, version="2.0.0")
    other = save_config(actor=alice, version=newer, reference=config.reference)
    reported(alice, other)
    DriftReport.objects.filter(version=newer).update(drifted=True)

    html = client_for(alice).get("/models/churn/").content.decode()
    assert 'data-drift="drift"' in html.split('class="drift-fact"')[1].split("</dd>")[0]

    set_version_status(actor=alice, version=version, status="candidate")
    set_version_status(actor=None, version=version, status="production", via_release=True)
    html = client_for(alice).get("/models/churn/").content.decode()
    assert 'data-drift="ok"' in html.split('class="drift-fact"')[1].split("</dd>")[0]


def test_the_model_page_reads_the_same_queries_with_or_without_drift_reports(
    client_for: Any, alice: Any, version: Any, config: MonitoringConfig
) -> None:
    """The badge rides along with the page's version query."""
    client = client_for(alice)
    client.get("/models/churn/")  # warm the caches
    with CaptureQueriesContext(connection) as none:
        client.get("/models/churn/")
    for hour in range(5):
        reported(alice, config, now=NOW + timedelta(hours=hour))
    with CaptureQueriesContext(connection) as five:
        client.get("/models/churn/")
    assert len(five) == len(none)


# Verdicts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "drifted", "critical", "state", "tone"),
    [
        ("succeeded", True, False, "drift", "bad"),
        ("succeeded", False, True, "critical", "bad"),
        ("succeeded", False, False, "ok", "ok"),
        ("succeeded", None, False, "none", ""),
        ("running", None, False, "running", "warn"),
        ("failed", None, False, "failed", "bad"),
        ("cancelled", None, False, "cancelled", ""),
    ],
)
def test_a_verdict_in_a_word(
    phase: str, drifted: bool | None, critical: bool, state: str, tone: str
) -> None:
    verdict = verdict_of(phase=phase, drifted=drifted, critical=critical)
    assert (verdict.state, verdict.tone) == (state, tone)
