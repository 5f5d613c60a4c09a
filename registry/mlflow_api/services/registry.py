"""MLflow's model-registry calls as Handoff's registry services.

An MLflow registered model is a Handoff model; an MLflow version is a Handoff version,
addressed by its number. The semantic version is ``<number>.0.0`` unless the tag
``handoff.semver`` says otherwise. When the registered source holds an ONNX model (the onnx
flavour, or an ``.onnx`` file), it becomes the version's artifact and is validated like any
upload; the ``MLmodel`` signature becomes the version's contract.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from portal.people import Person
from registry.experiments.models import Run
from registry.experiments.services.promotion import link_run
from registry.mlflow_api.lookups import run_numbered
from registry.mlflow_api.models import LoggedModel, VersionSource
from registry.mlflow_api.services import artifacts
from registry.mlflow_api.services.teams import TEAM_TAG, team_for
from registry.mlflow_api.signature import (
    MAX_MLMODEL_BYTES,
    SignatureError,
    contract,
    onnx_file,
    read_mlmodel,
)
from registry.models import ModelVersion, RegisteredModel
from registry.services import models as model_services
from registry.services.artifacts import store_artifact
from registry.services.version_tags import set_version_tag
from registry.services.versions import create_version, update_notes

SEMVER_TAG = "handoff.semver"
MAX_MLMODEL_READ = MAX_MLMODEL_BYTES + 1  # one byte over, so read_mlmodel sees it is too big
MAX_SUMMARY = RegisteredModel._meta.get_field("summary").max_length or 300
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")


def check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ValidationError(
            {
                "name": f"{name[:100]!r}: a Handoff model name is 1-100 lower-case letters, "
                "digits and hyphens, e.g. churn-risk."
            }
        )


def create_registered_model(
    *, actor: Person, name: str, description: str, tags: dict[str, str]
) -> RegisteredModel:
    check_name(name)
    return model_services.create_model(
        actor=actor,
        name=name,
        title=name,
        team=team_for(actor, tags),
        summary=_summary(description),
    )


def describe_model(*, actor: Person, model: RegisteredModel, description: str) -> RegisteredModel:
    return model_services.update_model(actor=actor, model=model, summary=_summary(description))


def _summary(description: str) -> str:
    if len(description) > MAX_SUMMARY:
        raise ValidationError(
            {
                "description": f"A model's description is its summary: at most {MAX_SUMMARY} "
                "characters (write the rest in the model card)."
            }
        )
    return description


@dataclass(frozen=True)
class Source:
    """What a version's ``source`` URI points at among the files Handoff holds."""

    uri: str
    where: artifacts.Place | None  # None: a location Handoff does not hold (s3://, file:…)
    run: Run | None
    logged_model: LoggedModel | None


def resolve_source(uri: str, run_id: str, model_id: str) -> Source:
    """The files behind ``uri``; Handoff never fetches a location it does not hold."""
    logged = None
    if model_id or uri.startswith("models:/m-"):
        wanted = model_id or uri.removeprefix("models:/").split("/")[0]
        logged = LoggedModel.objects.select_related("source_run").filter(model_id=wanted).first()
        if logged is None:
            raise ObjectDoesNotExist(f"Logged model {wanted!r} not found.")
    run = _run(run_id) if run_id else (logged.source_run if logged else None)
    where = None
    if logged is not None and not uri.startswith("mlflow-artifacts:/"):
        where = artifacts.place(artifacts.model_root(logged).removeprefix("mlflow-artifacts:/"))
    elif uri.startswith("mlflow-artifacts:/"):
        where = artifacts.place(uri.removeprefix("mlflow-artifacts:").lstrip("/"))
    elif uri.startswith("runs:/"):
        run_part, _, sub = uri.removeprefix("runs:/").partition("/")
        run = _run(run_part)
        root = artifacts.run_root(run).removeprefix("mlflow-artifacts:/")
        where = artifacts.place(f"{root}/{sub}".rstrip("/"))
    return Source(uri, where, run, logged)


def _run(run_id: str) -> Run:
    run = run_numbered(run_id)
    if run is None:
        raise ObjectDoesNotExist(f"Run with id={run_id} not found.")
    return run


@transaction.atomic
def create_model_version(
    *,
    actor: Person,
    model: RegisteredModel,
    source: Source,
    description: str,
    tags: dict[str, str],
) -> ModelVersion:
    """Register the next version of ``model`` from ``source``: all of it or nothing."""
    locked = RegisteredModel.objects.select_for_update().get(pk=model.pk)
    semver = tags.get(SEMVER_TAG) or f"{locked.versions_registered + 1}.0.0"
    mlmodel, onnx_name = _model_files(source.where)
    schemas = contract(mlmodel) if mlmodel else None
    fields = {"input_schema": schemas[0], "output_schema": schemas[1]} if schemas else {}
    version = create_version(actor=actor, model=locked, version=semver, notes=description, **fields)
    VersionSource.objects.create(
        version=version, source=source.uri[:1000], run=source.run, logged_model=source.logged_model
    )
    if source.run is not None:
        link_run(actor=actor, run=source.run, version=version)
    for key, value in tags.items():
        if key not in (SEMVER_TAG, TEAM_TAG):
            set_version_tag(actor=actor, version=version, key=key, value=value)
    if onnx_name is not None and source.where is not None:
        _attach_onnx(actor, version, source.where, onnx_name)
    return version


def _model_files(where: artifacts.Place | None) -> tuple[dict | None, str | None]:
    """The parsed MLmodel file and the ONNX file's path under ``where``, where there are."""
    if where is None:
        return None, None
    if where.relative.endswith(".onnx"):
        return None, ""
    mlmodel = None
    try:
        with artifacts.opened(_under(where, "MLmodel")) as handle:
            mlmodel = read_mlmodel(handle.read(MAX_MLMODEL_READ))
    except ObjectDoesNotExist:
        pass
    except SignatureError as exc:
        raise ValidationError({"source": str(exc)}) from None
    named = onnx_file(mlmodel) if mlmodel else None
    if named:
        return mlmodel, named
    found = sorted(path for path in artifacts.walk(where) if path.endswith(".onnx"))
    return mlmodel, found[0] if found else None


def _under(where: artifacts.Place, relative: str) -> artifacts.Place:
    joined = posixpath.join(where.relative, relative) if relative else where.relative
    return artifacts.Place(where.experiment, where.owner, joined)


def _attach_onnx(actor: Person, version: ModelVersion, where: artifacts.Place, name: str) -> None:
    target = _under(where, name)
    try:
        artifacts.place(target.uri_path)  # the flavour's file name is the client's: check it
    except ValidationError as exc:
        raise ValidationError({"source": f"The ONNX file name is not allowed: {exc}"}) from None
    with artifacts.opened(target) as handle:
        size = default_storage.size(target.storage_name)
        filename = posixpath.basename(target.relative)
        upload = UploadedFile(handle, filename, "application/octet-stream", size)
        store_artifact(actor=actor, version=version, upload=upload)


def describe_version(*, actor: Person, version: ModelVersion, description: str) -> ModelVersion:
    return update_notes(actor=actor, version=version, notes=description)
