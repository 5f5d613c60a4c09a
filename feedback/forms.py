"""Forms of the feedback pages: a new API key, feedback on a prediction, and triage."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

from feedback.models import Feedback, FeedbackKind, Scope
from feedback.services.feedback import MAX_COMMENT
from feedback.services.triage import MAX_TRIAGED
from registry.models import RegisteredModel

MAX_ORIGINS_TEXT = 4_000


NONCE = RegexValidator(r"^[A-Za-z0-9_-]{8,40}$", "This form is damaged: open the page again.")


def new_nonce() -> str:
    """A value that marks one filled-in form, so sending it twice is noticed."""
    return secrets.token_urlsafe(16)


class ApiKeyForm(forms.Form):
    MODEL, TEAM = "model", "team"

    name = forms.CharField(
        max_length=80, help_text="Say who uses it, e.g. “checkout service” or “shop widget”."
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices, widget=forms.CheckboxSelectMultiple, label="Scopes"
    )
    applies_to = forms.ChoiceField(widget=forms.RadioSelect, label="Models", initial=MODEL)
    allowed_origins = forms.CharField(
        required=False,
        max_length=MAX_ORIGINS_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Allowed origins",
        help_text="Web pages that may use the key (the feedback widget), one per line, such "
        "as https://shop.example. Leave empty for a key that only servers use.",
    )
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=40, validators=[NONCE])

    def __init__(self, *args: Any, model: RegisteredModel, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("nonce", new_nonce())
        super().__init__(*args, **kwargs)
        self.fields["applies_to"].choices = [  # type: ignore[attr-defined]
            (self.MODEL, f"Only {model.name}"),
            (self.TEAM, f"Every model of {model.team.name}, now and later"),
        ]

    def clean_allowed_origins(self) -> list[str]:
        text: str = self.cleaned_data["allowed_origins"]
        return [line.strip() for line in text.splitlines() if line.strip()]


class GiveFeedbackForm(forms.Form):
    verdict = forms.ChoiceField(
        choices=[("up", "Thumbs up: right"), ("down", "Thumbs down: wrong")],
        widget=forms.RadioSelect,
        required=False,
        label="Was the prediction right?",
    )
    label = forms.CharField(
        max_length=200,
        required=False,
        label="Corrected label",
        help_text="What the model should have said.",
    )
    value = forms.FloatField(
        required=False, label="Corrected value", help_text="What the model should have said."
    )
    comment = forms.CharField(
        max_length=MAX_COMMENT, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=40, validators=[NONCE])

    # The feedback record each field becomes, by the field's name.
    KINDS = {
        "verdict": FeedbackKind.THUMBS,
        "label": FeedbackKind.LABEL,
        "value": FeedbackKind.VALUE,
        "comment": FeedbackKind.COMMENT,
    }

    def __init__(self, *args: Any, output: dict[str, Any] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("nonce", new_nonce())
        super().__init__(*args, **kwargs)
        # A classifier's prediction is corrected with a label, a regressor's with a value.
        if output and "label" in output:
            del self.fields["value"]
        elif output and "value" in output:
            del self.fields["label"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = [name for name in self.KINDS if data.get(name) not in (None, "")]
        if not given and not self.errors:
            raise ValidationError("Say something: thumbs up or down, a correction or a comment.")
        return data

    def records(
        self, model: RegisteredModel, prediction_id: str
    ) -> list[tuple[str, dict[str, Any]]]:
        """(field name, feedback record) for each part filled in. The comment goes with the
        first record, or stands alone; the form's nonce makes a resent form a duplicate."""
        data = self.cleaned_data
        records: list[tuple[str, dict[str, Any]]] = []
        for name in ("verdict", "label", "value"):
            if data.get(name) not in (None, ""):
                records.append((name, {"kind": self.KINDS[name], "value": data[name]}))
        if data.get("comment"):
            if records:
                records[0][1]["comment"] = data["comment"]
            else:
                records.append(
                    ("comment", {"kind": FeedbackKind.COMMENT, "value": data["comment"]})
                )
        for name, record in records:
            record.update(
                model=model.name,
                prediction_id=prediction_id,
                idempotency_key=f"portal-{data['nonce']}-{name}",
            )
        return records


class CappedChoices(forms.ModelMultipleChoiceField):
    """The ticked rows: at most MAX_TRIAGED, counted before any query."""

    def clean(self, value: Any) -> Any:
        if value and len(value) > MAX_TRIAGED:
            raise ValidationError(
                f"At most {MAX_TRIAGED} pieces of feedback at a time, not {len(value)}."
            )
        return super().clean(value)


class TriageForm(forms.Form):
    REVIEW, FILE = "review", "file"

    feedback = CappedChoices(
        queryset=Feedback.objects.select_related("model__team"),
        error_messages={"required": "Choose the feedback first (tick its boxes)."},
    )
    action = forms.ChoiceField(choices=[(REVIEW, "Mark reviewed"), (FILE, "File a backlog item")])
