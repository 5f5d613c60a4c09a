"""Forms of the iteration pages: plan an iteration, edit its notes."""

from __future__ import annotations

from typing import Any

from django import forms

from portal.backlog.models import Iteration
from portal.models import Team
from portal.people import Person

NOTES_LENGTH = 50_000


class DateInput(forms.DateInput):
    input_type = "date"


class IterationForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    name = forms.CharField(max_length=100, help_text="Unique in the team, e.g. “Sprint 16”.")
    start_date = forms.DateField(label="Starts", widget=DateInput)
    end_date = forms.DateField(label="Ends", widget=DateInput, help_text="The last day, included.")

    def __init__(self, *args: Any, teams: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ModelChoiceField)
        team_field.queryset = teams

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "An iteration ends on or after the day it starts.")
        return data


class NotesForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    review_notes = forms.CharField(
        required=False,
        max_length=NOTES_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="What the iteration delivered, shown to whoever reviews it. Markdown.",
    )
    retro_notes = forms.CharField(
        label="Retrospective notes",
        required=False,
        max_length=NOTES_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="What went well, what to change next time. Markdown.",
    )

    @staticmethod
    def initial_for(iteration: Iteration) -> dict[str, Any]:
        return {
            "revision": iteration.revision,
            "review_notes": iteration.review_notes,
            "retro_notes": iteration.retro_notes,
        }


def plannable_teams(person: Person) -> Any:
    """The teams ``person`` may plan iterations for (the service checks again)."""
    teams = Team.objects.order_by("name")
    return teams if person.is_superuser else teams.filter(members=person)
