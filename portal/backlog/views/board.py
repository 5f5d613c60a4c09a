"""The board (columns by status), the list (sortable, paginated) and its CSV export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from portal.backlog.filtersets import BacklogItemFilterSet
from portal.backlog.models import BacklogItem
from portal.backlog.permissions import WORKER_ROLES
from portal.backlog.queries import (
    board as read_board,
)
from portal.backlog.queries import (
    csv_rows,
    editable_ids,
    item_queryset,
    list_rows,
    model_options,
)
from portal.roles import has_role
from portal.web import HtmxHttpRequest, wants_fragment

PAGE_SIZE = 25
# The list's sortable columns: the filterset's ordering fields.
SORTABLE = ("priority", "updated_at", "due_date")


def _filterset(request: HtmxHttpRequest, queryset: QuerySet[BacklogItem]) -> BacklogItemFilterSet:
    return BacklogItemFilterSet(request.GET, queryset=queryset, request=request)


def _filter_context(request: HtmxHttpRequest, filterset: BacklogItemFilterSet) -> dict[str, Any]:
    return {
        "filter": filterset,
        "model_options": model_options(),
        "chosen_model": request.GET.get("model", ""),
        "mine": filterset.form.cleaned_data.get("mine") if filterset.is_valid() else False,
        "can_create": has_role(request.user, *WORKER_ROLES),
    }


def _page(
    request: HtmxHttpRequest, page: str, fragment: str, context: dict[str, Any]
) -> HttpResponse:
    template = page
    if wants_fragment(request):
        template, context["fragment"] = fragment, True
    response = render(request, template, context)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def board(request: HtmxHttpRequest) -> HttpResponse:
    filterset = _filterset(request, BacklogItem.objects.defer("description", "description_html"))
    read = read_board(filterset.qs)
    cards = [card for column in read.columns for card in column.cards]
    context = {
        **_filter_context(request, filterset),
        "board": read,
        "editable": editable_ids(request.user, cards),
        "here": request.get_full_path(),
    }
    return _page(request, "backlog/board.html", "backlog/partials/board.html", context)


def _sort_links(request: HtmxHttpRequest) -> dict[str, dict[str, str]]:
    """Each sortable column's next ordering (ascending first, then descending) and aria-sort."""
    current = request.GET.get("sort", "")
    links = {}
    for name in SORTABLE:
        if current == name:
            links[name] = {"value": f"-{name}", "aria": "ascending"}
        elif current == f"-{name}":
            links[name] = {"value": name, "aria": "descending"}
        else:
            links[name] = {"value": name, "aria": "none"}
    return links


@require_GET
def item_list(request: HtmxHttpRequest) -> HttpResponse:
    queryset = item_queryset().order_by("-updated_at", "-pk")
    filterset = _filterset(request, queryset)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **_filter_context(request, filterset),
        "page": page,
        "rows": list_rows(page.object_list),
        "sort": _sort_links(request),
    }
    return _page(request, "backlog/item_list.html", "backlog/partials/item_table.html", context)


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


@require_GET
def item_list_csv(request: HtmxHttpRequest) -> StreamingHttpResponse:
    """Every filtered item (not only a page), streamed; cells that would run as formulas
    in a spreadsheet are prefixed with a quote."""
    filterset = _filterset(request, item_queryset().order_by("-updated_at", "-pk"))
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        for row in csv_rows(filterset.qs):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="backlog.csv"'
    return response
