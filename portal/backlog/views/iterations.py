"""Iteration pages: items by status, burndown, what was done and carried over, notes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from portal.backlog.iteration_forms import IterationForm, NotesForm, plannable_teams
from portal.backlog.iteration_queries import (
    current_iteration,
    iteration_page,
    iteration_rows,
    iteration_state,
)
from portal.backlog.models import Iteration
from portal.backlog.permissions import WORKER_ROLES, require_edit_iteration
from portal.backlog.services.iterations import create_iteration, update_iteration_notes
from portal.roles import has_role
from portal.web import HtmxHttpRequest, submit


@require_GET
def iteration_list(request: HtmxHttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = [(row, iteration_state(row, today)) for row in iteration_rows()]
    may_plan = has_role(request.user, *WORKER_ROLES) and plannable_teams(request.user).exists()
    return render(request, "backlog/iteration_list.html", {"rows": rows, "may_plan": may_plan})


@require_GET
def iteration_current(request: HtmxHttpRequest) -> HttpResponse:
    """The running iteration of my team (or its latest), for a link that stays the same."""
    found = current_iteration(request.user)
    if found is None:
        messages.info(request, "None of your teams has started an iteration yet.")
        return redirect("backlog:iteration-list")
    return redirect(found)


@require_http_methods(["GET", "POST"])
def iteration_create(request: HtmxHttpRequest) -> HttpResponse:
    teams = plannable_teams(request.user)
    if not has_role(request.user, *WORKER_ROLES) or not teams.exists():
        raise PermissionDenied("Only members of a team plan its iterations.")
    form = IterationForm(request.POST or None, teams=teams)
    done = submit(
        request,
        form,
        lambda data: create_iteration(actor=request.user, **data),
        success=lambda iteration: f"Iteration “{iteration}” planned.",
    )
    return done.response or render(request, "backlog/iteration_form.html", {"form": form})


@require_GET
def iteration_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    page = iteration_page(pk, request.user)
    return render(
        request, "backlog/iteration_detail.html", {"page": page, "iteration": page.iteration}
    )


@require_http_methods(["GET", "POST"])
def iteration_notes(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    iteration = get_object_or_404(Iteration.objects.select_related("team"), pk=pk)
    require_edit_iteration(request.user, iteration)
    form = NotesForm(request.POST or None, initial=NotesForm.initial_for(iteration))
    done = submit(
        request,
        form,
        lambda data: update_iteration_notes(
            actor=request.user,
            iteration=iteration,
            review_notes=data["review_notes"],
            retro_notes=data["retro_notes"],
            expected_revision=data["revision"],
        ),
        success=lambda saved: f"Notes of “{saved}” saved.",
        saved=lambda: NotesForm.initial_for(Iteration.objects.get(pk=pk)),
        labels={"review_notes": "Review notes", "retro_notes": "Retrospective notes"},
    )
    if done.response is not None:
        return done.response
    context = {
        "iteration": iteration,
        "form": form,
        "stale": done.stale,
    }
    return render(request, "backlog/iteration_notes.html", context)
