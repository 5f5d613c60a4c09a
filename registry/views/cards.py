"""Editing a version's model card, its live preview, and README export/import.

A README import is two steps: the upload is parsed and checked, and a confirmation shows
what it would change; only the confirmation's POST replaces the card.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.concurrency import StaleEdit
from portal.markdown import render as render_markdown  # noqa: F401 - a test patches it
from portal.markdown import stored_html
from portal.web import (
    HtmxHttpRequest,
    StaleNotice,
    apply_service_errors,
    submit,
    upload_refusal,
)
from registry.downloads import card_readme_response
from registry.forms import CardForm, CardImportConfirmForm, CardImportForm
from registry.models import CARD_SECTIONS, ModelCard, ModelVersion
from registry.permissions import require_edit
from registry.services.card_readme import (
    ImportChanges,
    import_card_readme,
    preview_card_import,
    read_readme_upload,
)
from registry.services.model_cards import render_section, update_card
from registry.views.shared import get_version, shown

SECTION_FIELDS = {field for field, _ in CARD_SECTIONS}


def _card(version: ModelVersion) -> ModelCard:
    return get_object_or_404(ModelCard.objects.select_related("version__model"), version=version)


def _preview_url(version: ModelVersion) -> str:
    return reverse("registry:card-preview", args=[version.model.name, version.version])


def _import_form(card: ModelCard) -> CardImportForm:
    return CardImportForm(initial={"revision": card.revision})


def _preview(field: str, text: str) -> dict[str, Any]:
    """The section as saving would store it, or why saving would refuse it."""
    try:
        return {"html": stored_html(render_section(field=field, text=text))}
    except ValidationError as exc:
        problem = " ".join(exc.messages).rstrip(".")
        return {"error": f"{problem}; saving it will be refused."}


def _section_editors(form: CardForm, card: ModelCard) -> list[tuple[Any, dict[str, Any]]]:
    """Each section's bound field with its preview: stored HTML, or the posted text's."""
    if not form.is_bound:
        return [
            (field, {"html": stored_html(card.html.get(field.name, ""))})
            for field in form.section_fields()
        ]
    return [(field, _preview(field.name, field.value() or "")) for field in form.section_fields()]


def _render_edit(
    request: HtmxHttpRequest,
    version: ModelVersion,
    form: CardForm,
    import_form: CardImportForm,
    *,
    status: int = 200,
    import_error: str = "",
    stale: StaleNotice | None = None,
) -> HttpResponse:
    context: dict[str, Any] = {
        "model": version.model,
        "version": version,
        "form": form,
        "sections": _section_editors(form, _card(version)),
        "import_form": import_form,
        "import_error": import_error,
        "stale": stale,
    }
    return render(request, "registry/card_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def card_edit(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    require_edit(request.user, found.model)
    card = _card(found)
    form = CardForm(
        request.POST or None, initial=CardForm.initial_for(card), preview_url=_preview_url(found)
    )
    done = submit(
        request,
        form,
        lambda data: update_card(
            actor=request.user,
            card=card,
            sections=form.sections(),
            metadata=form.metadata(),
            expected_revision=data["revision"],
        ),
        success=lambda _: f"Card of {found.version} saved.",
        saved=lambda: CardForm.initial_for(_card(found)),
        labels=dict(CARD_SECTIONS),
    )
    return done.response or _render_edit(request, found, form, _import_form(card), stale=done.stale)


@require_POST
def card_preview(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    """The posted section rendered as it will appear: Markdown, then sanitised."""
    found = get_version(name, version)
    require_edit(request.user, found.model)
    field = request.POST.get("field", "")
    if field not in SECTION_FIELDS:
        return render(request, "registry/partials/card_preview.html", {"html": ""})
    preview = _preview(field, request.POST.get(field, ""))
    return render(request, "registry/partials/card_preview.html", preview)


@require_GET
def card_export(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    _card(found)  # a version without a card is a 404
    return card_readme_response(found)


def _render_confirm(
    request: HtmxHttpRequest,
    version: ModelVersion,
    form: CardImportConfirmForm,
    changes: ImportChanges | None,
    *,
    stale: str = "",
) -> HttpResponse:
    """The import's confirmation: what it changes (None when the README was refused)."""
    context: dict[str, Any] = {
        "model": version.model,
        "version": version,
        "form": form,
        "changes": changes,
        "metadata_changes": [
            {"label": field.replace("_", " ").capitalize(), "now": shown(now), "then": shown(then)}
            for field, now, then in (changes.metadata if changes else [])
        ],
        "stale": stale,
    }
    return render(request, "registry/card_import_confirm.html", context)


def _confirm_form(card: ModelCard, text: str) -> CardImportConfirmForm:
    return CardImportConfirmForm(initial={"readme": text, "revision": card.revision})


@require_POST
def card_import(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    """Parse and check an uploaded README and show what it would change; saves nothing."""
    found = get_version(name, version)
    require_edit(request.user, found.model)
    card = _card(found)
    form = CardForm(initial=CardForm.initial_for(card), preview_url=_preview_url(found))
    if refusal := upload_refusal(request):
        return _render_edit(
            request, found, form, _import_form(card), status=413, import_error=refusal
        )
    import_form = CardImportForm(request.POST, request.FILES)
    if not import_form.is_valid():
        return _render_edit(request, found, form, import_form)
    try:
        text = read_readme_upload(import_form.cleaned_data["readme"])
        expected = import_form.cleaned_data["revision"]
        changes = preview_card_import(card=card, text=text, expected_revision=expected)
    except ValidationError as exc:
        apply_service_errors(import_form, exc)
        return _render_edit(request, found, form, import_form)
    except StaleEdit as exc:
        # An import replaces the whole card: start again from the saved one.
        return _render_edit(request, found, form, _import_form(card), import_error=str(exc))
    return _render_confirm(request, found, _confirm_form(card, text), changes)


@require_POST
def card_import_confirm(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    """Replace the card with the confirmed README, unless the card changed since it was shown."""
    found = get_version(name, version)
    require_edit(request.user, found.model)
    card = _card(found)
    form = CardImportConfirmForm(request.POST)
    try:
        done = submit(
            request,
            form,
            lambda data: import_card_readme(
                actor=request.user,
                card=card,
                text=data["readme"],
                expected_revision=data["revision"],
            ),
            success=lambda _: f"Card of {found.version} imported from README.md.",
        )
    except StaleEdit as exc:
        return _confirm_again(request, found, form, exc)
    return done.response or _render_confirm(request, found, form, None)


def _confirm_again(
    request: HtmxHttpRequest, version: ModelVersion, form: CardImportConfirmForm, exc: StaleEdit
) -> HttpResponse:
    """After a stale confirmation: the changes drawn again against the card as saved now."""
    card, text = _card(version), form.cleaned_data["readme"]
    try:
        changes = preview_card_import(card=card, text=text)
    except ValidationError as error:
        apply_service_errors(form, error)
        return _render_confirm(request, version, form, None)
    stale = (
        "Not replaced: someone else saved this card after the changes below were drawn "
        f"(you saw revision {exc.expected}; it is now at revision {exc.current}). "
        "They are drawn again against the card as it is now."
    )
    return _render_confirm(request, version, _confirm_form(card, text), changes, stale=stale)
