"""The list: its filters are one FilterSet (``ReleaseFilterSet``), so the API can share them;
"waiting for me" is ``waiting_for``: pending requests an approver may decide and has not.
Also the request form's choice of environment (``environments``, ``pick_environment``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django import forms
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from portal.people import Person
from registry.releases.choices import Decision, State
from registry.releases.models import Approval, Environment, ReleaseRequest
from registry.releases.permissions import is_approver
from registry.widgets import Select

MAX_MODEL_NAME = 100


def waiting_for(person: Person, releases: QuerySet[ReleaseRequest]) -> QuerySet[ReleaseRequest]:
    """Pending requests ``person`` may decide (an approver, not the requester) and has not
    decided yet (a dismissed approval of theirs no longer counts)."""
    if not is_approver(person):
        return releases.none()
    mine = Approval.objects.filter(request=OuterRef("pk"), approver=person, dismissed_at=None)
    return releases.filter(state=State.PENDING).exclude(requested_by=person).exclude(Exists(mine))


class CheckboxFilter(django_filters.Filter):
    """A checkbox: "on" (or true, 1) applies the filter, absent or false leaves it off."""

    field_class = forms.BooleanField


class ReleaseFilterSet(django_filters.FilterSet):
    """Filters of the releases list, shared by the page and the API: every choice an
    allowlist, the model by its name."""

    state = django_filters.ChoiceFilter(
        choices=State.choices, empty_label="Any state", widget=Select
    )
    environment = django_filters.ChoiceFilter(
        field_name="environment__name",
        label="Environment",
        empty_label="All environments",
        widget=Select,
    )
    model = django_filters.CharFilter(
        field_name="version__model__name", label="Model", max_length=MAX_MODEL_NAME
    )
    waiting_for_me = CheckboxFilter(method="filter_waiting", label="Waiting for me")

    class Meta:
        model = ReleaseRequest
        fields = ["state", "environment", "model", "waiting_for_me"]

    def __init__(
        self,
        data: Any,
        *,
        queryset: QuerySet[ReleaseRequest],
        person: Person,
        environments: Iterable[Environment],
    ) -> None:
        super().__init__(data, queryset=queryset)
        self.person = person
        choices = [(env.name, env.title) for env in environments]
        self.filters["environment"].extra["choices"] = choices
        self.form.fields["environment"].choices = [("", "All environments"), *choices]

    def filter_waiting(
        self, queryset: QuerySet[ReleaseRequest], name: str, value: bool
    ) -> QuerySet[ReleaseRequest]:
        return waiting_for(self.person, queryset) if value else queryset


def live_approvals() -> Subquery:
    """How many approvals of the outer request count now (a subquery on its index)."""
    counted = (
        Approval.objects.filter(
            request=OuterRef("pk"), decision=Decision.APPROVE, dismissed_at=None
        )
        .order_by()
        .values("request")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(counted, output_field=IntegerField())


def release_list_queryset() -> QuerySet[ReleaseRequest]:
    """What a row of the list shows: the version and its model, the environment, the
    requester, and the approvals counted so far."""
    return (
        ReleaseRequest.objects.select_related("version__model", "environment", "requested_by")
        .only(
            *("state", "strategy", "traffic_percent", "created_at", "updated_at"),
            *("version__version", "version__model__name", "version__model__title"),
            *("environment__name", "environment__title", "environment__approvals_needed"),
            "environment__required_roles",
            *("requested_by__username", "requested_by__first_name", "requested_by__last_name"),
        )
        .annotate(approved_count=Coalesce(live_approvals(), 0))
        .order_by("-created_at", "-pk")
    )


def needed_approvals(environment: Environment) -> int:
    return max(environment.approvals_needed, len(environment.required_roles))


def environments() -> list[Environment]:
    return list(Environment.objects.all())


def pick_environment(found: list[Environment], name: str | None) -> Environment | None:
    return next((env for env in found if env.name == name), found[0] if found else None)
