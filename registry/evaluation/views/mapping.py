"""Editing a version's input mapping: which dataset columns feed each ONNX input, in which
order and type, and how the outputs read."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.web import HtmxHttpRequest, submit
from registry.evaluation.mapping import (
    DTYPES,
    MAX_CLASSES,
    MAX_COLUMN_CHARS,
    contract_fields,
    unmapped_fields,
)
from registry.evaluation.models import InputMapping
from registry.evaluation.permissions import can_evaluate
from registry.evaluation.services.mappings import mapping_for, save_mapping
from registry.models import ModelVersion
from registry.views.shared import get_version

DTYPE_CHOICES = [(dtype, dtype) for dtype in sorted(set(DTYPES.values()))]
MAX_LINES_CHARS = 50_000


def lines(text: str) -> list[str]:
    """The non-empty lines of a textarea, stripped, in order."""
    return [line.strip() for line in text.splitlines() if line.strip()]


class MappingForm(forms.Form):
    """One columns box and dtype per model input (in the graph's order), then the outputs."""

    label = forms.ChoiceField(
        required=False,
        label="Label output",
        help_text="The output holding the predicted class (or value, for a regression).",
    )
    scores = forms.ChoiceField(
        required=False,
        label="Scores output",
        help_text="The output holding one probability per class, if the model gives them.",
    )
    classes = forms.CharField(
        required=False,
        max_length=MAX_LINES_CHARS,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The class of each score column, one per line, in the scores' order.",
    )

    def __init__(
        self, *args: Any, mapping: InputMapping, output_names: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.input_names = [str(entry["name"]) for entry in mapping.inputs]
        for index, name in enumerate(self.input_names):
            self.fields[f"input_{index}_columns"] = forms.CharField(
                label=f"{name}: columns",
                max_length=MAX_LINES_CHARS,
                widget=forms.Textarea(attrs={"rows": 5}),
                help_text="Dataset columns, one per line, in the order the model reads them.",
            )
            self.fields[f"input_{index}_dtype"] = forms.ChoiceField(
                label=f"{name}: type", choices=DTYPE_CHOICES
            )
        outputs = [("", "none"), *[(name, name) for name in output_names]]
        for name in ("label", "scores"):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = outputs

    @classmethod
    def initial_for(cls, mapping: InputMapping) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "label": mapping.outputs.get("label", ""),
            "scores": mapping.outputs.get("scores", ""),
            "classes": "\n".join(mapping.outputs.get("classes", [])),
        }
        for index, entry in enumerate(mapping.inputs):
            initial[f"input_{index}_columns"] = "\n".join(entry.get("columns", []))
            initial[f"input_{index}_dtype"] = entry.get("dtype", "")
        return initial

    def input_fields(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        """(input name, its columns field, its dtype field), in the graph's order."""
        return [
            (name, self[f"input_{index}_columns"], self[f"input_{index}_dtype"])
            for index, name in enumerate(self.input_names)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for index in range(len(self.input_names)):
            for column in lines(data.get(f"input_{index}_columns") or ""):
                if len(column) > MAX_COLUMN_CHARS:
                    self.add_error(
                        f"input_{index}_columns",
                        f"A column name has at most {MAX_COLUMN_CHARS} characters.",
                    )
                    break
        if len(lines(data.get("classes") or "")) > MAX_CLASSES:
            self.add_error("classes", f"At most {MAX_CLASSES} classes.")
        return data

    def mapping(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The cleaned form as ``save_mapping``'s inputs and outputs."""
        data = self.cleaned_data
        inputs = [
            {
                "name": name,
                "dtype": data[f"input_{index}_dtype"],
                "columns": lines(data[f"input_{index}_columns"]),
            }
            for index, name in enumerate(self.input_names)
        ]
        outputs = {
            "label": data.get("label") or "",
            "scores": data.get("scores") or "",
            "classes": lines(data.get("classes") or ""),
        }
        return inputs, outputs


def _output_names(version: ModelVersion) -> list[str]:
    artifact = getattr(version, "artifact", None)
    return [str(arg["name"]) for arg in (artifact.outputs if artifact else [])]


@require_http_methods(["GET", "POST"])
def mapping_edit(request: HtmxHttpRequest, name: str, version: str) -> HttpResponse:
    found = get_version(name, version)
    if not can_evaluate(request.user, found):
        raise PermissionDenied(
            f"Only members of {found.model.team} who are Data scientists or Engineers "
            f"may change how {found.model.name} reads its inputs."
        )
    try:
        current = mapping_for(found)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(found)
    form = MappingForm(
        request.POST or None,
        mapping=current,
        output_names=_output_names(found),
        initial=MappingForm.initial_for(current),
    )

    def save(data: dict[str, Any]) -> ModelVersion:
        inputs, outputs = form.mapping()
        save_mapping(actor=request.user, version=found, inputs=inputs, outputs=outputs)
        return found

    done = submit(
        request,
        form,
        save,
        success=lambda saved: f"Input mapping of {saved.version} saved.",
    )
    context = {
        "version": found,
        "model": found.model,
        "form": form,
        "mapping": current,
        "contract_fields": [field for field, _ in contract_fields(found.input_schema)],
        "notes": unmapped_fields(found.input_schema, current.inputs),
    }
    return done.response or render(request, "evaluation/mapping_form.html", context)
