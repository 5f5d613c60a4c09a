"""Filters for datasets, shared by the HTML list and the API.

Every choice is an allowlist (teams by slug, kinds from their TextChoices), so nothing from
the query string reaches ``filter()`` unchecked.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from portal.models import Team
from registry.evaluation.models import Dataset, DatasetKind
from registry.widgets import Select

MAX_SEARCH_LENGTH = 100


class DatasetFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=MAX_SEARCH_LENGTH)
    name = django_filters.CharFilter(field_name="name", label="Name", max_length=100)
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.order_by("name"),
        to_field_name="slug",
        empty_label="All teams",
        widget=Select,
    )
    kind = django_filters.ChoiceFilter(
        choices=DatasetKind.choices, empty_label="All kinds", widget=Select
    )

    class Meta:
        model = Dataset
        fields = ["q", "name", "team", "kind"]

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """Name or description containing ``value``."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


def dataset_list_queryset() -> QuerySet[Dataset]:
    """The rows of a datasets list: team and uploader, without the profile's columns."""
    return Dataset.objects.select_related("team", "created_by").defer("columns")
