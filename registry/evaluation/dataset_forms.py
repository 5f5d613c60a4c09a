"""Forms of the dataset pages. They parse and present input; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from portal.models import Team
from registry.evaluation.models import DatasetKind
from registry.evaluation.services.datasets import VERSION_RULE
from registry.forms import teams_for
from registry.models import ModelVersion, RegisteredModel
from registry.widgets import Select

CHOOSE_FILE_AGAIN = (
    "Choose the file again: browsers do not keep a chosen file when a form comes back with errors."
)


class DatasetForm(forms.Form):
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), to_field_name="slug", empty_label=None
    )
    name = forms.SlugField(max_length=100, help_text="Letters, digits and dashes, e.g. churn-eval.")
    version = forms.CharField(max_length=64, help_text=VERSION_RULE)
    kind = forms.ChoiceField(choices=DatasetKind.choices)
    description = forms.CharField(
        required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 4})
    )
    file = forms.FileField(
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.parquet"}),
        help_text="CSV (UTF-8, with a header row) or Parquet. A worker profiles it after upload.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the person's teams are offered; any team is accepted here so that the
        # service, the authority on who may upload where, answers another team with 403.
        own = teams_for(user).order_by("name")
        self.fields["team"].widget.choices = [(team.slug, team.name) for team in own]

    def ask_for_the_file_again(self) -> None:
        """Say by the file input that the file must be chosen again."""
        self.fields["file"].help_text = self["file"].help_text = CHOOSE_FILE_AGAIN
        self.fields["file"].widget.attrs["data-choose-again"] = ""


class ContractChoiceForm(forms.Form):
    """Which model version's input contract to check a dataset against."""

    model = forms.ModelChoiceField(
        queryset=RegisteredModel.objects.order_by("name"),
        to_field_name="name",
        empty_label="Choose a model",
        widget=Select,
    )
    version = forms.CharField(
        max_length=64, required=False, help_text="Empty: the model's highest version."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        model = data.get("model")
        if model is None:
            return data
        versions = ModelVersion.objects.select_related("model").filter(model=model)
        wanted = data.get("version")
        found = (
            versions.filter(version=wanted).first()
            if wanted
            else versions.order_by("-sort_key").first()
        )
        if found is None:
            missing = f"{model.name} has no version {wanted}." if wanted else "It has no version."
            self.add_error("version", missing)
        data["model_version"] = found
        return data
