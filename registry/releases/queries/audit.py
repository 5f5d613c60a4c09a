"""Audit: the audit page's filters, its events (every one, or a model's) and their CSV."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, time
from typing import Any

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone

from portal.activity import PRIVATE_VERB_PREFIX
from portal.models import AuditEvent
from portal.people import Person
from portal.spreadsheets import csv_safe
from registry.lookups import AnyOf
from registry.models import Artifact, ModelCard, ModelVersion, RegisteredModel
from registry.releases.models import ReleaseRequest


class AuditFilterSet(django_filters.FilterSet):
    """The audit page's filters: a verb prefix ("release." or "release.approve"), the
    actor's username, and a day range."""

    verb = django_filters.CharFilter(
        field_name="verb",
        lookup_expr="startswith",
        label="Verb starts with",
        max_length=64,
        help_text="e.g. release. or release.approve",
    )
    actor = django_filters.CharFilter(
        field_name="actor__username", label="Actor (username)", max_length=150
    )
    since = django_filters.DateFilter(
        method="filter_since", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        method="filter_until", label="Until", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = AuditEvent
        fields = ["verb", "actor", "since", "until"]

    def filter_since(self, queryset: QuerySet[AuditEvent], name: str, value: Any) -> Any:
        start = timezone.make_aware(datetime.combine(value, time.min))
        return queryset.filter(created_at__gte=start)

    def filter_until(self, queryset: QuerySet[AuditEvent], name: str, value: Any) -> Any:
        end = timezone.make_aware(datetime.combine(value, time.max))
        return queryset.filter(created_at__lte=end)


def audit_queryset(person: Person, model: RegisteredModel | None = None) -> QuerySet[AuditEvent]:
    """Every audit event, or the model's: its own, its versions', cards', artifacts' and
    releases' (two queries to name them by id, then the index per target). People's API
    tokens are theirs and the admins': left out for everyone else."""
    events = AuditEvent.objects.select_related("actor", "target_type").order_by(
        "-created_at", "-id"
    )
    if not person.is_superuser:
        events = events.exclude(verb__startswith=PRIVATE_VERB_PREFIX)
    if model is None:
        return events
    return events.filter(model_targets(model))


def model_targets(model: RegisteredModel) -> Q:
    types = ContentType.objects.get_for_models(
        RegisteredModel, ModelVersion, ModelCard, Artifact, ReleaseRequest
    )
    rows = list(
        ModelVersion.objects.filter(model=model).values_list("pk", "card__pk", "artifact__pk")
    )
    releases = list(
        ReleaseRequest.objects.filter(version__model=model).values_list("pk", flat=True)
    )
    ids: dict[type[Any], list[Any]] = {
        RegisteredModel: [model.pk],
        ModelVersion: [row[0] for row in rows],
        ModelCard: [row[1] for row in rows],
        Artifact: [row[2] for row in rows],
        ReleaseRequest: releases,
    }
    found = Q(pk__in=[])
    for kind, pks in ids.items():
        texts = [str(pk) for pk in pks if pk is not None]
        if texts:
            found |= Q(target_type=types[kind]) & Q(AnyOf("target_id", texts))
    return found


CSV_COLUMNS = (
    *("time", "actor", "verb", "target_type", "target_id", "target"),
    *("before", "after", "request_id"),
)
CSV_CHUNK = 500


def audit_csv_rows(events: QuerySet[AuditEvent]) -> Iterable[list[str]]:
    """The header, then one row per event, each cell safe to open in a spreadsheet."""
    yield list(CSV_COLUMNS)
    for event in events.iterator(chunk_size=CSV_CHUNK):
        target_type = event.target_type
        cells = [
            event.created_at.isoformat(timespec="seconds"),
            event.actor.get_username() if event.actor else "",
            event.verb,
            f"{target_type.app_label}.{target_type.model}" if target_type else "",
            event.target_id,
            event.target_repr,
            json.dumps(event.before, sort_keys=True) if event.before is not None else "",
            json.dumps(event.after, sort_keys=True) if event.after is not None else "",
            event.request_id,
        ]
        yield [csv_safe(cell) for cell in cells]
