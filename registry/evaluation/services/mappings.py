"""A version's input mapping: drafted on first read from the contract and the ONNX
signature, edited by the model's team, refused with the reason when it does not fit."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from portal.services.audit import record_event
from registry.choices import ArtifactStatus, TaskType
from registry.evaluation import mapping
from registry.evaluation.models import InputMapping
from registry.evaluation.permissions import can_evaluate
from registry.models import Artifact, ModelVersion


def valid_artifact(version: ModelVersion) -> Artifact | None:
    """The version's artifact when validation found it loadable, else None."""
    artifact = Artifact.objects.filter(version=version).first()
    return artifact if artifact and artifact.status == ArtifactStatus.VALID else None


def is_regression(version: ModelVersion) -> bool:
    return str(version.model.task_type) == TaskType.REGRESSION


def mapping_for(version: ModelVersion) -> InputMapping:
    """The version's saved mapping, or a draft saved on first read.

    A draft nobody edited is drafted again when a new artifact no longer fits it; a
    person's mapping is kept, and the evaluation refuses it with the reason.
    """
    artifact = valid_artifact(version)
    if artifact is None:
        raise ValidationError(
            {"version": f"{version} has no valid ONNX artifact, so it has no input mapping."}
        )
    found = InputMapping.objects.filter(version=version).first()
    if found is not None:
        found.version = version  # the caller's instance: no second read
        if not (found.drafted and problems_of(found, artifact)):
            return found
    return _save_draft(version, artifact)


def problems_of(saved: InputMapping, artifact: Artifact) -> dict[str, list[str]]:
    """What keeps ``saved`` from fitting ``artifact``'s graph, by field; empty when it fits."""
    return _problems(saved.inputs, saved.outputs, artifact, regression=is_regression(saved.version))


def _problems(
    inputs: Any, outputs: Any, artifact: Artifact, *, regression: bool
) -> dict[str, list[str]]:
    found = {
        "inputs": mapping.check_inputs(inputs, artifact.inputs),
        "outputs": mapping.check_outputs(outputs, artifact.outputs, regression=regression),
    }
    return {field: problems for field, problems in found.items() if problems}


def draft_for(version: ModelVersion, artifact: Artifact) -> mapping.Draft:
    return mapping.draft_mapping(
        input_schema=version.input_schema,
        output_schema=version.output_schema,
        example_response=version.example_response,
        graph_inputs=artifact.inputs,
        graph_outputs=artifact.outputs,
        regression=is_regression(version),
    )


def _save_draft(version: ModelVersion, artifact: Artifact) -> InputMapping:
    draft = draft_for(version, artifact)
    try:
        with transaction.atomic():
            saved, _ = InputMapping.objects.update_or_create(
                version=version,
                defaults={"inputs": draft.inputs, "outputs": draft.outputs, "drafted": True},
            )
    except IntegrityError:
        # Two first reads at once: the other one's draft is the same.
        saved = InputMapping.objects.get(version=version)
    return saved


@transaction.atomic
def save_mapping(*, actor: Any, version: ModelVersion, inputs: Any, outputs: Any) -> InputMapping:
    """Replace the version's mapping with a person's; refused (ValidationError on "inputs"
    and "outputs") when it does not fit the graph."""
    if not can_evaluate(actor, version):
        raise PermissionDenied(
            f"Only members of {version.model.team} who are Data scientists or Engineers "
            f"may change the input mapping of {version}."
        )
    # The version row is the lock: a new artifact upload locks it too.
    ModelVersion.objects.select_for_update().get(pk=version.pk)
    artifact = valid_artifact(version)
    if artifact is None:
        raise ValidationError({"inputs": f"{version} has no valid ONNX artifact to map onto."})
    problems = _problems(inputs, outputs, artifact, regression=is_regression(version))
    if problems:
        raise ValidationError(problems)
    saved = InputMapping.objects.select_for_update().filter(version=version).first()
    before = {"inputs": saved.inputs, "outputs": saved.outputs} if saved else None
    saved = saved or InputMapping(version=version)
    saved.inputs = mapping.in_graph_order(inputs, artifact.inputs)
    saved.outputs = {
        "label": outputs.get("label", ""),
        "scores": outputs.get("scores", ""),
        "classes": list(outputs.get("classes", [])),
    }
    saved.drafted, saved.updated_by = False, actor
    saved.save()
    record_event(
        actor=actor,
        verb="version.input_mapping_changed",
        target=version,
        before=before,
        after={"inputs": saved.inputs, "outputs": saved.outputs},
    )
    return saved
