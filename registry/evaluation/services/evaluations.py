"""Evaluating a version on a dataset: started by a person, run on a worker, cancelled.

The run streams the dataset in batches (only the columns it needs), runs the version's ONNX
artifact through its input mapping (or reads a column of stored predictions), folds each
batch into tallies of a bounded size (metrics.py) and keeps a bounded sample for permutation
importance, and writes every result in one save at the end: a run
killed half-way leaves nothing behind, so a redelivered task starts over and the job ends
with exactly one result.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from django.core.exceptions import PermissionDenied
from django.db import transaction

from portal.services.audit import record_event
from portal.services.jobs import (
    claim_job,
    enqueue_job,
    fail_job,
    record_success,
    report_progress,
    request_cancel,
    reset_job,
    running_job,
)
from portal.stored_files import local_path
from registry.evaluation import datafiles
from registry.evaluation.inference import (
    InferenceError,
    MissingValues,
    Prediction,
    Runner,
    require_values,
)
from registry.evaluation.models import Dataset, Evaluation, InputMapping, TaskKind
from registry.evaluation.permissions import can_evaluate
from registry.evaluation.services import evaluation_checks as checks
from registry.evaluation.services.mappings import (
    is_regression,
    mapping_for,
    problems_of,
    valid_artifact,
)
from registry.models import Artifact, ModelVersion

if TYPE_CHECKING:
    from registry.evaluation.metrics import Accumulator, EvaluationResult

PROGRESS_SECONDS = 1.0  # progress (and the cancel check) at most once a second of work
STREAM_SHARE = 80  # percent of the bar for reading and inference; importance takes the rest
RESULT_FIELDS = ["rows", "metrics", "per_class", "curves", "importance", "slices", "latency"]


class EvaluationFailed(Exception):
    """The evaluation cannot succeed as asked; the message says what a person can change."""


# Starting -------------------------------------------------------------------------------


@transaction.atomic
def start_evaluation(
    *,
    actor: Any,
    version: ModelVersion,
    dataset: Dataset,
    label_column: str,
    slice_columns: Sequence[str] = (),
    prediction_column: str = "",
) -> Evaluation:
    """Queue an evaluation of ``version`` on ``dataset``; refused with the field and reason."""
    require_evaluate(actor, version)
    schema = checks.header(dataset)
    slices = list(dict.fromkeys(slice_columns))
    checks.check_columns(schema, label_column, slices, prediction_column)
    regression = is_regression(version)
    checks.check_label(schema, label_column, regression=regression)
    checks.check_model(version, schema, prediction_column)
    evaluation = Evaluation(
        version=version,
        dataset=dataset,
        label_column=label_column,
        slice_columns=slices,
        prediction_column=prediction_column,
        task_kind=TaskKind.REGRESSION if regression else TaskKind.CLASSIFICATION,
    )
    reset_job(evaluation, actor=actor)
    evaluation.save()
    record_event(
        actor=actor,
        verb="evaluation.started",
        target=evaluation,
        after={
            "version": str(version),
            "dataset": str(dataset),
            "label_column": label_column,
            "slice_columns": slices,
            "prediction_column": prediction_column,
        },
    )
    enqueue_job(evaluation)
    return evaluation


def require_evaluate(actor: Any, version: ModelVersion) -> None:
    if not can_evaluate(actor, version):
        raise PermissionDenied(
            f"Only members of {version.model.team} who are Data scientists or Engineers "
            f"may evaluate {version.model.name}."
        )


# Cancelling ----------------------------------------------------------------------------


def cancel_evaluation(*, actor: Any, evaluation: Evaluation) -> Evaluation:
    """Stop a queued or running evaluation (at the worker's next batch); its editors may."""
    require_evaluate(actor, evaluation.version)
    return request_cancel(job=evaluation, actor=actor)


# Running --------------------------------------------------------------------------------


def run_evaluation(*, evaluation_id: int) -> Evaluation:
    """The task body: safe to run twice, after a crash, or next to another run; only the run
    holding the job's lease records a result, and a final job is left as it is."""
    evaluation = claim_job(Evaluation, evaluation_id)
    if evaluation is not None:
        # ExitStack: the local copies of remote files (portal.stored_files) live for the run.
        with running_job(evaluation), ExitStack() as files:
            try:
                result = _measure(evaluation, files)
            except EvaluationFailed as exc:
                fail_job(evaluation, reason=str(exc))
            else:
                _finish(evaluation, result)
    return Evaluation.objects.get(pk=evaluation_id)


@dataclass
class _Plan:
    """What a run reads, and how."""

    evaluation: Evaluation
    path: str
    file_format: str
    total: int | None
    runner: Runner | None
    classes: list[str]

    @property
    def columns(self) -> list[str]:
        e = self.evaluation
        wanted = [e.label_column, *e.slice_columns]
        wanted += self.runner.columns if self.runner else [e.prediction_column]
        return list(dict.fromkeys(wanted))


def _measure(evaluation: Evaluation, files: ExitStack) -> EvaluationResult:
    # Imported here: scikit-learn is for workers; web processes only start evaluations.
    from registry.evaluation.metrics import SAMPLE_ROWS, Accumulator

    report_progress(evaluation, 0, "Loading the model")
    plan = _plan(evaluation, files)
    regression = evaluation.task_kind == TaskKind.REGRESSION
    accumulator = Accumulator(
        regression=regression,
        classes=plan.classes,
        slice_columns=evaluation.slice_columns,
        sample_rows=0 if plan.runner is None else SAMPLE_ROWS,
    )
    progress = _Progress(evaluation, plan.total)
    try:
        for first_row, batch in _numbered(plan):
            _add_batch(plan, accumulator, batch, first_row)
            progress.rows(accumulator.rows)
    except MissingValues as exc:
        raise EvaluationFailed(_nulls_message(plan, exc)) from exc
    except (InferenceError, datafiles.UnreadableDataset) as exc:
        raise EvaluationFailed(_sentence(exc, evaluation.retry_hint)) from exc
    if not accumulator.rows:
        raise EvaluationFailed(f"The dataset {evaluation.dataset} has no rows to evaluate on.")
    unknown = accumulator.unknown_labels()
    if unknown:
        raise EvaluationFailed(_unknown_labels_message(evaluation, unknown, plan.classes))
    report_progress(evaluation, STREAM_SHARE, "Computing the metrics")
    predict = _predictor(plan.runner, accumulator) if plan.runner else None
    try:
        return accumulator.result(predict=predict, on_column=progress.columns)
    except InferenceError as exc:
        raise EvaluationFailed(_sentence(exc, evaluation.retry_hint)) from exc


def _plan(evaluation: Evaluation, files: ExitStack) -> _Plan:
    dataset = evaluation.dataset
    path, file_format = files.enter_context(local_path(dataset.file)), dataset.file_format
    try:
        total = datafiles.row_count_hint(path, file_format) or dataset.row_count
    except datafiles.UnreadableDataset as exc:
        raise EvaluationFailed(f"The dataset {dataset} cannot be read: {exc}.") from exc
    if evaluation.prediction_column:
        return _Plan(evaluation, path, file_format, total, runner=None, classes=[])
    saved, artifact = _mapping_to_run(evaluation.version)
    try:
        runner = Runner(files.enter_context(local_path(artifact.file)), saved.inputs, saved.outputs)
    except InferenceError as exc:
        raise EvaluationFailed(
            _sentence(exc, "Upload the artifact again, then start the evaluation again.")
        ) from exc
    classes = [str(c) for c in saved.outputs.get("classes", [])]
    return _Plan(evaluation, path, file_format, total, runner=runner, classes=classes)


def _mapping_to_run(version: ModelVersion) -> tuple[InputMapping, Artifact]:
    """The mapping as it stands now: the artifact may have changed since the start."""
    artifact = valid_artifact(version)
    if artifact is None:
        raise EvaluationFailed(
            f"{version} no longer has a valid artifact. Upload one, then start it again."
        )
    saved = mapping_for(version)
    problems = problems_of(saved, artifact)
    if problems:
        listed = " ".join(problem for found in problems.values() for problem in found)
        raise EvaluationFailed(f"The input mapping does not fit the model: {listed}")
    return saved, artifact


def _numbered(plan: _Plan) -> Iterable[tuple[int, pa.RecordBatch]]:
    """The dataset's batches, each with the number of its first row (from 1)."""
    first_row = 1
    for batch in datafiles.batches(plan.path, plan.file_format, columns=plan.columns):
        yield first_row, batch
        first_row += batch.num_rows


def _add_batch(
    plan: _Plan, accumulator: Accumulator, batch: pa.RecordBatch, first_row: int
) -> None:
    evaluation = plan.evaluation
    truth = batch.column(evaluation.label_column)
    require_values(truth, evaluation.label_column, first_row)
    slices = {name: batch.column(name) for name in evaluation.slice_columns}
    if plan.runner is None:
        predicted = batch.column(evaluation.prediction_column)
        require_values(predicted, evaluation.prediction_column, first_row)
        accumulator.add(truth=truth, predicted=predicted, slices=slices)
        return
    features = plan.runner.column_arrays(batch, first_row=first_row)
    prediction = plan.runner.predict(plan.runner.feeds(features))
    accumulator.add(
        truth=truth,
        predicted=prediction.labels,
        scores=prediction.scores,
        slices=slices,
        features=features,
        seconds=prediction.seconds,
    )


def _predictor(runner: Runner, accumulator: Accumulator) -> Any:
    """The model for permutation importance: column arrays in, predictions as codes out
    (not made when the importance metric reads only the scores: ROC AUC)."""

    def predict(columns: Any) -> tuple[np.ndarray, np.ndarray | None]:
        prediction: Prediction = runner.predict(runner.feeds(columns))
        if accumulator.importance_metric == "roc_auc" and prediction.scores is not None:
            return np.empty(0, dtype=np.int32), prediction.scores
        return accumulator.predictions(prediction.labels, prediction.scores), prediction.scores

    return predict


class _Progress:
    """Reports rows done (and so renews the lease and notices a cancel) after the first
    batch and then at most once a second."""

    def __init__(self, evaluation: Evaluation, total: int | None) -> None:
        self.evaluation, self.total = evaluation, total
        self.last: float | None = None

    def rows(self, done: int) -> None:
        now = time.monotonic()
        if self.last is not None and now - self.last < PROGRESS_SECONDS:
            return
        if self.total:
            percent = min(STREAM_SHARE, STREAM_SHARE * done // self.total)
            text = f"{done:,} of {self.total:,} rows"
        else:
            percent, text = 0, f"{done:,} rows"
        report_progress(self.evaluation, percent, text)
        self.last = time.monotonic()

    def columns(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.last is not None and now - self.last < PROGRESS_SECONDS:
            return
        self.last = now
        percent = STREAM_SHARE + (99 - STREAM_SHARE) * done // max(total, 1)
        report_progress(
            self.evaluation, percent, f"Permutation importance: column {done + 1} of {total}"
        )


def _nulls_message(plan: _Plan, exc: MissingValues) -> str:
    """Every null of the column, counted over the whole file, and what to do about them."""
    count = exc.count
    try:
        batches = datafiles.batches(plan.path, plan.file_format, columns=[exc.column])
        count = sum(batch.column(0).null_count for batch in batches)
    except datafiles.UnreadableDataset:
        pass  # the count of the batch that failed still helps
    return (
        f"Column {exc.column} has {count:,} nulls, first at row {exc.first_row:,}: fill them "
        "or leave those rows out, then start the evaluation again."
    )


def _unknown_labels_message(evaluation: Evaluation, unknown: list[str], classes: list[str]) -> str:
    shown = ", ".join(unknown[:10]) + (", …" if len(unknown) > 10 else "")
    return (
        f"Label column {evaluation.label_column} has values the model never predicts: {shown} "
        f"(its classes are {', '.join(classes)}). Name the model's classes in the input "
        "mapping, or choose the column holding these labels."
    )


def _sentence(exc: Exception, hint: str) -> str:
    """An error's words as a sentence, then what to do."""
    text = str(exc).strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}. {hint}"


@transaction.atomic
def _finish(run: Evaluation, result: EvaluationResult) -> Evaluation:
    """Write every result in one save, then let the version's gates judge it."""
    values = result.as_json()
    locked = record_success(
        run,
        results={name: values[name] for name in RESULT_FIELDS},
        audit=lambda row: {"rows": row.rows, "metrics": row.metrics},
    )
    if locked is None:
        return Evaluation.objects.get(pk=run.pk)
    # Judged in the same transaction: a succeeded evaluation always has its gate results.
    from registry.evaluation.services.gates import judge

    judge(locked.version, evaluation=locked)
    return locked
