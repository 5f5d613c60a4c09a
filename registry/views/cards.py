"""Editing a version's model card, its live preview, and README export/import."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.concurrency import StaleEdit
from portal.markdown import MarkdownRefused, stored_html
from portal.markdown import render as render_markdown
from portal.web import HtmxHttpRequest, StaleNotice, submit, upload_refusal
from registry.downloads import card_readme_response
from registry.forms import CardForm, CardImportForm
from registry.models import CARD_SECTIONS, ModelCard, ModelVersion
from registry.permissions import require_edit
from registry.services.card_readme import import_card_readme, read_readme_upload
from registry.services.model_cards import update_card
from registry.views.shared import get_version

SECTION_FIELDS = {field for field, _ in CARD_SECTIONS}


def _card(version: ModelVersion) -> ModelCard:
    return get_object_or_404(ModelCard.objects.select_related("version__model"), version=version)


def _preview_url(version: ModelVersion) -> str:
    return reverse("registry:card-preview", args=[version.model.name, version.version])


def _import_form(card: ModelCard) -> CardImportForm:
    return CardImportForm(initial={"revision": card.revision})


def _preview(text: str) -> dict[str, Any]:
    try:
        return {"html": stored_html(render_markdown(text))}
    except MarkdownRefused as exc:
        return {"error": f"This text {exc}; saving it will be refused."}


def _section_editors(form: CardForm, card: ModelCard) -> list[tuple[Any, dict[str, Any]]]:
    """Each section's bound field with its preview: stored HTML, or the posted text's."""
    if not form.is_bound:
        return [
            (field, {"html": stored_html(card.html.get(field.name, ""))})
            for field in form.section_fields()
        ]
    return [(field, _preview(field.value() or "")) for field in form.section_fields()]


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
    text = request.POST.get(field, "") if field in SECTION_FIELDS else ""
    return render(request, "registry/partials/card_preview.html", _preview(text))


@require_GET
def card_export(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    _card(found)  # a version without a card is a 404
    return card_readme_response(found)


@require_POST
def card_import(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    require_edit(request.user, found.model)
    card = _card(found)
    form = CardForm(initial=CardForm.initial_for(card), preview_url=_preview_url(found))
    if refusal := upload_refusal(request):
        return _render_edit(
            request, found, form, _import_form(card), status=413, import_error=refusal
        )
    import_form = CardImportForm(request.POST, request.FILES)
    try:
        done = submit(
            request,
            import_form,
            lambda data: import_card_readme(
                actor=request.user,
                card=card,
                text=read_readme_upload(data["readme"]),
                expected_revision=data["revision"],
            ),
            success=lambda _: f"Card of {found.version} imported from README.md.",
        )
    except StaleEdit as exc:
        # An import replaces the whole card: start again from the saved one.
        return _render_edit(request, found, form, _import_form(card), import_error=str(exc))
    return done.response or _render_edit(request, found, form, import_form)
