"""Evaluating a version in a real browser: start it from the version page, watch the job on
the evaluation's page, then read the charts and the quality-gate verdict."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portal.jobs import JobStatus
from portal.roles import Role
from portal.services import jobs
from portal.services.accounts import create_team, create_user
from registry.evaluation.models import Evaluation
from registry.evaluation.services.datasets import create_dataset
from registry.evaluation.services.gates import add_rule
from registry.evaluation.tasks import run_evaluation_task
from registry.services.artifacts import store_artifact
from registry.services.models import create_model
from registry.services.versions import create_version
from tests.e2e.test_accessibility import _axe
from tests.evaluation.data import INPUT_SCHEMA, classifier_onnx, table, write

pytestmark = pytest.mark.browser

PASSWORD = "pw-alice-123"
CHARTS = ("confusion-chart", "roc-chart", "pr-chart", "calibration-chart", "importance-chart")


@pytest.fixture
def churn_version(transactional_db: None, tmp_path: Path) -> Any:
    """churn 1.0.0 with a validated ONNX classifier, a profiled evaluation dataset and one
    gate (ROC AUC ≥ 0.6); the artifact's validation and the profiling run as they commit."""
    alice = create_user(username="alice", password=PASSWORD, roles=[Role.DATA_SCIENTIST])
    team = create_team(name="Risk Modelling", members=[alice])
    model = create_model(
        actor=alice, name="churn", title="Churn", team=team, task_type="binary_classification"
    )
    version = create_version(
        actor=alice,
        model=model,
        version="1.0.0",
        input_schema=INPUT_SCHEMA,
        output_schema={"type": "object"},
    )
    onnx = SimpleUploadedFile("churn.onnx", classifier_onnx())
    store_artifact(actor=alice, version=version, upload=onnx)
    data = write(tmp_path / "churn.csv", table(1_500)).read_bytes()
    create_dataset(
        actor=alice,
        team=team,
        name="churn-eval",
        version="1",
        kind="evaluation",
        description="Customers of November",
        upload=SimpleUploadedFile("churn.csv", data, content_type="text/csv"),
    )
    add_rule(actor=alice, team=team, model=model, kind="metric", metric="roc_auc", threshold=0.6)
    return version


def test_an_engineer_starts_an_evaluation_watches_it_and_reads_the_results(
    page: Any, page_log: Any, login: Any, churn_version: Any, monkeypatch: Any
) -> None:
    """The task is held back (as on a busy worker) so the page's job polling can be watched."""
    sent: list[int] = []
    monkeypatch.setattr(jobs, "send_job", lambda model, pk: sent.append(pk))
    login(page, "alice", PASSWORD)

    # Start it from the version page's evaluation panel.
    page.goto("/models/churn/versions/1.0.0/")
    panel = page.locator("#evaluations")
    assert panel.locator(".badge", has_text="drafted from the contract").is_visible()
    page.select_option("#id_dataset", label="churn-eval 1 (evaluation)")
    page.locator("#dataset-columns option[value='churned']").wait_for(state="attached")
    page.fill("#id_label_column", "churned")
    page.fill("#id_slice_columns", "region")
    with page.expect_navigation():
        panel.get_by_role("button", name="Start the evaluation").click()
    evaluation = Evaluation.objects.get()
    assert page.url.endswith(evaluation.get_absolute_url())
    status = page.locator(".job-status [data-job-status]")
    assert status.get_attribute("data-job-status") == "queued"
    assert page.get_by_role("button", name="Cancel").is_visible()

    # A worker takes it and reports rows done; the page's poll shows them.
    claimed = jobs.claim_job(Evaluation, sent[0])
    assert claimed is not None
    jobs.report_progress(claimed, 40, "600 of 1,500 rows")
    page.locator('[data-job-status="running"]').wait_for()
    assert "600 of 1,500 rows" in page.locator(".job-status").inner_text()

    # That worker dies; the job is sent again and another one runs it to the end.
    Evaluation.objects.filter(pk=evaluation.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    run_evaluation_task(evaluation.pk)
    assert Evaluation.objects.get().status == JobStatus.SUCCEEDED

    # The poll sees a final job and reloads the page: the results, drawn by Plotly.
    for chart in CHARTS:
        page.locator(f"#{chart}.js-plotly-plot").wait_for()
    assert page.locator('[data-job-status="succeeded"]').is_visible()
    assert page.locator("table.metric-table tr[data-metric='roc_auc']").is_visible()
    assert page.locator("table.slice-table tr.worst").count() == 3
    assert _axe(page) == []

    # The gate verdict: the rule was judged on this evaluation.
    verdict = page.locator("#gate-verdict")
    assert verdict.is_visible()
    assert verdict.locator(".badge.verdict-pass").inner_text() == "Gates pass"

    # Back on the version page: the evaluation is listed, the card shows what drives it.
    page.goto("/models/churn/versions/1.0.0/")
    assert page.locator("#evaluations [data-job-status='succeeded']").is_visible()
    page.locator("#card-importance-chart.js-plotly-plot").wait_for()
    assert page.locator("#gate-verdict .badge.verdict-pass").is_visible()
    assert _axe(page) == []

    assert page_log.console_errors == []
    assert page_log.page_errors == []
