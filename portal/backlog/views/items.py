"""An item's page, its edit and new-item forms, and what its buttons post: moves, comments,
link removals. The services check every permission; a refusal is the project's 403 page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.backlog.choices import Status
from portal.backlog.forms import CommentForm, ItemCreateForm, ItemEditForm, MoveForm
from portal.backlog.item_page import item_page
from portal.backlog.models import BacklogItem, ItemLink
from portal.backlog.permissions import (
    WORKER_ROLES,
    can_comment,
    can_edit_item,
    require_edit_item,
)
from portal.backlog.services.comments import add_comment
from portal.backlog.services.items import create_item, move_item, update_item
from portal.backlog.services.links import remove_link, resolve_target
from portal.concurrency import StaleEdit
from portal.markdown import render_fields, stored_html
from portal.roles import has_role
from portal.web import HtmxHttpRequest, report_outcome, submit

ITEM_LABELS = {"due_date": "Due date"}


def _item(pk: int) -> BacklogItem:
    return get_object_or_404(BacklogItem.objects.select_related("team"), pk=pk)


def _require_worker(request: HtmxHttpRequest) -> None:
    if not has_role(request.user, *WORKER_ROLES):
        raise PermissionDenied("A Viewer reads the backlog; ask a teammate to change it.")


def _render_item(
    request: HtmxHttpRequest, pk: int, comment_form: CommentForm | None = None
) -> HttpResponse:
    try:
        read = item_page(pk)
    except BacklogItem.DoesNotExist:
        raise Http404("No such item.") from None
    context = {
        "page": read,
        "item": read.item,
        "can_edit": can_edit_item(request.user, read.item),
        "can_comment": can_comment(request.user),
        "comment_form": comment_form or CommentForm(),
        "here": read.item.get_absolute_url(),
    }
    return render(request, "backlog/item_detail.html", context)


@require_GET
def item_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _render_item(request, pk)


# Moves ---------------------------------------------------------------------------------------


def _back(request: HtmxHttpRequest, default: str) -> str:
    """Where a button's POST returns to: its ``next`` (this site only), else ``default``."""
    wanted = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if wanted and safe else default


@require_POST
def item_move(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Move an item to a status (a card's button, or a drop on the board), then go back."""
    item = _item(pk)
    require_edit_item(request.user, item)
    back = _back(request, item.get_absolute_url())
    form = MoveForm(request.POST)
    if not form.is_valid():
        for name, errors in form.errors.items():
            messages.error(request, f"{name.capitalize()}: {' '.join(str(e) for e in errors)}")
        return HttpResponseRedirect(back, status=303)
    status = form.cleaned_data["status"]
    before = _before(form.cleaned_data["before"], item)
    label = Status(status).label
    report_outcome(
        request,
        lambda: move_item(actor=request.user, item=item, status=status, before_item=before),
        f"#{item.pk} moved to {label}." if status != item.status else f"#{item.pk} moved.",
    )
    return HttpResponseRedirect(back, status=303)


def _before(pk: int | None, item: BacklogItem) -> BacklogItem | None:
    if pk is None or pk == item.pk:
        return None
    return BacklogItem.objects.filter(pk=pk).first()


# Comments and links ------------------------------------------------------------------------


@require_POST
def comment_add(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    item = _item(pk)
    form = CommentForm(request.POST)

    def save(data: dict[str, Any]) -> str:
        comment = add_comment(actor=request.user, item=item, body=data["body"])
        return f"{item.get_absolute_url()}#comment-{comment.pk}"

    done = submit(request, form, save, success=lambda _: "Comment added.")
    return done.response or _render_item(request, pk, comment_form=form)


@require_POST
def link_remove(request: HtmxHttpRequest, pk: int, link_pk: int) -> HttpResponse:
    link = get_object_or_404(ItemLink.objects.select_related("item__team"), pk=link_pk, item_id=pk)
    remove_link(actor=request.user, link=link)
    return HttpResponseRedirect(reverse("backlog:item", args=[pk]) + "#links", status=303)


# Forms ---------------------------------------------------------------------------------------


def _preview_url() -> str:
    return reverse("backlog:preview")


def _preview_html(text: str) -> dict[str, Any]:
    try:
        return {"html": stored_html(render_fields({"description": text})["description"])}
    except ValidationError as exc:
        return {"error": f"{' '.join(exc.messages).rstrip('.')}; saving it will be refused."}


@require_POST
def description_preview(request: HtmxHttpRequest) -> HttpResponse:
    """The posted description as it will be stored: Markdown, then sanitised."""
    _require_worker(request)
    preview = _preview_html(request.POST.get("description", ""))
    return render(request, "registry/partials/card_preview.html", preview)


def _form_preview(form: ItemCreateForm | ItemEditForm, stored: str = "") -> dict[str, Any]:
    if form.is_bound:
        return _preview_html(form["description"].value() or "")
    return {"html": stored_html(stored)}


@require_http_methods(["GET", "POST"])
def item_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    item = _item(pk)
    require_edit_item(request.user, item)
    initial = ItemEditForm.initial_for(item)
    form = ItemEditForm(
        request.POST or None, initial=initial, preview_url=_preview_url(), team=item.team
    )

    def save(data: dict[str, Any]) -> BacklogItem:
        people = list(data["assignees"])
        names = sorted({name.strip().lower() for name in form.label_names()})
        same_people = sorted(p.username for p in people) == initial["assignees"]
        try:
            return update_item(
                actor=request.user,
                item=item,
                expected_revision=data["revision"],
                # Unchanged assignees and labels are left alone: the timeline names real changes.
                assignees=None if same_people else people,
                labels=None if ", ".join(names) == initial["labels"] else names,
                **_changed(form, item),
            )
        except StaleEdit:
            # The notice compares the form's values as text with the saved ones.
            form.cleaned_data = ItemEditForm.as_text(form.cleaned_data)
            raise

    done = submit(
        request,
        form,
        save,
        success=lambda saved: f"#{saved.pk} saved.",
        saved=lambda: ItemEditForm.as_text(ItemEditForm.initial_for(_item(pk))),
        labels=ITEM_LABELS,
    )
    context = {
        "form": form,
        "item": item,
        "stale": done.stale,
        "preview": _form_preview(form, item.description_html),
    }
    return done.response or render(request, "backlog/item_form.html", context)


def _changed(form: ItemEditForm, item: BacklogItem) -> dict[str, Any]:
    """The item's fields the form changes (the service saves and records only those)."""
    changed = {}
    for name, value in form.changes().items():
        if name == "iteration":
            if (value.pk if value else None) != item.iteration_id:
                changed[name] = value
        elif value != getattr(item, name):
            changed[name] = value
    return changed


def _about(value: str) -> Model | None:
    """``model:12`` → the model with id 12; a ValidationError when there is no such object."""
    if not value:
        return None
    kind, _, key = value.partition(":")
    return resolve_target(kind, key)


@require_http_methods(["GET", "POST"])
def item_create(request: HtmxHttpRequest) -> HttpResponse:
    _require_worker(request)
    wanted = request.POST.get("about") if request.method == "POST" else request.GET.get("about")
    try:
        about = _about(wanted or "")
    except ValidationError as exc:
        raise Http404(" ".join(exc.messages)) from exc
    form = ItemCreateForm(
        request.POST or None,
        initial={"about": wanted or ""},
        person=request.user,
        preview_url=_preview_url(),
    )

    def save(data: dict[str, Any]) -> BacklogItem:
        fields = {name: data[name] for name in ItemCreateForm.item_fields}
        return create_item(
            actor=request.user,
            team=data["team"],
            assignees=data["assignees"],
            labels=form.label_names(),
            links=[about] if about is not None else [],
            **fields,
        )

    done = submit(request, form, save, success=lambda saved: f"#{saved.pk} {saved.title} filed.")
    context = {
        "form": form,
        "item": None,
        "about": about,
        "about_url": _url_of(about),
        "preview": _form_preview(form),
    }
    return done.response or render(request, "backlog/item_form.html", context)


def _url_of(target: Model | None) -> str:
    getter = getattr(target, "get_absolute_url", None)
    return str(getter()) if getter is not None else ""
