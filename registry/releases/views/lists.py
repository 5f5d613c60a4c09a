"""The releases list: filter by state, environment, model, or what waits for my decision."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from portal.people import signed_in
from portal.web import HtmxHttpRequest, wants_fragment
from registry.releases.permissions import is_approver
from registry.releases.queries import (
    ReleaseFilterSet,
    environments,
    needed_approvals,
    release_list_queryset,
)

PAGE_SIZE = 25


@require_GET
def release_list(request: HtmxHttpRequest) -> HttpResponse:
    person = signed_in(request)
    filterset = ReleaseFilterSet(
        request.GET or None,
        queryset=release_list_queryset(),
        person=person,
        environments=environments(),
    )
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(release, needed_approvals(release.environment)) for release in page.object_list]
    context = {
        "filter": filterset,
        "page": page,
        "rows": rows,
        "approver": is_approver(person),
    }
    template = "releases/release_list.html"
    if wants_fragment(request):
        template = "releases/partials/release_table.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
