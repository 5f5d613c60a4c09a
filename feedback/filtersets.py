"""Filters of the feedback inbox, shared by its page and its CSV export.

Every choice is an allowlist: models by name, kinds and sources from their TextChoices,
dates as dates; nothing from the request reaches ``filter(**…)`` unchecked.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from feedback.models import Feedback, FeedbackKind, FeedbackSource
from registry.models import RegisteredModel

YES_NO = [("yes", "Yes"), ("no", "No")]


class FeedbackFilterSet(django_filters.FilterSet):
    model = django_filters.ModelChoiceFilter(
        queryset=RegisteredModel.objects.select_related("team"),
        to_field_name="name",
        label="Model",
        empty_label="Every model",
    )
    version = django_filters.CharFilter(
        field_name="prediction_key__version__version", label="Version", max_length=64
    )
    prediction = django_filters.CharFilter(
        field_name="prediction_id", label="Prediction", max_length=200
    )
    kind = django_filters.ChoiceFilter(choices=FeedbackKind.choices, empty_label="Any kind")
    source = django_filters.ChoiceFilter(choices=FeedbackSource.choices, empty_label="Any source")
    since = django_filters.DateFilter(
        method="given_since", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        method="given_until", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    comment = django_filters.ChoiceFilter(
        method="with_comment", choices=YES_NO, label="Has a comment", empty_label="Either"
    )
    triaged = django_filters.ChoiceFilter(
        method="is_triaged", choices=YES_NO, label="Triaged", empty_label="Either"
    )

    class Meta:
        model = Feedback
        fields = ["model", "version", "prediction", "kind", "source"]

    def given_since(self, queryset: QuerySet[Any], name: str, value: date) -> QuerySet[Any]:
        return queryset.filter(created_at__gte=_start_of(value))

    def given_until(self, queryset: QuerySet[Any], name: str, value: date) -> QuerySet[Any]:
        # "To 30 November" includes the whole of that day.
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1)))

    def with_comment(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.exclude(comment="") if value == "yes" else queryset.filter(comment="")

    def is_triaged(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(reviewed_at__isnull=value != "yes")

    @property
    def chosen_model(self) -> RegisteredModel | None:
        """The model the inbox is narrowed to, when the filter names a real one."""
        self.is_valid()  # validates the form; a bad field elsewhere keeps a good model
        chosen: RegisteredModel | None = getattr(self.form, "cleaned_data", {}).get("model")
        return chosen


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
