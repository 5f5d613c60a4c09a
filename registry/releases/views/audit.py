"""The audit trail as a page and as CSV: every event, or one model's, filtered by verb
prefix, actor and day. Read-only: the audit log has no edit or delete anywhere."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.activity import links_for
from portal.people import signed_in
from portal.web import HtmxHttpRequest
from registry.models import RegisteredModel
from registry.releases.queries import AuditFilterSet, audit_csv_rows, audit_queryset
from registry.views.shared import get_model

EVENTS_PER_PAGE = 50


def _filtered(
    request: HtmxHttpRequest, name: str | None
) -> tuple[AuditFilterSet, RegisteredModel | None]:
    model = get_model(name) if name else None
    events = audit_queryset(signed_in(request), model)
    return AuditFilterSet(request.GET or None, queryset=events), model


@require_GET
def audit_log(request: HtmxHttpRequest, name: str | None = None) -> HttpResponse:
    filterset, model = _filtered(request, name)
    page = Paginator(filterset.qs, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    events = list(page.object_list)
    links = links_for(events)
    rows = [(event, links.get((event.target_type_id, event.target_id), "")) for event in events]
    context = {"filter": filterset, "page": page, "rows": rows, "model": model}
    return render(request, "releases/audit.html", context)


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


@require_GET
def audit_csv(request: HtmxHttpRequest, name: str | None = None) -> StreamingHttpResponse:
    filterset, model = _filtered(request, name)
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        for row in audit_csv_rows(filterset.qs):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    filename = f"audit-{model.name}.csv" if model else "audit.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
