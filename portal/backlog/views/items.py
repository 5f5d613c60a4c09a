"""Backlog pages: the board, the list, an item."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from portal.backlog.models import BacklogItem


@require_GET
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "backlog/board.html", {})


@require_GET
def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(BacklogItem, pk=pk)
    return render(request, "backlog/item_detail.html", {"item": item})
