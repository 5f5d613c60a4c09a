"""The release pages' forms. They only parse what people typed; every rule (who may, which
state, what the checklist blocks) is the services' to enforce, and their ValidationErrors
land on these forms' fields (``portal.web.apply_service_errors``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.urls import reverse

from portal.models import Team
from registry.models import ModelVersion
from registry.releases.choices import Check, Decision, ServingMode, Strategy
from registry.releases.models import Environment
from registry.releases.services.events import EVENTS
from registry.releases.services.requests import MAX_STEPS, MAX_TEXT_CHARS

REASON_CHARS = 2_000
STEP_HELP = "Traffic shares in percent, rising and ending at 100, e.g. 5, 25, 100."


def _text(label: str, help_text: str = "", *, required: bool = True, rows: int = 6) -> Any:
    return forms.CharField(
        label=label,
        required=required,
        max_length=MAX_TEXT_CHARS,
        strip=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class ReleaseRequestForm(forms.Form):
    environment = forms.ChoiceField(
        help_text="Where the version should run; the checklist below is for this environment."
    )
    strategy = forms.ChoiceField(
        choices=Strategy.choices, initial=Strategy.FULL, widget=forms.RadioSelect
    )
    canary_steps = forms.CharField(
        label="Canary steps", required=False, max_length=60, help_text=STEP_HELP
    )
    serving_mode = forms.ChoiceField(
        label="Serving mode", choices=ServingMode.choices, initial=ServingMode.REALTIME
    )
    justification = _text("Justification", "Why this version should run there. Markdown.")
    rollback_plan = _text("Rollback plan", "How to go back if it misbehaves.", rows=4)
    acknowledge_breaking = forms.BooleanField(
        label="I have read the breaking contract changes and the clients are ready for them",
        required=False,
    )

    def __init__(
        self,
        data: Any = None,
        *,
        version: ModelVersion,
        environments: Iterable[Environment],
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        field = self.fields["environment"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(env.name, env.title) for env in environments]
        # Choosing another environment redraws the live checklist (htmx; a plain reload
        # with ?environment= does the same without script).
        url = reverse("releases:request", args=[version.model.name, version.version])
        live = {"hx-target": "#release-checklist", "hx-select": "#release-checklist"}
        live |= {"hx-swap": "outerHTML", "hx-get": url}
        field.widget.attrs.update(
            {**live, "hx-include": "[name='acknowledge_breaking']", "hx-trigger": "change"}
        )
        self.fields["acknowledge_breaking"].widget.attrs.update(
            {**live, "hx-include": "[name='environment']", "hx-trigger": "change"}
        )

    def clean_canary_steps(self) -> list[int]:
        text = self.cleaned_data.get("canary_steps") or ""
        parts = [part.strip().rstrip("%") for part in text.replace(";", ",").split(",")]
        parts = [part for part in parts if part]
        if len(parts) > MAX_STEPS:
            raise forms.ValidationError(f"List at most {MAX_STEPS} steps.")
        try:
            return [int(part) for part in parts]
        except ValueError:
            raise forms.ValidationError("Write whole percents separated by commas.") from None


class DecisionForm(forms.Form):
    """Approve or reject: the button pressed is the decision."""

    prefix = "decide"
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.HiddenInput)
    comment = forms.CharField(
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when you reject: say what to fix.",
    )


class ReasonForm(forms.Form):
    """A reason for a cancel or a rollback."""

    reason = forms.CharField(
        max_length=REASON_CHARS, widget=forms.Textarea(attrs={"rows": 2}), label="Reason"
    )

    def __init__(self, *args: Any, required: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required


class DeploymentForm(forms.Form):
    """What a person records when no CD pipeline calls back."""

    prefix = "deployment"
    STATUSES = (("started", "Deploying"), ("succeeded", "Deployed"), ("failed", "Failed"))
    status = forms.ChoiceField(choices=STATUSES, widget=forms.HiddenInput)
    message = forms.CharField(
        required=False,
        max_length=REASON_CHARS,
        label="Message",
        help_text="What happened, in a line, kept with the release: for a failure, what "
        "went wrong.",
    )


class PromoteForm(forms.Form):
    prefix = "promote"
    override_reason = forms.CharField(
        required=False,
        max_length=REASON_CHARS,
        label="Override reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only when a guarding metric finds the canary worse: an approver may "
        "promote anyway, saying why.",
    )


class OverrideForm(forms.Form):
    """An approver lets a failing check pass for this version and environment; one form
    per failing check, each with its own prefix (``prefix_for``)."""

    environment = forms.CharField(widget=forms.HiddenInput, max_length=40)
    reason = forms.CharField(
        max_length=REASON_CHARS,
        label="Why may it pass",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    @staticmethod
    def prefix_for(check: str) -> str:
        return f"override-{Check(check).value}"


class RunbookForm(forms.Form):
    body = forms.CharField(
        label="Runbook",
        max_length=MAX_TEXT_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 20}),
        help_text="Markdown: how the model is served, dashboards, the on-call team, how to "
        "roll back, known failure modes.",
    )

    def disable(self) -> None:
        for field in self.fields.values():
            field.disabled = True


PERIODS = (30, 90, 365)  # days the delivery metrics page may look back
DEFAULT_PERIOD = 90


def period_from(value: str | None) -> int:
    """One of PERIODS from the query string, else the default."""
    return int(value) if value in {str(days) for days in PERIODS} else DEFAULT_PERIOD


class DeliveryFilterForm(forms.Form):
    """The delivery metrics page's period, team and model (a GET form). The page reads
    what the query string asks for, ignoring what is not a choice, and shows this form
    unbound with what it read as its initial values."""

    days = forms.TypedChoiceField(
        label="Period", choices=[(days, f"Last {days} days") for days in PERIODS], coerce=int
    )
    team = forms.ChoiceField(label="Team", required=False)
    model = forms.ChoiceField(label="Model", required=False)

    def __init__(
        self,
        *,
        initial: dict[str, Any],
        teams: Iterable[tuple[str, str]],
        models: Iterable[tuple[str, str]],
    ) -> None:
        super().__init__(initial=initial)
        team, model = self.fields["team"], self.fields["model"]
        assert isinstance(team, forms.ChoiceField) and isinstance(model, forms.ChoiceField)
        team.choices = [("", "All teams"), *teams]
        model.choices = [("", "All models"), *models]


def event_label(event: str) -> str:
    """An event as people read it: "Rolled back" for release.rolled_back."""
    return event.removeprefix("release.").replace("_", " ").capitalize()


class WebhookForm(forms.Form):
    """A release webhook: for one team's models or one environment, offered only among those
    the person may configure (``registry.releases.services.webhooks.may_configure``)."""

    prefix = "webhook"
    target = forms.ChoiceField(
        label="Send events of",
        help_text="A team: releases of its models. An environment: every release into it.",
    )
    url = forms.CharField(
        label="URL",
        max_length=500,
        help_text="A public https:// address that accepts a POST. Handoff signs each body "
        "with HMAC-SHA256 (docs/api.md, “Release webhooks”).",
        widget=forms.URLInput(attrs={"placeholder": "https://cd.example.com/handoff"}),
    )
    events = forms.MultipleChoiceField(
        label="Events",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick none to receive every event.",
    )

    def __init__(
        self,
        data: Any = None,
        *,
        teams: Iterable[Team],
        environments: Iterable[Environment],
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.teams = {f"team:{team.slug}": team for team in teams}
        self.environments = {f"environment:{env.name}": env for env in environments}
        target, events = self.fields["target"], self.fields["events"]
        assert isinstance(target, forms.ChoiceField)
        assert isinstance(events, forms.MultipleChoiceField)
        groups = [
            ("Teams", [(key, team.name) for key, team in self.teams.items()]),
            ("Environments", [(key, env.title) for key, env in self.environments.items()]),
        ]
        target.choices = [(label, options) for label, options in groups if options]
        events.choices = [(event, event_label(event)) for event in EVENTS]

    @property
    def offers_anything(self) -> bool:
        return bool(self.teams or self.environments)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        key = cleaned.get("target", "")
        cleaned["team"] = self.teams.get(key)
        cleaned["environment"] = self.environments.get(key)
        return cleaned
