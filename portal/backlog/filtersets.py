"""Filters for backlog items, shared by the board, the list, the CSV export and the API.

Every choice is an allowlist: people by username, labels by name, models and iterations by
id, kinds/statuses/disciplines/priorities from their TextChoices.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from portal.backlog.choices import Discipline, Kind, Priority, Status
from portal.backlog.links import linkable_model
from portal.backlog.models import BacklogItem, Iteration, Label
from portal.text import is_number

MAX_SEARCH_LENGTH = 100


class BacklogItemFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=MAX_SEARCH_LENGTH)
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, label="Status")
    kind = django_filters.ChoiceFilter(choices=Kind.choices, empty_label="Any kind")
    priority = django_filters.ChoiceFilter(choices=Priority.choices, empty_label="Any priority")
    discipline = django_filters.ChoiceFilter(
        choices=Discipline.choices, empty_label="Any discipline"
    )
    assignee = django_filters.ModelChoiceFilter(
        field_name="assignees",
        queryset=get_user_model().objects.filter(is_active=True),
        to_field_name="username",
        label="Assignee",
        empty_label="Anyone",
    )
    label = django_filters.ModelChoiceFilter(
        field_name="labels",
        queryset=Label.objects.all(),
        to_field_name="name",
        label="Label",
        empty_label="Any label",
    )
    iteration = django_filters.ModelChoiceFilter(
        queryset=Iteration.objects.all(), label="Iteration", empty_label="Any iteration"
    )
    model = django_filters.NumberFilter(method="about_model", label="Model")
    mine = django_filters.BooleanFilter(method="assigned_to_me", label="My items")
    sort = django_filters.OrderingFilter(
        fields=(("priority", "priority"), ("updated_at", "updated_at"), ("due_date", "due_date")),
        label="Sort by",
    )

    class Meta:
        model = BacklogItem
        fields = ["q", "status", "kind", "priority", "discipline", "assignee", "label"]

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return queryset
        if is_number(value.lstrip("#")):
            return queryset.filter(Q(pk=int(value.lstrip("#"))) | Q(title__icontains=value))
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))

    def about_model(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        """Items linked to the model or to any of its versions."""
        if value is None:
            return queryset
        registered = linkable_model("model")
        version = linkable_model("version")
        assert registered is not None and version is not None
        version_ids = [
            str(pk)
            for pk in version._default_manager.filter(model_id=value).values_list("pk", flat=True)
        ]
        return queryset.filter(
            Q(
                links__target_type=ContentType.objects.get_for_model(registered),
                links__target_id=str(int(value)),
            )
            | Q(
                links__target_type=ContentType.objects.get_for_model(version),
                links__target_id__in=version_ids,
            )
        ).distinct()

    def assigned_to_me(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        user = getattr(self.request, "user", None)
        if not value or user is None or not user.is_authenticated:
            return queryset
        return queryset.filter(assignees=user)
