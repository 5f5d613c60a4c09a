"""Filters for registered models, shared by the HTML list and the API.

Every choice is an allowlist (teams and tags by slug, task types and statuses from their
TextChoices) and ordering accepts only the fields named here, so nothing from the query
string reaches ``filter()`` or ``order_by()`` unchecked.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from portal.models import Team
from registry.choices import TaskType, VersionStatus
from registry.models import RegisteredModel, Tag
from registry.queries import TeamOption, latest_version_value
from registry.widgets import Select

MAX_SEARCH_LENGTH = 100
# The models page's "All teams": "*" is no team's slug, so no team can be mistaken for it.
ALL_TEAMS = "*"


class StableOrderingFilter(django_filters.OrderingFilter):
    """Ordering that ends with the primary key, so pages never repeat or skip a row."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        ordered = super().filter(qs, value)
        if not value:
            return ordered
        return ordered.order_by(*ordered.query.order_by, "pk")


class RegisteredModelFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=MAX_SEARCH_LENGTH)
    team = django_filters.ModelChoiceFilter(
        queryset=Team.objects.all(), to_field_name="slug", empty_label="All teams", widget=Select
    )
    task_type = django_filters.ChoiceFilter(
        choices=TaskType.choices, label="Task type", empty_label="All task types", widget=Select
    )
    status = django_filters.ChoiceFilter(
        choices=VersionStatus.choices,
        method="filter_latest_status",
        label="Latest version status",
        empty_label="Any status",
        widget=Select,
    )
    tag = django_filters.ModelChoiceFilter(
        field_name="tags",
        queryset=Tag.objects.all(),
        to_field_name="name",
        label="Tag",
        empty_label="All tags",
        widget=Select,
    )
    sort = StableOrderingFilter(
        fields=(("name", "name"), ("updated_at", "updated_at")),
        choices=[
            ("name", "Name (A to Z)"),
            ("-name", "Name (Z to A)"),
            ("-updated_at", "Recently updated"),
            ("updated_at", "Least recently updated"),
        ],
        label="Sort by",
        empty_label=None,
        widget=Select,
    )

    class Meta:
        model = RegisteredModel
        fields = ["q", "team", "task_type", "status", "tag"]

    def search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """Name, title, summary or a tag containing ``value`` (no join, so no duplicates).

        The tagged models are an IN-subquery that PostgreSQL hashes once; as a correlated
        EXISTS it looked costly enough that the latest-status test ran first, on every model.
        """
        value = value.strip()
        if not value:
            return queryset
        tagged = RegisteredModel.tags.through.objects.filter(tag__name__icontains=value)
        return queryset.filter(
            Q(name__icontains=value)
            | Q(title__icontains=value)
            | Q(summary__icontains=value)
            | Q(pk__in=tagged.values("registeredmodel_id"))
        )

    def filter_latest_status(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        """Models whose highest-semver version has status ``value``.

        One LIMIT 1 subquery per model on the (model, -sort_key) index reads that status.
        """
        latest = queryset.alias(latest_version_status=latest_version_value("status"))
        return latest.filter(latest_version_status=value)


class ModelPageFilterSet(RegisteredModelFilterSet):
    """The models page: its ``team`` offers "My teams", a member's default, and "All teams".

    The API keeps ``RegisteredModelFilterSet``, where no team means every team. Here an empty
    or unknown team means the reader's teams (every team for someone in none), "*" every
    team, and a slug that team. ``teams`` and ``tags`` come from ``queries.filter_choices``, so
    the choices cost no query of their own (the API's tag filter reads its tags through a
    server-side cursor, three round trips, and checks the tag asked for with one more query).
    """

    team = django_filters.ChoiceFilter(
        label="Team", method="filter_team", empty_label=None, widget=Select
    )
    tag = django_filters.ChoiceFilter(
        field_name="tags__name", label="Tag", empty_label="All tags", widget=Select
    )

    def __init__(
        self, data: Any, *, queryset: QuerySet[Any], teams: list[TeamOption], tags: list[str]
    ) -> None:
        super().__init__(data, queryset=queryset)
        self.filters["tag"].extra["choices"] = [(name, name) for name in tags]
        self.team_ids = {team.slug: team.pk for team in teams}
        self.my_team_ids = [team.pk for team in teams if team.mine]
        default = (
            [("", "My teams"), (ALL_TEAMS, "All teams")]
            if self.my_team_ids
            else [("", "All teams")]
        )
        self.filters["team"].extra["choices"] = default + [(team.slug, team.name) for team in teams]

    @property
    def shows_my_teams(self) -> bool:
        """True when the list holds only the reader's teams' models (the member's default)."""
        self.errors  # noqa: B018 - cleans the form, once
        return bool(self.my_team_ids) and not self.form.cleaned_data.get("team")

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = super().filter_queryset(queryset)
        if self.shows_my_teams:
            return queryset.filter(team_id__in=self.my_team_ids)
        return queryset

    def filter_team(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == ALL_TEAMS:
            return queryset
        return queryset.filter(team_id=self.team_ids[value])
