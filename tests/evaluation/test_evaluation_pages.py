"""The evaluation pages: the version page's panel and card section, an evaluation's page
with real results from the engine, its job status and cancel, the start form and the input
mapping form; who may do what on them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from portal.jobs import JobStatus
from portal.services.jobs import claim_job
from registry.evaluation.directions import improvement
from registry.evaluation.models import Evaluation, InputMapping
from registry.evaluation.services.evaluations import start_evaluation
from registry.services.versions import create_version, set_version_status
from tests.evaluation.data import FEATURES, INPUT_SCHEMA

pytestmark = pytest.mark.django_db

VERSION = "/models/churn/versions/1.0.0/"
START = f"{VERSION}evaluations/new/"
MAPPING = f"{VERSION}input-mapping/"
CHARTS = ("confusion-chart", "roc-chart", "pr-chart", "calibration-chart", "importance-chart")


@pytest.fixture
def churn_data(data_file: Callable[..., Path], make_dataset: Callable[..., Any]) -> Any:
    return make_dataset(data_file(rows=1_000))


def evaluate(capture: Any, actor: Any, version: Any, dataset: Any, **values: Any) -> Evaluation:
    """An evaluation through the service, run to its end as a worker would."""
    values.setdefault("slice_columns", ["region"])
    with capture(execute=True):
        evaluation = start_evaluation(
            actor=actor, version=version, dataset=dataset, label_column="churned", **values
        )
    evaluation.refresh_from_db()
    assert evaluation.status == JobStatus.SUCCEEDED, evaluation.error
    return evaluation


def queued(actor: Any, version: Any, dataset: Any) -> Evaluation:
    """An evaluation whose task was never sent: it stays queued."""
    return start_evaluation(actor=actor, version=version, dataset=dataset, label_column="churned")


def page_of(evaluation: Evaluation) -> str:
    return evaluation.get_absolute_url()


def metric_cell(html: str, metric: str) -> str:
    return html.split(f'data-metric="{metric}"')[1].split("</tr>")[0]


# The evaluation's page ------------------------------------------------------------------------


def test_a_succeeded_evaluation_shows_its_metrics_charts_importance_and_slices(
    client_for: Any,
    alice: Any,
    victor: Any,
    classifier: Any,
    churn_data: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Every figure gets a data island and a div for plots.js; slices are worst first."""
    evaluation = evaluate(django_capture_on_commit_callbacks, alice, classifier, churn_data)

    response = client_for(victor).get(page_of(evaluation))

    html = response.content.decode()
    assert response.status_code == 200
    assert "ROC AUC" in metric_cell(html, "roc_auc")
    assert f"{evaluation.metrics['accuracy']:.3f}" in metric_cell(html, "accuracy")
    for chart in CHARTS:
        assert f'<script id="{chart}-data" type="application/json">' in html
        assert f'data-plotly="{chart}-data"' in html
    assert "vendor/plotly.min.js" in html and "js/plots.js" in html
    assert "<script>" not in html  # figures reach the page as data, never as inline code
    # The slice table: the four regions by F1, worst first; of the worst three, those
    # below the whole dataset's F1 highlighted.
    slices = html.split('class="table slice-table"')[1].split("</table>")[0]
    by_f1 = sorted(
        (s for s in evaluation.slices if s["metrics"].get("f1_macro") is not None),
        key=lambda s: s["metrics"]["f1_macro"],
    )
    shown = re.findall(r"<td>([\w()]+)(?: <span class=\"badge bad\">worst</span>)?</td>", slices)
    assert shown[: len(by_f1)] == [s["value"] for s in by_f1]
    overall = evaluation.metrics["f1_macro"]
    below = [s for s in by_f1[:3] if s["metrics"]["f1_macro"] < overall]
    assert below and len(below) < len(by_f1)
    assert slices.count('class="worst"') == len(below)
    assert "Latency" in html and "p95" in html


def test_the_champion_column_compares_with_production_on_the_same_dataset(
    client_for: Any,
    alice: Any,
    classifier: Any,
    churn_data: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """1.0.0 runs in production; 2.0.0 (stored predictions) is compared with it, each
    difference marked better or worse by the metric's direction."""
    # given: production 1.0.0 evaluated, and a challenger evaluated on the same data
    set_version_status(actor=alice, version=classifier, status="candidate")
    set_version_status(actor=None, version=classifier, status="production", via_release=True)
    champion = evaluate(django_capture_on_commit_callbacks, alice, classifier, churn_data)
    challenger_version = create_version(
        actor=alice, model=classifier.model, version="2.0.0", input_schema=INPUT_SCHEMA
    )
    challenger = evaluate(
        django_capture_on_commit_callbacks,
        alice,
        challenger_version,
        churn_data,
        prediction_column="stored_prediction",
    )

    # when
    html = client_for(alice).get(page_of(challenger)).content.decode()

    # then
    assert "Production 1.0.0" in html
    compared = 0
    for metric in ("accuracy", "f1_macro", "precision_macro", "recall_macro"):
        mine, theirs = challenger.metrics.get(metric), champion.metrics.get(metric)
        if mine is None or theirs is None or mine == theirs:
            continue
        verdict = "better" if improvement(metric, mine, theirs) > 0 else "worse"
        assert f'class="change {verdict}"' in metric_cell(html, metric)
        compared += 1
    assert compared >= 2


def test_without_a_production_evaluation_there_is_no_champion_column(
    client_for: Any,
    alice: Any,
    classifier: Any,
    churn_data: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    evaluation = evaluate(django_capture_on_commit_callbacks, alice, classifier, churn_data)

    html = client_for(alice).get(page_of(evaluation)).content.decode()

    assert "Production " not in html and 'class="change' not in html


def test_a_queued_evaluation_polls_its_job_and_offers_cancel_to_its_editors(
    client_for: Any, alice: Any, bob: Any, victor: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = queued(alice, classifier, churn_data)
    job_url = f"{page_of(evaluation)}job/"

    editor = client_for(bob).get(page_of(evaluation)).content.decode()
    viewer = client_for(victor).get(page_of(evaluation)).content.decode()

    assert f'hx-get="{job_url}" hx-trigger="every 2s"' in editor
    assert "No results yet" in editor
    assert f'hx-post="{page_of(evaluation)}cancel/"' in editor
    assert 'hx-trigger="every 2s"' in viewer and "cancel/" not in viewer


def test_the_job_poll_reloads_the_page_once_the_evaluation_is_final(
    client_for: Any, alice: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = queued(alice, classifier, churn_data)
    client = client_for(alice)
    job_url = f"{page_of(evaluation)}job/"

    running = client.get(job_url, headers={"HX-Request": "true"})
    Evaluation.objects.filter(pk=evaluation.pk).update(status=JobStatus.FAILED, error="boom")
    final = client.get(job_url, headers={"HX-Request": "true"})

    assert running.status_code == 200 and b'data-job-status="queued"' in running.content
    assert final.headers["HX-Refresh"] == "true"


def test_cancel_stops_a_queued_evaluation_and_refuses_get(
    client_for: Any, alice: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = queued(alice, classifier, churn_data)
    client = client_for(alice)
    cancel = f"{page_of(evaluation)}cancel/"

    assert client.get(cancel).status_code == 405
    response = client.post(cancel)

    assert response.status_code == 302 and response["Location"] == page_of(evaluation)
    evaluation.refresh_from_db()
    assert evaluation.phase == JobStatus.CANCELLED  # no worker had it: it stops at once
    html = client.get(page_of(evaluation)).content.decode()
    assert "This evaluation was cancelled" in html and "Start it again" in html


def test_cancelling_a_running_evaluation_is_said_on_the_job_status(
    client_for: Any, alice: Any, classifier: Any, churn_data: Any
) -> None:
    """A worker holds it: the job stops between batches, and the poll keeps going."""
    evaluation = queued(alice, classifier, churn_data)
    assert claim_job(Evaluation, evaluation.pk) is not None

    response = client_for(alice).post(
        f"{page_of(evaluation)}cancel/", headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200 and "HX-Refresh" not in response.headers
    assert "Cancelling: the worker stops at its next step." in html
    assert 'hx-trigger="every 2s"' in html
    evaluation.refresh_from_db()
    assert evaluation.cancel_requested and evaluation.phase == JobStatus.RUNNING


def test_a_regression_evaluation_draws_residuals_and_ranks_slices_by_rmse(
    client_for: Any,
    alice: Any,
    regressor: Any,
    data_file: Callable[..., Path],
    make_dataset: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    dataset = make_dataset(data_file(rows=800))
    with django_capture_on_commit_callbacks(execute=True):
        evaluation = start_evaluation(
            actor=alice,
            version=regressor,
            dataset=dataset,
            label_column="spend",
            slice_columns=["region"],
        )
    evaluation.refresh_from_db()
    assert evaluation.status == JobStatus.SUCCEEDED, evaluation.error

    html = client_for(alice).get(page_of(evaluation)).content.decode()

    assert 'data-plotly="residual-chart-data"' in html
    assert 'data-plotly="confusion-chart-data"' not in html and "Per class" not in html
    assert "Worst first by RMSE" in html
    slices = html.split('class="table slice-table"')[1].split("</table>")[0]
    worst = max(evaluation.slices, key=lambda s: s["metrics"]["rmse"])
    first_row = slices.split("<tbody>")[1].split("</tr>")[0]
    assert f"<td>{worst['value']} " in first_row


def test_a_failed_evaluation_says_why_and_how_to_retry(
    client_for: Any, alice: Any, victor: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = queued(alice, classifier, churn_data)
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=JobStatus.FAILED, error="Column age has 3 empty values from row 12."
    )

    html = client_for(victor).get(page_of(evaluation)).content.decode()

    assert "This evaluation failed" in html
    assert "Column age has 3 empty values from row 12." in html
    assert escape(Evaluation.retry_hint) in html
    assert "Start it again" not in html  # a viewer may not


def test_an_evaluation_of_another_version_is_not_found(
    client_for: Any, alice: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = queued(alice, classifier, churn_data)
    create_version(actor=alice, model=classifier.model, version="2.0.0")

    response = client_for(alice).get(f"/models/churn/versions/2.0.0/evaluations/{evaluation.pk}/")

    assert response.status_code == 404


# The version page --------------------------------------------------------------------------


def test_the_version_page_lists_evaluations_and_the_card_shows_the_latest_results(
    client_for: Any,
    alice: Any,
    victor: Any,
    classifier: Any,
    churn_data: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    evaluation = evaluate(django_capture_on_commit_callbacks, alice, classifier, churn_data)

    html = client_for(victor).get(VERSION).content.decode()

    panel = html.split('id="evaluations"')[1]
    assert f'href="{page_of(evaluation)}">#{evaluation.pk}</a>' in panel
    assert 'data-job-status="succeeded"' in panel
    assert "<code>features</code>" in panel and "<code>tickets</code>" in panel
    card = html.split('id="section-quantitative_analyses"')[1].split("</article>")[0]
    assert "churn-eval 1" in card and f"{evaluation.metrics['accuracy']:.3f}" in card
    assert 'data-plotly="card-importance-chart-data"' in card
    assert "vendor/plotly.min.js" in card


def finished(evaluation: Evaluation, accuracy: float) -> None:
    """Mark a queued evaluation succeeded with a few results, as if a worker ran it."""
    importance = [{"column": "age", "drop": 0.1, "spread": 0.01, "metric": "roc_auc"}]
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=JobStatus.SUCCEEDED,
        finished_at=timezone.now(),
        rows=10,
        metrics={"accuracy": accuracy},
        importance=importance,
    )


def test_the_version_page_reads_the_same_queries_for_1_or_12_evaluations(
    client_for: Any,
    alice: Any,
    classifier: Any,
    churn_data: Any,
    make_dataset: Callable[..., Any],
    data_file: Callable[..., Path],
) -> None:
    """The panel and the card read a fixed number of rows: the newest evaluations are
    listed, the card keeps the latest succeeded one per dataset (at most three)."""
    client = client_for(alice)
    finished(queued(alice, classifier, churn_data), 0.5)
    client.get(VERSION)  # warm the caches
    with CaptureQueriesContext(connection) as one:
        client.get(VERSION)

    others = [make_dataset(data_file(rows=50, seed=n), name=f"other-{n}") for n in range(3)]
    for n in range(11):
        evaluation = queued(alice, classifier, others[n % 3] if n < 9 else churn_data)
        if n < 10:
            finished(evaluation, 0.6 + n / 100)
    with CaptureQueriesContext(connection) as twelve:
        html = client.get(VERSION).content.decode()

    assert len(twelve) == len(one)
    panel = html.split('id="evaluations"')[1]
    assert panel.count('data-job-status="') == 10 and "The newest 10 are shown." in panel
    card = html.split('id="section-quantitative_analyses"')[1].split("</article>")[0]
    # The latest per dataset: churn-eval (0.69), other-2 (0.68), other-1 (0.67); not other-0.
    assert [f"0.6{n}0" in card for n in range(10)] == [False] * 7 + [True] * 3
    assert "other-0" not in card


def test_a_viewer_sees_results_but_no_start_cancel_or_edit(
    client_for: Any, alice: Any, victor: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = queued(alice, classifier, churn_data)
    client = client_for(victor)

    html = client.get(VERSION).content.decode()

    assert "Start the evaluation" not in html and "Edit input mapping" not in html
    assert "drafted from the contract" in html  # the mapping is shown to everyone
    assert client.post(START, {"dataset": churn_data.pk}).status_code == 403
    assert client.post(f"{page_of(evaluation)}cancel/").status_code == 403
    assert client.get(MAPPING).status_code == 403
    evaluation.refresh_from_db()
    assert not evaluation.cancel_requested


def test_a_member_of_another_team_cannot_start_an_evaluation(
    client_for: Any, charlie: Any, classifier: Any, churn_data: Any
) -> None:
    response = client_for(charlie).post(
        START, {"dataset": churn_data.pk, "label_column": "churned"}
    )

    assert response.status_code == 403
    assert not Evaluation.objects.exists()


def test_an_editor_starts_an_evaluation_from_the_version_page(
    client_for: Any,
    bob: Any,
    classifier: Any,
    churn_data: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(bob)
    form = client.get(VERSION).content.decode().split('class="start-evaluation"')[1]
    assert f'<option value="{churn_data.pk}">churn-eval 1 (evaluation)</option>' in form
    assert 'name="prediction_column"' not in form  # the artifact makes the predictions

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            START,
            {"dataset": churn_data.pk, "label_column": "churned", "slice_columns": "region"},
        )

    evaluation = Evaluation.objects.get()
    assert response.status_code == 302 and response["Location"] == page_of(evaluation)
    assert evaluation.started_by == bob and evaluation.slice_columns == ["region"]
    assert evaluation.status == JobStatus.SUCCEEDED


def test_choosing_a_dataset_suggests_its_columns(
    client_for: Any, bob: Any, classifier: Any, churn_data: Any
) -> None:
    """The select fetches the chosen dataset's columns for the text inputs' datalist."""
    churn_data.columns = [{"name": "region"}, {"name": "<b>churned</b>"}]
    churn_data.save(update_fields=["columns"])
    client = client_for(bob)
    hx = {"HX-Request": "true"}

    chosen = client.get(START, {"dataset": churn_data.pk}, headers=hx).content.decode()
    unknown = client.get(START, {"dataset": "nope"}, headers=hx).content.decode()

    assert chosen == (
        '<datalist id="dataset-columns"><option value="&lt;b&gt;churned&lt;/b&gt;"></option>'
        '<option value="region"></option></datalist>'
    )
    assert unknown == '<datalist id="dataset-columns"></datalist>'


def test_a_refused_start_names_the_problem_and_keeps_what_was_typed(
    client_for: Any, bob: Any, classifier: Any, churn_data: Any
) -> None:
    response = client_for(bob).post(
        START,
        {"dataset": churn_data.pk, "label_column": "churn", "slice_columns": "region, plan"},
    )

    html = response.content.decode()
    assert response.status_code == 200 and not Evaluation.objects.exists()
    assert "The dataset has no column churn." in html
    assert "The dataset has no column plan." in html
    assert 'value="churn"' in html and 'value="region, plan"' in html
    assert 'class="error-summary"' in html


def test_a_version_without_an_artifact_asks_for_its_prediction_column(
    client_for: Any, alice: Any, churn: Any, churn_data: Any
) -> None:
    create_version(actor=alice, model=churn, version="1.0.0", input_schema=INPUT_SCHEMA)

    html = client_for(alice).get(VERSION).content.decode()

    assert 'name="prediction_column"' in html
    assert "No valid ONNX artifact" in html
    assert client_for(alice).get(MAPPING).status_code == 302  # nothing to map


# The input mapping form ---------------------------------------------------------------------


def mapping_form(columns: list[str], **overrides: str) -> dict[str, str]:
    return {
        "input_0_columns": "\n".join(columns),
        "input_0_dtype": "float32",
        "label": "label",
        "scores": "probabilities",
        "classes": "0\n1",
        **overrides,
    }


def test_the_mapping_form_refuses_a_mapping_that_does_not_fit_and_names_the_problem(
    client_for: Any, bob: Any, classifier: Any
) -> None:
    typed = ["age", "income", "tenure"]

    response = client_for(bob).post(MAPPING, mapping_form(typed, classes="no\nyes\nmaybe"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "features takes 4 columns, the mapping gives 3." in html
    assert "probabilities has 2 score columns, classes names 3." in html
    assert "age\nincome\ntenure</textarea>" in html and "no\nyes\nmaybe</textarea>" in html
    assert InputMapping.objects.get(version=classifier).drafted  # nothing was saved


def test_the_mapping_form_saves_a_mapping_that_fits(
    client_for: Any, bob: Any, classifier: Any
) -> None:
    client = client_for(bob)
    form = client.get(MAPPING).content.decode()
    assert "age\nincome\ntenure\ntickets</textarea>" in form  # the draft, in the graph's order

    response = client.post(MAPPING, mapping_form(FEATURES, classes="stays\nchurns"))

    assert response.status_code == 302 and response["Location"] == VERSION
    saved = InputMapping.objects.get(version=classifier)
    assert not saved.drafted and saved.updated_by == bob
    assert saved.outputs["classes"] == ["stays", "churns"]
    assert "drafted from the contract" not in client.get(VERSION).content.decode()


def test_another_teams_member_cannot_edit_the_mapping(
    client_for: Any, charlie: Any, classifier: Any
) -> None:
    client = client_for(charlie)

    assert client.get(MAPPING).status_code == 403
    assert client.post(MAPPING, mapping_form(FEATURES)).status_code == 403
    assert not InputMapping.objects.filter(drafted=False).exists()


def test_anonymous_visitors_are_sent_to_sign_in(
    client: Any, alice: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = queued(alice, classifier, churn_data)

    for url in (page_of(evaluation), f"{page_of(evaluation)}job/", MAPPING, START):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
