"""Forms of the backlog pages. They parse and check input; the services decide and save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from portal.backlog.choices import Discipline, Kind, Priority, Status
from portal.backlog.models import BacklogItem, Iteration
from portal.models import Team
from portal.people import Person

PREVIEW_TRIGGER = "keyup changed delay:400ms"
MAX_LABEL_TEXT = 500


def _people() -> QuerySet[Any]:
    return get_user_model().objects.filter(is_active=True).order_by("username")


class PersonChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name else obj.username


class ItemForm(forms.Form):
    """An item's fields; the description previews through htmx as the service will store it."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown. The preview shows it as readers will see it.",
    )
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.TASK)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.P2)
    discipline = forms.ChoiceField(choices=Discipline.choices, initial=Discipline.BOTH)
    assignees = PersonChoices(
        queryset=_people(),
        required=False,
        to_field_name="username",
        widget=forms.SelectMultiple(attrs={"size": 5}),
        help_text="Hold Ctrl (⌘ on a Mac) to choose several. They are told.",
    )
    labels = forms.CharField(
        required=False,
        max_length=MAX_LABEL_TEXT,
        help_text="Comma-separated, e.g. data, retraining.",
    )
    iteration = forms.ModelChoiceField(
        queryset=Iteration.objects.none(), required=False, empty_label="No iteration"
    )
    due_date = forms.DateField(
        required=False, label="Due date", widget=forms.DateInput(attrs={"type": "date"})
    )

    # What update_item takes as keyword fields (assignees and labels go separately).
    item_fields = (
        "title",
        "description",
        "kind",
        "priority",
        "discipline",
        "iteration",
        "due_date",
    )

    def __init__(
        self, *args: Any, preview_url: str = "", team: Team | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        iterations = Iteration.objects.select_related("team").order_by("-start_date", "name")
        field = self.fields["iteration"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = iterations.filter(team=team) if team is not None else iterations
        self.fields["description"].widget.attrs.update(
            {
                "hx-post": preview_url,
                "hx-trigger": PREVIEW_TRIGGER,
                "hx-target": "#description-preview",
                "aria-describedby": "description-preview",
            }
        )

    def label_names(self) -> list[str]:
        return [name for name in self.cleaned_data["labels"].split(",") if name.strip()]

    @classmethod
    def initial_for(cls, item: BacklogItem) -> dict[str, Any]:
        return {
            "title": item.title,
            "description": item.description,
            "kind": item.kind,
            "priority": item.priority,
            "discipline": item.discipline,
            "assignees": [person.username for person in item.assignees.all()],
            "labels": ", ".join(label.name for label in item.labels.all()),
            "iteration": item.iteration_id,
            "due_date": item.due_date,
            "revision": item.revision,
        }


class ItemEditForm(ItemForm):
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.item_fields}

    @staticmethod
    def as_text(values: dict[str, Any]) -> dict[str, Any]:
        """Values as a stale-edit notice compares them: people by username, ids, ISO dates."""
        shown = dict(values)
        people = shown.get("assignees") or []
        shown["assignees"] = sorted(getattr(p, "username", p) for p in people)
        iteration = shown.get("iteration")
        shown["iteration"] = getattr(iteration, "pk", iteration)
        due = shown.get("due_date")
        shown["due_date"] = due.isoformat() if due else None
        return shown


class ItemCreateForm(ItemForm):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    about = forms.CharField(required=False, widget=forms.HiddenInput, max_length=80)

    field_order = ["team", "title"]

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = Team.objects.all() if person.is_superuser else person.teams.all()
        field = self.fields["team"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = teams.order_by("name")
        first = person.teams.order_by("name").first()
        if first is not None and "team" not in self.initial:
            self.initial["team"] = first.pk


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Add a comment",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown. Mention someone with @username to tell them.",
    )


class MoveForm(forms.Form):
    """A move on the board: a status, and optionally the card it goes just above."""

    status = forms.ChoiceField(choices=Status.choices)
    before = forms.IntegerField(required=False, min_value=1)
