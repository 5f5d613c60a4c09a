"""Input mappings and evaluations through their services, against the real database: who
may, what is refused and why, what a run stores, and runs that fail, are cancelled or are
delivered twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import onnxruntime
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError
from django.utils import timezone
from sklearn import metrics as skm

from portal.jobs import JobStatus
from portal.models import AuditEvent
from portal.services.jobs import claim_job, requeue_stale_jobs
from registry.evaluation.models import Evaluation, InputMapping
from registry.evaluation.services.evaluations import (
    cancel_evaluation,
    run_evaluation,
    start_evaluation,
)
from registry.evaluation.services.mappings import mapping_for, save_mapping
from registry.evaluation.tasks import profile_dataset_task, run_evaluation_task
from registry.models import Artifact
from registry.services.versions import create_version
from tests.evaluation.data import FEATURES, classifier_onnx, regressor_onnx, table, write

pytestmark = pytest.mark.django_db

FITTING = {
    "inputs": [{"name": "features", "dtype": "float32", "columns": FEATURES}],
    "outputs": {"label": "label", "scores": "probabilities", "classes": ["0", "1"]},
}


@pytest.fixture
def churn_data(data_file: Callable[..., Path], make_dataset: Callable[..., Any]) -> Any:
    return make_dataset(data_file(rows=2_000, suffix=".parquet"))


def started(capture: Any, **values: Any) -> Evaluation:
    with capture() as callbacks:
        evaluation = start_evaluation(**values)
    assert len(callbacks) == 1  # the task is sent once the start commits
    return evaluation


def events(verb: str, target: Any) -> int:
    return AuditEvent.objects.filter(verb=verb, target_id=str(target.pk)).count()


def expected_onnx(path: Path, model: bytes, output: str) -> np.ndarray:
    data = pq.read_table(path)
    features = np.column_stack([data[n].to_numpy() for n in FEATURES]).astype(np.float32)
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    return np.asarray(session.run([output], {"features": features})[0])


# Input mappings -----------------------------------------------------------------------------


def test_the_first_read_drafts_the_mapping_and_saves_it(classifier: Any) -> None:
    first = mapping_for(classifier)
    again = mapping_for(classifier)

    assert first.pk == again.pk and first.drafted
    assert first.inputs == FITTING["inputs"] and first.outputs == FITTING["outputs"]
    assert InputMapping.objects.count() == 1


def test_a_version_without_a_valid_artifact_has_no_mapping(alice: Any, churn: Any) -> None:
    bare = create_version(actor=alice, model=churn, version="2.0.0")

    with pytest.raises(ValidationError) as raised:
        mapping_for(bare)

    assert "has no valid ONNX artifact" in str(raised.value.message_dict["version"])


def test_a_person_saves_a_mapping_that_fits(alice: Any, classifier: Any) -> None:
    reordered = [{**FITTING["inputs"][0], "columns": ["income", "age", "tenure", "tickets"]}]

    saved = save_mapping(
        actor=alice, version=classifier, inputs=reordered, outputs=FITTING["outputs"]
    )

    saved.refresh_from_db()
    assert not saved.drafted and saved.updated_by == alice
    assert saved.inputs == reordered
    assert events("version.input_mapping_changed", classifier) == 1


def test_a_mapping_that_does_not_fit_is_refused_and_nothing_changes(
    alice: Any, classifier: Any
) -> None:
    draft = mapping_for(classifier)
    short = [{**FITTING["inputs"][0], "columns": ["age", "income", "tenure"]}]
    outputs = {**FITTING["outputs"], "scores": "nope"}

    with pytest.raises(ValidationError) as raised:
        save_mapping(actor=alice, version=classifier, inputs=short, outputs=outputs)

    errors = raised.value.message_dict
    assert errors["inputs"] == ["features takes 4 columns, the mapping gives 3."]
    assert errors["outputs"][0].startswith("The model has no output named 'nope'")
    draft.refresh_from_db()
    assert draft.drafted and draft.inputs == FITTING["inputs"]
    assert events("version.input_mapping_changed", classifier) == 0


@pytest.mark.parametrize("persona", ["charlie", "victor", "dana"])
def test_only_the_models_team_authors_change_its_mapping(
    persona: str, classifier: Any, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(PermissionDenied):
        save_mapping(actor=request.getfixturevalue(persona), version=classifier, **FITTING)


def test_an_untouched_draft_follows_a_new_artifact_but_a_persons_mapping_stays(
    alice: Any, classifier: Any
) -> None:
    mapping_for(classifier)
    artifact = Artifact.objects.get(version=classifier)
    wider = [{**artifact.inputs[0], "shape": ["?", 3]}]
    Artifact.objects.filter(pk=artifact.pk).update(inputs=wider)

    redrafted = mapping_for(classifier)

    assert redrafted.inputs[0]["columns"] == ["age", "income", "tenure"]
    # A person's mapping is theirs: kept, and refused by the evaluation with the reason.
    Artifact.objects.filter(pk=artifact.pk).update(inputs=artifact.inputs)
    save_mapping(actor=alice, version=classifier, **FITTING)
    Artifact.objects.filter(pk=artifact.pk).update(inputs=wider)
    assert mapping_for(classifier).inputs == FITTING["inputs"]


# Starting -----------------------------------------------------------------------------------


def test_starting_queues_the_job_and_records_who_started_it(
    alice: Any, classifier: Any, churn_data: Any, django_capture_on_commit_callbacks: Any
) -> None:
    evaluation = started(
        django_capture_on_commit_callbacks,
        actor=alice,
        version=classifier,
        dataset=churn_data,
        label_column="churned",
        slice_columns=["region", "region"],
    )

    assert evaluation.status == JobStatus.QUEUED and evaluation.started_by == alice
    assert evaluation.task_kind == "classification"
    assert evaluation.slice_columns == ["region"]
    assert evaluation.lease_expires_at is not None  # beat re-sends a lost message
    assert events("evaluation.started", evaluation) == 1


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"label_column": "churn"}, "label_column", "The dataset has no column churn."),
        ({"label_column": ""}, "label_column", "Name the column holding the true labels."),
        ({"slice_columns": ["county"]}, "slice_columns", "The dataset has no column county."),
        (
            {"slice_columns": [f"c{i}" for i in range(11)]},
            "slice_columns",
            "At most 10 slice columns.",
        ),
        (
            {"prediction_column": "stored_prediction"},
            "prediction_column",
            "churn 1.0.0 has a valid artifact, which the evaluation runs",
        ),
    ],
)
def test_a_start_that_cannot_run_is_refused_naming_the_field(
    alice: Any, classifier: Any, churn_data: Any, values: dict[str, Any], field: str, message: str
) -> None:
    arguments = {"actor": alice, "version": classifier, "dataset": churn_data}

    with pytest.raises(ValidationError) as raised:
        start_evaluation(**{"label_column": "churned", **arguments, **values})

    assert raised.value.message_dict[field][0].startswith(message)
    assert not Evaluation.objects.exists()


def test_a_version_without_an_artifact_needs_a_prediction_column(
    alice: Any, churn: Any, churn_data: Any
) -> None:
    bare = create_version(actor=alice, model=churn, version="2.0.0")

    with pytest.raises(ValidationError) as raised:
        start_evaluation(actor=alice, version=bare, dataset=churn_data, label_column="churned")

    assert raised.value.message_dict["prediction_column"] == [
        "Name the dataset column holding its predictions: churn 2.0.0 has no ONNX artifact to run."
    ]


def test_a_regression_needs_a_numeric_label(alice: Any, regressor: Any, churn_data: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        start_evaluation(actor=alice, version=regressor, dataset=churn_data, label_column="region")

    assert "a regression needs numbers" in raised.value.message_dict["label_column"][0]


def test_the_dataset_must_hold_every_mapped_column_as_numbers(
    alice: Any, classifier: Any, tmp_path: Path, make_dataset: Callable[..., Any]
) -> None:
    data = table(50).drop_columns(["tenure"]).set_column(0, "age", pa.array(["x"] * 50))
    dataset = make_dataset(write(tmp_path / "odd.parquet", data), name="odd")

    with pytest.raises(ValidationError) as raised:
        start_evaluation(actor=alice, version=classifier, dataset=dataset, label_column="churned")

    assert raised.value.message_dict["dataset"] == [
        "Column age holds string values; features takes float32.",
        "The dataset has no column tenure, which the input mapping feeds to features.",
    ]


def test_a_mapping_that_no_longer_fits_is_refused(
    alice: Any, classifier: Any, churn_data: Any
) -> None:
    save_mapping(actor=alice, version=classifier, **FITTING)
    InputMapping.objects.filter(version=classifier).update(
        inputs=[{**FITTING["inputs"][0], "columns": ["age"]}]
    )

    with pytest.raises(ValidationError) as raised:
        start_evaluation(
            actor=alice, version=classifier, dataset=churn_data, label_column="churned"
        )

    assert raised.value.message_dict["input_mapping"] == [
        "The input mapping does not fit the model: features takes 4 columns, the mapping gives 1."
    ]


def test_an_unreadable_dataset_is_refused(
    alice: Any, classifier: Any, tmp_path: Path, make_dataset: Callable[..., Any]
) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 64)
    dataset = make_dataset(path, name="broken")

    with pytest.raises(ValidationError) as raised:
        start_evaluation(actor=alice, version=classifier, dataset=dataset, label_column="churned")

    assert raised.value.message_dict["dataset"][0].startswith("broken 1 cannot be read: pyarrow")


@pytest.mark.parametrize("persona", ["charlie", "victor", "dana"])
def test_only_the_models_team_authors_evaluate_it(
    persona: str, classifier: Any, churn_data: Any, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(PermissionDenied):
        start_evaluation(
            actor=request.getfixturevalue(persona),
            version=classifier,
            dataset=churn_data,
            label_column="churned",
        )
    assert not Evaluation.objects.exists()


# Running ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_the_onnx_path_stores_scikit_learns_metrics(
    suffix: str,
    alice: Any,
    classifier: Any,
    data_file: Callable[..., Path],
    make_dataset: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    # given
    path = data_file(rows=3_000, suffix=suffix)
    dataset = make_dataset(path)
    evaluation = started(
        django_capture_on_commit_callbacks,
        actor=alice,
        version=classifier,
        dataset=dataset,
        label_column="churned",
        slice_columns=["region"],
    )

    # when
    with mock.patch("registry.evaluation.services.gates.judge") as judge:
        done = run_evaluation(evaluation_id=evaluation.pk)

    # then
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert (done.progress, done.rows, done.attempts) == (100, 3_000, 1)
    truth = table(3_000, 0)["churned"].to_numpy()
    parquet = path if suffix == ".parquet" else write(path.with_suffix(".parquet"), table(3_000))
    labels = expected_onnx(parquet, classifier_onnx(), "label")
    scores = expected_onnx(parquet, classifier_onnx(), "probabilities")
    assert done.metrics["accuracy"] == skm.accuracy_score(truth, labels)
    assert done.metrics["f1_macro"] == pytest.approx(skm.f1_score(truth, labels, average="macro"))
    assert done.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(truth, scores[:, 1]))
    assert done.metrics["log_loss"] == pytest.approx(skm.log_loss(truth, scores), rel=1e-6)
    assert {row["column"] for row in done.importance} == set(FEATURES)
    assert {row["metric"] for row in done.importance} == {"roc_auc"}
    assert sorted(s["value"] for s in done.slices) == ["east", "north", "south", "west"]
    assert sum(s["rows"] for s in done.slices) == 3_000
    assert set(done.latency) == {"p50_ms", "p95_ms", "rows_per_s"}
    assert done.curves["confusion"] == skm.confusion_matrix(truth, labels).tolist()
    judge.assert_called_once_with(classifier, evaluation=mock.ANY)
    assert judge.call_args.kwargs["evaluation"].pk == done.pk
    assert events("evaluation.succeeded", done) == 1


def test_progress_counts_rows_done_of_the_total_then_importance_columns(
    alice: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = start_evaluation(
        actor=alice, version=classifier, dataset=churn_data, label_column="churned"
    )
    from registry.evaluation.services import evaluations as service

    every_time = mock.patch.object(service, "PROGRESS_SECONDS", 0)
    with (
        every_time,
        mock.patch.object(service, "report_progress", wraps=service.report_progress) as report,
    ):
        run_evaluation(evaluation_id=evaluation.pk)

    reported = [(c.args[1], c.args[2]) for c in report.call_args_list]
    assert reported[:3] == [
        (0, "Loading the model"),
        (80, "2,000 of 2,000 rows"),  # the Parquet footer gives the total
        (80, "Computing the metrics"),
    ]
    assert reported[-1] == (94, "Permutation importance: column 4 of 4")


def test_progress_is_written_at_most_once_an_interval(
    alice: Any, classifier: Any, churn_data: Any
) -> None:
    """Each report is a committed write: within the interval (an hour here, so the test does
    not hang on the machine's speed) only the first rows are reported, no column."""
    evaluation = start_evaluation(
        actor=alice, version=classifier, dataset=churn_data, label_column="churned"
    )
    from registry.evaluation.services import evaluations as service

    hourly = mock.patch.object(service, "PROGRESS_SECONDS", 3600)
    with (
        hourly,
        mock.patch.object(service, "report_progress", wraps=service.report_progress) as report,
    ):
        run_evaluation(evaluation_id=evaluation.pk)

    reported = [c.args[2] for c in report.call_args_list]
    assert reported == ["Loading the model", "2,000 of 2,000 rows", "Computing the metrics"]


def test_the_predictions_column_path_reads_stored_predictions(
    alice: Any, churn: Any, churn_data: Any, django_capture_on_commit_callbacks: Any
) -> None:
    bare = create_version(actor=alice, model=churn, version="2.0.0")
    evaluation = started(
        django_capture_on_commit_callbacks,
        actor=alice,
        version=bare,
        dataset=churn_data,
        label_column="churned",
        prediction_column="stored_prediction",
    )

    done = run_evaluation(evaluation_id=evaluation.pk)

    data = table(2_000, 0)
    truth, stored = data["churned"].to_numpy(), data["stored_prediction"].to_numpy()
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.metrics["accuracy"] == skm.accuracy_score(truth, stored)
    assert done.metrics["recall_weighted"] == pytest.approx(
        skm.recall_score(truth, stored, average="weighted")
    )
    assert "roc_auc" not in done.metrics
    assert done.latency == {} and done.importance == []


def test_a_regression_stores_scikit_learns_errors(
    alice: Any, regressor: Any, churn_data: Any, django_capture_on_commit_callbacks: Any
) -> None:
    evaluation = started(
        django_capture_on_commit_callbacks,
        actor=alice,
        version=regressor,
        dataset=churn_data,
        label_column="spend",
    )

    done = run_evaluation(evaluation_id=evaluation.pk)

    truth = table(2_000, 0)["spend"].to_numpy()
    predicted = expected_onnx(Path(churn_data.file.path), regressor_onnx(), "variable")[:, 0]
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.task_kind == "regression"
    assert done.metrics["r2"] == pytest.approx(skm.r2_score(truth, predicted), rel=1e-9)
    assert done.metrics["mae"] == pytest.approx(skm.mean_absolute_error(truth, predicted))
    assert {row["metric"] for row in done.importance} == {"r2"}
    assert sum(done.curves["residuals"]["counts"]) == 2_000


def test_a_corrupt_artifact_fails_with_a_message_to_act_on(
    alice: Any, classifier: Any, churn_data: Any, django_capture_on_commit_callbacks: Any
) -> None:
    evaluation = started(
        django_capture_on_commit_callbacks,
        actor=alice,
        version=classifier,
        dataset=churn_data,
        label_column="churned",
    )
    Path(classifier.artifact.file.path).write_bytes(b"\x08\x07 not a model any more")

    done = run_evaluation(evaluation_id=evaluation.pk)

    assert done.status == JobStatus.FAILED
    assert done.error.startswith("The artifact cannot be loaded: ")
    assert done.error.endswith("Upload the artifact again, then start the evaluation again.")
    assert classifier.artifact.file.path not in done.error
    assert done.metrics == {} and done.rows is None
    assert events("evaluation.failed", done) == 1


def test_nulls_in_a_mapped_column_fail_naming_the_column_the_count_and_the_first_row(
    alice: Any,
    classifier: Any,
    tmp_path: Path,
    make_dataset: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    data = table(3_000)
    income = data["income"].to_pylist()
    for row in (16, 2_500, 2_999):  # rows 17, 2,501 and 3,000, counting from 1
        income[row] = None
    data = data.set_column(1, "income", pa.array(income))
    path = tmp_path / "gaps.parquet"
    pq.write_table(data, path, row_group_size=1_000)
    dataset = make_dataset(path, name="gaps")
    evaluation = started(
        django_capture_on_commit_callbacks,
        actor=alice,
        version=classifier,
        dataset=dataset,
        label_column="churned",
    )

    done = run_evaluation(evaluation_id=evaluation.pk)

    assert done.status == JobStatus.FAILED
    assert done.error == (
        "Column income has 3 nulls, first at row 17: fill them or leave those rows out, "
        "then start the evaluation again."
    )


def test_labels_the_model_never_predicts_fail_the_evaluation(
    alice: Any,
    classifier: Any,
    tmp_path: Path,
    make_dataset: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    data = table(200)
    words = np.where(data["churned"].to_numpy() == 1, "yes", "no")
    data = data.set_column(5, "churned", pa.array(words))
    dataset = make_dataset(write(tmp_path / "words.parquet", data), name="words")
    evaluation = started(
        django_capture_on_commit_callbacks,
        actor=alice,
        version=classifier,
        dataset=dataset,
        label_column="churned",
    )

    done = run_evaluation(evaluation_id=evaluation.pk)

    assert done.status == JobStatus.FAILED
    assert done.error.startswith(
        "Label column churned has values the model never predicts: no, yes (its classes are 0, 1)."
    )


def test_a_dataset_without_rows_fails_the_evaluation(
    alice: Any, classifier: Any, tmp_path: Path, make_dataset: Callable[..., Any]
) -> None:
    dataset = make_dataset(write(tmp_path / "empty.parquet", table(0)), name="empty")
    evaluation = start_evaluation(
        actor=alice, version=classifier, dataset=dataset, label_column="churned"
    )

    done = run_evaluation(evaluation_id=evaluation.pk)

    assert done.status == JobStatus.FAILED
    assert done.error == "The dataset empty 1 has no rows to evaluate on."


def test_a_cancel_stops_the_run_between_batches_and_stores_nothing(
    alice: Any, classifier: Any, churn_data: Any, django_capture_on_commit_callbacks: Any
) -> None:
    evaluation = started(
        django_capture_on_commit_callbacks,
        actor=alice,
        version=classifier,
        dataset=churn_data,
        label_column="churned",
    )
    from registry.evaluation.services import evaluations as service

    add_batch = service._add_batch

    def cancelled_meanwhile(*args: Any, **kwargs: Any) -> None:
        add_batch(*args, **kwargs)
        cancel_evaluation(actor=alice, evaluation=Evaluation.objects.get(pk=evaluation.pk))

    with mock.patch.object(service, "_add_batch", side_effect=cancelled_meanwhile) as batches:
        done = run_evaluation(evaluation_id=evaluation.pk)

    assert batches.call_count == 1
    assert done.status == JobStatus.CANCELLED
    assert done.metrics == {} and done.rows is None and done.importance == []
    assert events("evaluation.cancel_requested", done) == 1
    assert events("evaluation.cancelled", done) == 1


def test_a_queued_evaluation_is_cancelled_at_once_and_never_runs(
    alice: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = start_evaluation(
        actor=alice, version=classifier, dataset=churn_data, label_column="churned"
    )

    cancelled = cancel_evaluation(actor=alice, evaluation=evaluation)
    done = run_evaluation(evaluation_id=evaluation.pk)

    assert cancelled.status == done.status == JobStatus.CANCELLED
    assert done.attempts == 0
    with pytest.raises(ValidationError, match="Nothing to cancel"):
        cancel_evaluation(actor=alice, evaluation=done)


def test_outsiders_cannot_cancel(
    alice: Any, charlie: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = start_evaluation(
        actor=alice, version=classifier, dataset=churn_data, label_column="churned"
    )

    with pytest.raises(PermissionDenied):
        cancel_evaluation(actor=charlie, evaluation=evaluation)

    evaluation.refresh_from_db()
    assert not evaluation.cancel_requested


def test_a_redelivered_task_starts_over_and_ends_with_one_result(
    alice: Any, classifier: Any, churn_data: Any
) -> None:
    """A run killed mid-way wrote nothing; the redelivered one claims the job afresh."""
    # given: a first run that claimed the job and died (its lease then ran out)
    evaluation = start_evaluation(
        actor=alice, version=classifier, dataset=churn_data, label_column="churned"
    )
    dead = claim_job(Evaluation, evaluation.pk)
    assert dead is not None
    Evaluation.objects.filter(pk=evaluation.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1), progress=40
    )

    # when: the task arrives again, twice (a broker redelivery and beat's re-send)
    done = run_evaluation(evaluation_id=evaluation.pk)
    again = run_evaluation(evaluation_id=evaluation.pk)

    # then
    assert done.status == again.status == JobStatus.SUCCEEDED
    assert again.attempts == 2 and again.finished_at == done.finished_at
    assert events("evaluation.succeeded", done) == 1
    # The dead run cannot write over the result if it ever comes back.
    from registry.evaluation.services.evaluations import RESULT_FIELDS, _finish

    stale = mock.Mock(as_json=mock.Mock(return_value=dict.fromkeys(RESULT_FIELDS, 1)))
    assert _finish(dead, stale).rows == 2_000


def test_a_crash_gives_the_job_back_for_another_attempt(
    alice: Any, classifier: Any, churn_data: Any
) -> None:
    evaluation = start_evaluation(
        actor=alice, version=classifier, dataset=churn_data, label_column="churned"
    )

    with (
        mock.patch(
            "registry.evaluation.services.evaluations._add_batch", side_effect=KeyError("x")
        ),
        pytest.raises(KeyError),
    ):
        run_evaluation(evaluation_id=evaluation.pk)

    evaluation.refresh_from_db()
    assert evaluation.status == JobStatus.QUEUED
    assert evaluation.error == "Attempt 1 of 3 stopped with KeyError; it will be retried."


# Tasks --------------------------------------------------------------------------------------


def test_the_tasks_call_their_services() -> None:
    with mock.patch("registry.evaluation.services.evaluations.run_evaluation") as evaluate:
        run_evaluation_task(42)
    with mock.patch("registry.evaluation.services.datasets.profile_dataset") as profile:
        profile_dataset_task(7)

    evaluate.assert_called_once_with(evaluation_id=42)
    profile.assert_called_once_with(dataset_id=7)


def test_the_tasks_retry_database_outages_only() -> None:
    for task in (run_evaluation_task, profile_dataset_task):
        assert task.autoretry_for == (OperationalError,)
        assert task.max_retries == 5
    assert run_evaluation_task.name == Evaluation.task_name


def test_the_task_runs_eagerly_through_delay(alice: Any, classifier: Any, churn_data: Any) -> None:
    evaluation = start_evaluation(
        actor=alice, version=classifier, dataset=churn_data, label_column="churned"
    )

    run_evaluation_task.delay(evaluation.pk)

    evaluation.refresh_from_db()
    assert evaluation.status == JobStatus.SUCCEEDED


def test_beat_sends_a_lost_evaluation_again(
    alice: Any, classifier: Any, churn_data: Any, django_capture_on_commit_callbacks: Any
) -> None:
    evaluation = start_evaluation(
        actor=alice, version=classifier, dataset=churn_data, label_column="churned"
    )
    Evaluation.objects.filter(pk=evaluation.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    with (
        mock.patch("registry.evaluation.tasks.run_evaluation_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        sent = requeue_stale_jobs()

    assert sent == 1
    delay.assert_called_once_with(evaluation.pk)
