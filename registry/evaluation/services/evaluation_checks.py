"""What a version and a dataset must offer before an evaluation starts: the columns it reads,
a label that fits the task, and a model to run (a valid artifact and input mapping, or a
column of stored predictions). Each refusal names the field and says what to change."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from django.core.exceptions import ValidationError

from portal.stored_files import local_path
from registry.evaluation import datafiles
from registry.evaluation.mapping import FLOAT_DTYPES, LABEL_DTYPES
from registry.evaluation.models import Dataset
from registry.evaluation.services.mappings import (
    mapping_for,
    problems_of,
    valid_artifact,
)
from registry.models import ModelVersion

MAX_SLICE_COLUMNS = 10


def check_model(version: ModelVersion, schema: pa.Schema, prediction_column: str) -> None:
    """A version with a valid artifact runs it through a fitting mapping; one without reads
    its predictions from a column."""
    if valid_artifact(version) is None:
        if not prediction_column:
            raise ValidationError({"prediction_column": no_model_reason(version)})
        return
    if prediction_column:
        raise ValidationError(
            {
                "prediction_column": (
                    f"{version} has a valid artifact, which the evaluation runs: "
                    "leave the prediction column empty."
                )
            }
        )
    check_mapping(version, schema)


def header(dataset: Dataset) -> pa.Schema:
    try:
        with local_path(dataset.file) as path:
            return datafiles.schema_of(path, dataset.file_format)
    except datafiles.UnreadableDataset as exc:
        raise ValidationError({"dataset": f"{dataset} cannot be read: {exc}"}) from exc


def check_columns(
    schema: pa.Schema, label_column: str, slices: list[str], prediction_column: str
) -> None:
    names = set(schema.names)
    errors: dict[str, list[str]] = {}

    def missing(field: str, column: str) -> None:
        errors.setdefault(field, []).append(f"The dataset has no column {column}.")

    if not label_column:
        errors["label_column"] = ["Name the column holding the true labels."]
    elif label_column not in names:
        missing("label_column", label_column)
    if len(slices) > MAX_SLICE_COLUMNS:
        errors["slice_columns"] = [f"At most {MAX_SLICE_COLUMNS} slice columns."]
    for column in slices:
        if column not in names:
            missing("slice_columns", column)
    if prediction_column and prediction_column not in names:
        missing("prediction_column", prediction_column)
    if errors:
        raise ValidationError(errors)


def check_label(schema: pa.Schema, label_column: str, *, regression: bool) -> None:
    kind = schema.field(label_column).type
    if regression and not _numeric(kind):
        raise ValidationError(
            {"label_column": f"{label_column} holds {kind} values; a regression needs numbers."}
        )
    if not (_numeric(kind) or pa.types.is_boolean(kind) or _textual(kind)):
        raise ValidationError(
            {"label_column": f"{label_column} holds {kind} values, which cannot be labels."}
        )


def _numeric(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)


def _textual(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        return _textual(kind.value_type) or _numeric(kind.value_type)
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def check_mapping(version: ModelVersion, schema: pa.Schema) -> None:
    """The mapping fits the graph, and the dataset has every column it reads, as numbers
    where the graph takes numbers."""
    saved = mapping_for(version)
    artifact = valid_artifact(version)
    assert artifact is not None
    problems = problems_of(saved, artifact)
    if problems:
        listed = " ".join(problem for found in problems.values() for problem in found)
        raise ValidationError(
            {"input_mapping": f"The input mapping does not fit the model: {listed}"}
        )
    errors = []
    for entry in saved.inputs:
        for column in entry["columns"]:
            errors += _column_problems(schema, column, entry)
    if errors:
        raise ValidationError({"dataset": errors})


def _column_problems(schema: pa.Schema, column: str, entry: dict[str, Any]) -> list[str]:
    if column not in schema.names:
        return [
            f"The dataset has no column {column}, which the input mapping feeds to {entry['name']}."
        ]
    kind = schema.field(column).type
    takes_numbers = entry["dtype"] in FLOAT_DTYPES or entry["dtype"] in LABEL_DTYPES - {"string"}
    if takes_numbers and not (
        _numeric(kind) or pa.types.is_boolean(kind) or pa.types.is_null(kind)
    ):
        return [f"Column {column} holds {kind} values; {entry['name']} takes {entry['dtype']}."]
    return []


def no_model_reason(version: ModelVersion) -> str:
    artifact = getattr(version, "artifact", None)
    if artifact is None:
        state = f"{version} has no ONNX artifact"
    else:
        state = f"the artifact of {version} is {artifact.get_status_display().lower()}"
    return f"Name the dataset column holding its predictions: {state} to run."
