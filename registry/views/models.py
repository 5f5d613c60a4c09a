"""The models list, a model's page (with one version selected), and model forms."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods

from portal.backlog.permissions import WORKER_ROLES
from portal.people import signed_in
from portal.roles import has_role
from portal.web import HtmxHttpRequest, submit, wants_fragment
from registry.choices import VersionStatus
from registry.filtersets import ALL_TEAMS, ModelPageFilterSet
from registry.forms import ModelCreateForm, ModelEditForm
from registry.models import CARD_SECTIONS, ModelVersion, RegisteredModel
from registry.permissions import can_create_model, can_edit_model, require_edit
from registry.queries import (
    ModelPage,
    filter_choices,
    model_list_queryset,
    model_page,
    model_rows,
)
from registry.services.card_diffs import card_diff, metadata_diff
from registry.services.models import create_model, update_model
from registry.services.versions import contract_changes
from registry.views.schema_table import schema_rows
from registry.views.shared import get_model, shown

PAGE_SIZE = 25
SECTION_TITLES = dict(CARD_SECTIONS)


@require_GET
def model_list(request: HtmxHttpRequest) -> HttpResponse:
    # Always bound: with no query string a member still sees their teams' models.
    choices = filter_choices(signed_in(request))
    filterset = ModelPageFilterSet(
        request.GET, queryset=model_list_queryset(), teams=choices.teams, tags=choices.tags
    )
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": filterset,
        "shows_my_teams": filterset.shows_my_teams,
        "all_teams": ALL_TEAMS,
        "page": page,
        "rows": model_rows(page.object_list),
        "can_create": can_create_model(request.user),
    }
    template = "registry/model_list.html"
    if wants_fragment(request):
        template = "registry/partials/model_table.html"
    response = render(request, template, context)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _pretty(value: Any) -> str:
    return "" if value is None else json.dumps(value, indent=2, ensure_ascii=False)


def _version_context(read: ModelPage, selected: ModelVersion) -> dict[str, Any]:
    previous = read.previous
    card = read.cards.get(selected.pk)
    previous_card = read.cards.get(previous.pk) if previous else None
    changed_sections = []
    changed_metadata: list[tuple[str, str, str]] = []
    if previous is not None and card is not None:
        changed_sections = [d for d in card_diff(previous_card, card) if d.status != "unchanged"]
        changed_metadata = [
            (field.replace("_", " "), shown(old), shown(new))
            for field, old, new in metadata_diff(previous_card, card)
        ]
    artifact = getattr(selected, "artifact", None)
    return {
        "previous": previous,
        "card": card,
        "missing_sections": [(f, SECTION_TITLES.get(f, f)) for f in card.missing_sections()]
        if card
        else [],
        "changed_sections": changed_sections,
        "changed_metadata": changed_metadata,
        "change_count": len(changed_sections) + len(changed_metadata),
        "contract_changes": contract_changes(previous, selected),
        "input_rows": schema_rows(selected.input_schema),
        "output_rows": schema_rows(selected.output_schema),
        "input_json": _pretty(selected.input_schema),
        "output_json": _pretty(selected.output_schema),
        "example_request_json": _pretty(selected.example_request),
        "example_response_json": _pretty(selected.example_response),
        "artifact": artifact,
        "accepts_artifact": selected.accepts_artifact,
        "direct_statuses": [
            (value, label)
            for value, label in VersionStatus.choices
            if selected.can_move_directly_to(value)
        ],
    }


@require_GET
def model_detail(request: HtmxHttpRequest, name: str, version: str | None = None) -> HttpResponse:
    model = get_model(name)
    wanted = request.GET.get("version")
    if version is None and wanted:
        # The no-JS version switcher submits ?version=…; send it to the version's own URL.
        if not model.versions.filter(version=wanted).exists():
            raise Http404(f"No version {wanted}.")
        return redirect("registry:version-detail", name=model.name, version=wanted)
    try:
        read = model_page(model, version=version, page=request.GET.get("versions_page"))
    except ModelVersion.DoesNotExist as exc:
        raise Http404(str(exc)) from exc
    context: dict[str, Any] = {
        "model": model,
        "tags": read.tags,
        "aliases": read.aliases,
        "versions": read.versions,
        "version_page": read.version_page,
        "version_rows": read.version_rows,
        "selected_on_page": read.selected_on_page,
        "selected_page_number": read.selected_page_number,
        "selected": read.selected,
        "production": read.production,
        "staging": read.staging,
        "activity": read.activity_entries,
        "can_edit": can_edit_model(request.user, model),
        "open_items": read.open_items,
        "can_file_item": has_role(request.user, *WORKER_ROLES),
    }
    if read.selected is not None:
        context.update(_version_context(read, read.selected))
    return render(request, "registry/model_detail.html", context)


@require_http_methods(["GET", "POST"])
def model_create(request: HtmxHttpRequest) -> HttpResponse:
    if not can_create_model(request.user):
        raise PermissionDenied("Only a Data scientist or Engineer may register a model.")
    form = ModelCreateForm(request.POST or None, user=request.user)
    done = submit(
        request,
        form,
        lambda data: create_model(actor=request.user, **data),
        success=lambda model: f"Model {model.name} registered.",
    )
    context = {"form": form, "model": None}
    return done.response or render(request, "registry/model_form.html", context)


@require_http_methods(["GET", "POST"])
def model_edit(request: HtmxHttpRequest, name: str) -> HttpResponse:
    model = get_model(name)
    require_edit(request.user, model)
    form = ModelEditForm(request.POST or None, initial=ModelEditForm.initial_for(model))

    def save(data: dict[str, Any]) -> RegisteredModel:
        fields = form.changes()
        return update_model(
            actor=request.user,
            model=model,
            tags=fields.pop("tags"),
            expected_revision=data["revision"],
            **fields,
        )

    done = submit(
        request,
        form,
        save,
        success=lambda saved: f"Model {saved.name} saved.",
        saved=lambda: ModelEditForm.initial_for(get_model(name)),
    )
    context = {"form": form, "model": model, "stale": done.stale}
    return done.response or render(request, "registry/model_form.html", context)
