"""The monitoring settings form: the reference, the window and its schedule, the alert, and
a row per column (include it, its kind, test, threshold, and whether it is critical).

The datasets offered are the profiled ones of the model's team, reference datasets first;
the column rows are the ones saved and the reference's defaults (``default_columns``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from registry.evaluation.models import Dataset, DatasetKind
from registry.models import ModelVersion
from registry.monitoring.models import MAX_WINDOW_HOURS, MonitoringConfig, Schedule, WindowSource
from registry.monitoring.queries import MODE_NAMES, TEST_NAMES
from registry.monitoring.selection import NUMERIC_ONLY, ColumnKind, StatTest
from registry.monitoring.services.configs import MAX_COLUMNS

COLUMN_HINTS = {"list": "reference-columns", "autocomplete": "off"}
TEST_CHOICES = [
    ("", "Default for the data"),
    *[(test.value, TEST_NAMES[test]) for test in StatTest if test != StatTest.NONE],
]
SETTINGS = (
    *("reference", "source", "current", "window_hours", "schedule", "drift_share", "mode"),
    *("prediction_column", "target_column", "webhook_url"),
)


def _choice(dataset: Dataset) -> str:
    return f"{dataset.name} {dataset.version} ({dataset.get_kind_display().lower()})"


class ConfigForm(forms.Form):
    reference = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        label="Reference dataset",
        help_text="What the model saw in training or validation: the windows are compared "
        "with it. Profiled datasets of the model's team.",
    )
    source = forms.ChoiceField(
        choices=WindowSource.choices,
        label="Compare",
        help_text="The predictions logged in each window, or a dataset of recent inputs.",
    )
    current = forms.TypedChoiceField(
        coerce=int,
        empty_value=None,
        required=False,
        label="Current dataset",
        help_text="Only when comparing an uploaded dataset.",
    )
    window_hours = forms.IntegerField(
        min_value=1,
        max_value=MAX_WINDOW_HOURS,
        label="Window (hours)",
        help_text="How many hours of logged predictions each report compares.",
    )
    schedule = forms.ChoiceField(choices=Schedule.choices)
    drift_share = forms.FloatField(
        min_value=0.01,
        max_value=1.0,
        label="Drift share",
        help_text="The dataset drifts when at least this share of its columns drift "
        "(0.5: half of them).",
    )
    mode = forms.ChoiceField(
        choices=list(MODE_NAMES.items()),
        label="Statistics",
        help_text="Two-sample tests by default; Evidently-compatible reproduces Evidently "
        "0.7's numbers, its chi-square included.",
    )
    prediction_column = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=COLUMN_HINTS),
        help_text="The reference column holding the model's outputs, for prediction drift. "
        "Empty to leave it out.",
    )
    target_column = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs=COLUMN_HINTS),
        help_text="The reference column holding the true labels, for target drift. Empty to "
        "leave it out.",
    )
    webhook_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        label="Webhook URL",
        help_text="Called with the report's summary when it raises a drift alert.",
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        version: ModelVersion,
        datasets: Sequence[Dataset],
        rows: Sequence[Mapping[str, Any]],
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.version = version
        self.datasets = {dataset.pk: dataset for dataset in datasets}
        references = [(d.pk, _choice(d)) for d in datasets if d.kind == DatasetKind.REFERENCE]
        others = [(d.pk, _choice(d)) for d in datasets if d.kind != DatasetKind.REFERENCE]
        grouped: list[Any] = [("", "Choose a dataset")]
        if references:
            grouped.append(("Reference datasets", references))
        if others:
            grouped.append(("Other datasets", others))
        self._choices("reference", grouped)
        self._choices("current", [("", "None"), *references, *others])
        # Choosing another reference fetches its columns' rows (htmx, no script of ours).
        self.fields["reference"].widget.attrs.update(
            {
                "hx-get": reverse("monitoring:config", args=[version.model.name, version.version]),
                "hx-target": "#monitoring-columns",
                "hx-select": "#monitoring-columns",
                "hx-swap": "outerHTML",
            }
        )
        self.columns = cast(
            BaseColumnFormSet, ColumnFormSet(data, initial=list(rows), prefix="columns")
        )

    def _choices(self, name: str, choices: list[Any]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = choices

    @classmethod
    def initial_for(
        cls, config: MonitoringConfig | None, reference: Dataset | None
    ) -> dict[str, Any]:
        if config is None:
            defaults = {"source": WindowSource.LOGS, "window_hours": 24}
            defaults |= {"schedule": Schedule.DAILY, "drift_share": 0.5, "mode": "two_sample"}
            return {**defaults, "reference": reference.pk if reference else None}
        initial = {name: getattr(config, name) for name in SETTINGS}
        initial["reference"] = reference.pk if reference else config.reference_id
        initial["current"] = config.current_id
        return initial

    def clean_reference(self) -> Dataset:
        return self.datasets[self.cleaned_data["reference"]]

    def clean_current(self) -> Dataset | None:
        pk = self.cleaned_data.get("current")
        return self.datasets[pk] if pk is not None else None

    def is_valid(self) -> bool:
        # Both checked, so every error shows at once.
        settings_valid = super().is_valid()
        columns_valid = self.columns.is_valid()
        return settings_valid and columns_valid

    def disable(self) -> None:
        """Read only: for people who may read the settings but not change them."""
        for form in (self, *self.columns.forms):
            for field in form.fields.values():
                field.disabled = True

    def settings(self) -> dict[str, Any]:
        """``save_config``'s settings from the cleaned form."""
        data = {name: self.cleaned_data[name] for name in SETTINGS if name != "reference"}
        if data["current"] is None:
            # save_config writes "" for a None, which a foreign key refuses; it clears the
            # current dataset itself when the window comes from the logs.
            del data["current"]
        return data

    def hints(self, columns: Sequence[str]) -> SafeString:
        options = format_html_join("", '<option value="{}"></option>', ((c,) for c in columns))
        return format_html('<datalist id="reference-columns">{}</datalist>', options)

    def error_count(self) -> int:
        return (
            len(self.errors)
            + sum(len(form.errors) for form in self.columns.forms)
            + len(self.columns.non_form_errors())
        )


class ColumnForm(forms.Form):
    """One column: monitored or not, how it is compared, and whether it alerts alone."""

    name = forms.CharField(max_length=200, widget=forms.HiddenInput)
    include = forms.BooleanField(required=False, label="Monitor")
    kind = forms.ChoiceField(choices=[(kind.value, kind.value) for kind in ColumnKind])
    test = forms.ChoiceField(choices=TEST_CHOICES, required=False)
    threshold = forms.FloatField(
        required=False,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    critical = forms.BooleanField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name = self.column_name
        for field, label in (
            ("include", f"Monitor {name}"),
            ("kind", f"Kind of {name}"),
            ("test", f"Test of {name}"),
            ("threshold", f"Threshold of {name}"),
            ("critical", f"{name} is critical"),
        ):
            self.fields[field].label = label

    @property
    def column_name(self) -> str:
        if self.is_bound:
            return str(self.data.get(self.add_prefix("name"), ""))
        return str(self.initial.get("name", ""))

    def clean_threshold(self) -> float | None:
        value = self.cleaned_data.get("threshold")
        if value is not None and value <= 0:
            raise ValidationError("A threshold is a positive number; empty for the test's own.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        test, kind = data.get("test"), data.get("kind")
        if test and StatTest(test) in NUMERIC_ONLY and kind != ColumnKind.NUMERIC:
            self.add_error("test", f"{TEST_NAMES[test]} compares numbers; this column is {kind}.")
        return data

    def entry(self, paths: Mapping[str, list[str]]) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "path": paths.get(data["name"], [data["name"]]),
            "kind": data["kind"],
            "test": data.get("test") or "",
            "threshold": data.get("threshold"),
            "critical": bool(data.get("critical")),
        }


class BaseColumnFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(form.errors for form in self.forms):
            return
        if not any(form.cleaned_data.get("include") for form in self.forms):
            raise ValidationError("Monitor at least one column.")

    def entries(self, paths: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        return [form.entry(paths) for form in self.forms if form.cleaned_data.get("include")]


ColumnFormSet = forms.formset_factory(
    ColumnForm,
    formset=BaseColumnFormSet,
    extra=0,
    max_num=MAX_COLUMNS,
    validate_max=True,
    absolute_max=MAX_COLUMNS,
)
