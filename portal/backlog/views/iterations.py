"""Iteration pages: items by status, burndown, what was done and carried over, notes."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from portal.backlog.models import Iteration


@require_GET
def iteration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    iteration = get_object_or_404(Iteration, pk=pk)
    return render(request, "backlog/iteration_detail.html", {"iteration": iteration})
