"""MLflow's model-registry endpoints: registered models, their versions and aliases."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Prefetch, QuerySet

from registry.mlflow_api import shapes
from registry.mlflow_api.errors import MlflowError, invalid, missing
from registry.mlflow_api.http import Call, endpoint
from registry.mlflow_api.lookups import MAX_NUMBER, as_id
from registry.mlflow_api.paging import paged
from registry.mlflow_api.services import artifacts
from registry.mlflow_api.services import registry as services
from registry.models import ModelAlias, ModelVersion, RegisteredModel
from registry.services.aliases import delete_alias, set_alias
from registry.services.version_tags import delete_version_tag, set_version_tag

_NAME_FILTER = re.compile(r"^\s*name\s*(=|I?LIKE)\s*'((?:[^']|'')*)'\s*$", re.IGNORECASE)
_VERSION_FILTER = re.compile(r"^\s*(name|run_id)\s*=\s*'((?:[^']|'')*)'\s*$", re.IGNORECASE)


def models_queryset() -> QuerySet[RegisteredModel]:
    aliases = ModelAlias.objects.select_related("version")
    return RegisteredModel.objects.select_related("created_by").prefetch_related(
        Prefetch("aliases", queryset=aliases)
    )


def versions_queryset() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.select_related(
        "model", "created_by", "mlflow_source__logged_model"
    ).prefetch_related("tags", "aliases")


def model_named(name: str) -> RegisteredModel:
    found = models_queryset().filter(name=name).first()
    if found is None:
        raise missing(f"Registered Model with name={name} not found")
    return found


def version_of(call: Call) -> ModelVersion:
    name, number = call.text("name"), call.text("version")
    wanted = as_id(number, MAX_NUMBER)
    found = versions_queryset().filter(model__name=name, number=wanted).first() if wanted else None
    if found is None:
        raise missing(f"Model Version (name={name}, version={number}) not found")
    return found


def _latest(model: RegisteredModel) -> list[ModelVersion]:
    newest = versions_queryset().filter(model=model).order_by("-number").first()
    return [newest] if newest else []


# Registered models --------------------------------------------------------------------------


@endpoint("POST")
def create_model(call: Call) -> dict[str, Any]:
    name = call.text("name")
    if RegisteredModel.objects.filter(name=name).exists():
        raise MlflowError(
            "RESOURCE_ALREADY_EXISTS", f"Registered Model (name={name}) already exists."
        )
    services.create_registered_model(
        actor=call.writer(),
        name=name,
        description=call.text("description", required=False),
        tags=call.tags(),
    )
    return {"registered_model": shapes.registered_model(model_named(name))}


@endpoint("GET", "PATCH")
def model(call: Call) -> dict[str, Any]:
    found = model_named(call.text("name"))
    if call.request.method == "PATCH":
        services.describe_model(
            actor=call.writer(), model=found, description=call.text("description", required=False)
        )
        found = model_named(found.name)
    return {"registered_model": shapes.registered_model(found, _latest(found))}


@endpoint("GET", "POST")
def search_models(call: Call) -> dict[str, Any]:
    rows = models_queryset().order_by("name")
    text = call.text("filter", required=False)
    if text:
        match = _NAME_FILTER.match(text)
        if match is None:
            raise invalid(f"Only name = '…' and name LIKE '…' filters are supported: {text!r}.")
        value = match.group(2).replace("''", "'")
        if match.group(1) == "=":
            rows = rows.filter(name=value)
        else:
            rows = rows.filter(name__icontains=value.strip("%"))
    return paged(call, rows, "registered_models", shapes.registered_model, default=100)


@endpoint("GET", "POST", "DELETE")
def alias(call: Call) -> dict[str, Any]:
    found = model_named(call.text("name"))
    name = call.text("alias")
    if call.request.method == "POST":
        number = call.text("version")
        version = (
            versions_queryset().filter(model=found, number=as_id(number, MAX_NUMBER) or -1).first()
        )
        if version is None:
            raise missing(f"Model Version (name={found.name}, version={number}) not found")
        set_alias(actor=call.writer(), version=version, name=name)
        return {}
    if call.request.method == "DELETE":
        delete_alias(actor=call.writer(), model=found, name=name)
        return {}
    pointed = ModelAlias.objects.filter(model=found, name=name).values_list("version", flat=True)
    version = versions_queryset().filter(pk__in=pointed).first()
    if version is None:
        raise missing(f"Registered model alias {name} not found.")
    return {"model_version": shapes.model_version(version)}


# Versions -----------------------------------------------------------------------------------


@endpoint("POST")
def create_version(call: Call) -> dict[str, Any]:
    found = model_named(call.text("name"))
    source = services.resolve_source(
        call.text("source"),
        call.text("run_id", required=False),
        call.text("model_id", required=False),
    )
    version = services.create_model_version(
        actor=call.writer(),
        model=found,
        source=source,
        description=call.text("description", required=False),
        tags=call.tags(),
    )
    return {"model_version": shapes.model_version(versions_queryset().get(pk=version.pk))}


@endpoint("GET", "PATCH")
def version(call: Call) -> dict[str, Any]:
    found = version_of(call)
    if call.request.method == "PATCH":
        services.describe_version(
            actor=call.writer(), version=found, description=call.text("description", required=False)
        )
        found = versions_queryset().get(pk=found.pk)
    return {"model_version": shapes.model_version(found)}


@endpoint("GET", "POST")
def search_versions(call: Call) -> dict[str, Any]:
    rows = versions_queryset().order_by("model__name", "-number")
    text = call.text("filter", required=False)
    if text:
        match = _VERSION_FILTER.match(text)
        if match is None:
            raise invalid(f"Only name = '…' and run_id = '…' filters are supported: {text!r}.")
        value = match.group(2).replace("''", "'")
        if match.group(1).lower() == "name":
            rows = rows.filter(model__name=value)
        else:
            rows = rows.filter(mlflow_source__run_id=as_id(value) or -1)
    return paged(call, rows, "model_versions", shapes.model_version, default=1_000, most=10_000)


@endpoint("POST", "DELETE")
def version_tag(call: Call) -> dict[str, Any]:
    found = version_of(call)
    if call.request.method == "DELETE":
        delete_version_tag(actor=call.writer(), version=found, key=call.text("key"))
        return {}
    value = call.fields.get("value")
    set_version_tag(
        actor=call.writer(),
        version=found,
        key=call.text("key"),
        value="" if value is None else str(value),
    )
    return {}


@endpoint("GET")
def download_uri(call: Call) -> dict[str, Any]:
    found = version_of(call)
    source = getattr(found, "mlflow_source", None)
    if source is None:
        raise missing(
            f"{found.model.name} version {found.number} was not registered from MLflow: "
            "download its ONNX file from its page in Handoff."
        )
    if source.logged_model is not None:
        return {"artifact_uri": artifacts.model_root(source.logged_model)}
    return {"artifact_uri": source.source}
