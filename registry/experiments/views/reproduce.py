"""How to train a promoted version again: the run's commit, data, environment and params."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from portal.web import HtmxHttpRequest
from registry.experiments.reproduce import how_to_reproduce
from registry.models import ModelVersion


@require_GET
def version_reproduce(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_object_or_404(
        ModelVersion.objects.select_related("model"), model__name=name, version=version
    )
    recipe = how_to_reproduce(found)
    if recipe is None:
        raise Http404(f"{found} was registered by hand: no run records how it was trained.")
    context = {"version": found, "model": found.model, "recipe": recipe}
    return render(request, "experiments/reproduce.html", context)
