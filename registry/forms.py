"""Forms of the registry pages. They parse and present input; the services decide.

No form here saves anything: views pass ``cleaned_data`` to a service through
``portal.web.submit``, which maps the service's ValidationError back onto the fields.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from portal.models import Team
from portal.text import find_unstorable
from registry.choices import TaskType, VersionStatus
from registry.models import CARD_SECTIONS, ModelCard, ModelVersion, RegisteredModel
from registry.semver import next_version_after
from registry.services.card_readme import MAX_README_BYTES

PREVIEW_TRIGGER = "keyup changed delay:400ms"


class JSONTextField(forms.CharField):
    """JSON typed into a textarea. Empty gives ``empty_value``; bad JSON names the field."""

    widget = forms.Textarea(attrs={"rows": 8, "spellcheck": "false"})

    def __init__(self, *, empty: Any = None, **kwargs: Any) -> None:
        self.empty = empty
        kwargs.setdefault("required", False)
        super().__init__(strip=True, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return self.empty
        try:
            parsed = json.loads(text)
        except RecursionError as exc:
            raise ValidationError(
                "%(label)s nests too deeply to be a contract.",
                code="too_deep",
                params={"label": self.label},
            ) from exc
        except json.JSONDecodeError as exc:
            raise ValidationError(
                "%(label)s is not valid JSON: %(reason)s (line %(line)s, column %(column)s).",
                code="invalid_json",
                params={
                    "label": self.label,
                    "reason": exc.msg,
                    "line": exc.lineno,
                    "column": exc.colno,
                },
            ) from exc
        # json.loads turns the escapes \u0000 and \ud800 into text PostgreSQL cannot store.
        problem = find_unstorable(parsed)
        if problem is not None:
            raise ValidationError(
                "%(label)s %(problem)s.",
                code="unstorable",
                params={"label": self.label, "problem": problem},
            )
        return parsed


class ListTextField(forms.CharField):
    """A list typed one item per line (or comma-separated with ``separator=","``)."""

    def __init__(self, *, separator: str = "\n", **kwargs: Any) -> None:
        self.separator = separator
        kwargs.setdefault("required", False)
        if separator == "\n":
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            joiner = "\n" if self.separator == "\n" else f"{self.separator} "
            return joiner.join(str(item) for item in value)
        return value

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value) or ""
        return [item.strip() for item in text.split(self.separator) if item.strip()]


# One rule, said the same way in the help text and in the error.
MODEL_NAME = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MODEL_NAME_RULE = "Unique; lowercase letters, digits and single dashes, e.g. churn-risk."


def revision_field() -> forms.IntegerField:
    """The revision the editor started from; a save based on an older one is refused."""
    return forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)


def teams_for(user: Any) -> QuerySet[Team]:
    """Teams ``user`` may register a model for: their own, or all for an admin."""
    if getattr(user, "is_superuser", False):
        return Team.objects.all()
    return user.teams.all()


class ModelEditForm(forms.Form):
    title = forms.CharField(max_length=200)
    summary = forms.CharField(max_length=300, required=False)
    task_type = forms.ChoiceField(choices=TaskType.choices, label="Task type")
    tags = ListTextField(
        separator=",", max_length=1000, help_text="Comma-separated, e.g. tabular, payments."
    )
    revision = revision_field()

    @classmethod
    def initial_for(cls, model: RegisteredModel) -> dict[str, Any]:
        return {
            "title": model.title,
            "summary": model.summary,
            "task_type": model.task_type,
            "tags": [tag.name for tag in model.tags.all()],
            "revision": model.revision,
        }

    def changes(self) -> dict[str, Any]:
        """The edited fields, without the revision they were based on."""
        return {k: v for k, v in self.cleaned_data.items() if k != "revision"}


class ModelCreateForm(ModelEditForm):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), to_field_name="slug")
    name = forms.RegexField(
        regex=MODEL_NAME,
        max_length=100,
        help_text=MODEL_NAME_RULE,
        error_messages={"invalid": MODEL_NAME_RULE},
    )

    field_order = ["team", "name", "title", "summary", "task_type", "tags"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["revision"]  # a new model has no earlier revision
        self.fields["team"].queryset = teams_for(user)  # type: ignore[attr-defined]


class ContractFields(forms.Form):
    input_schema = JSONTextField(label="Input schema", help_text="JSON Schema (draft 2020-12).")
    output_schema = JSONTextField(label="Output schema", help_text="JSON Schema (draft 2020-12).")
    example_request = JSONTextField(label="Example request")
    example_response = JSONTextField(label="Example response")


CHOOSE_FILE_AGAIN = (
    "Choose the ONNX file again: browsers do not keep a chosen file when a form comes back "
    "with errors."
)


class VersionForm(ContractFields):
    """A new version, started from ``latest`` (the model's highest version) when there is one.

    The next minor version is suggested and the contract boxes hold the latest's contract; a
    first version starts empty, and nothing on it speaks of a previous version.
    """

    version = forms.CharField(max_length=64, help_text="Semantic version, e.g. 1.0.0.")
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 5}), help_text="Markdown."
    )
    artifact = forms.FileField(
        required=False,
        label="ONNX artifact",
        widget=forms.ClearableFileInput(attrs={"accept": ".onnx"}),
        help_text="Optional. Validated by a worker after upload.",
    )

    field_order = ["version", "notes", "input_schema", "output_schema"]

    def __init__(self, *args: Any, latest: ModelVersion | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The version the contract boxes were filled from, for the page to say so.
        self.copied_from = ""
        if latest is not None:
            self._start_from(latest)

    def _start_from(self, latest: ModelVersion) -> None:
        self.fields["version"].initial = next_version_after(latest.version)
        self.fields["version"].help_text = f"Semantic version. Latest is {latest.version}."
        kept = "Left empty, the previous version's schema and example are kept."
        for name in ("input_schema", "output_schema"):
            self.fields[name].help_text = f"JSON Schema (draft 2020-12). {kept}"
        for name in ContractFields.base_fields:
            value = getattr(latest, name)
            if value not in (None, {}):
                self.fields[name].initial = value
                self.copied_from = latest.version

    def ask_for_the_file_again(self) -> None:
        """Say by the file input that the file must be chosen again: a browser cannot refill it."""
        # The bound field copied the help text when the form was cleaned; set both.
        self.fields["artifact"].help_text = self["artifact"].help_text = CHOOSE_FILE_AGAIN
        self.fields["artifact"].widget.attrs["data-choose-again"] = ""  # styles the notice


class ContractForm(ContractFields):
    revision = revision_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("input_schema", "output_schema"):
            self.fields[name].empty = {}  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, version: ModelVersion) -> dict[str, Any]:
        return {name: getattr(version, name) for name in cls.base_fields}

    def contract(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "revision"}


class CardForm(forms.Form):
    """A textarea per section plus the metadata; section textareas preview through htmx."""

    license = forms.CharField(max_length=100, required=False)
    base_model = forms.CharField(max_length=200, required=False, label="Base model")
    languages = ListTextField(help_text="One per line, e.g. en.")
    datasets = ListTextField(help_text="One per line.")
    contacts = ListTextField(help_text="One per line: a name or an e-mail address.")
    links = ListTextField(help_text="One http(s) URL per line.")
    revision = revision_field()

    metadata_fields = ["license", "base_model", "languages", "datasets", "contacts", "links"]

    def __init__(self, *args: Any, preview_url: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sections = {}
        for field, title in CARD_SECTIONS:
            attrs = {
                "rows": 6,
                "hx-post": preview_url,
                "hx-trigger": PREVIEW_TRIGGER,
                "hx-target": f"#preview-{field}",
                "hx-vals": json.dumps({"field": field}),
                "aria-describedby": f"preview-{field}",
            }
            sections[field] = forms.CharField(
                label=title, required=False, strip=False, widget=forms.Textarea(attrs=attrs)
            )
        self.fields = {**sections, **self.fields}

    @classmethod
    def initial_for(cls, card: ModelCard) -> dict[str, Any]:
        sections = {field: getattr(card, field) for field, _ in CARD_SECTIONS}
        return sections | card.metadata() | {"revision": card.revision}

    def section_fields(self) -> list[forms.BoundField]:
        return [self[field] for field, _ in CARD_SECTIONS]

    def metadata_bound_fields(self) -> list[forms.BoundField]:
        return [self[field] for field in self.metadata_fields]

    def sections(self) -> dict[str, str]:
        return {field: self.cleaned_data[field] for field, _ in CARD_SECTIONS}

    def metadata(self) -> dict[str, Any]:
        return {field: self.cleaned_data[field] for field in self.metadata_fields}


class CardImportForm(forms.Form):
    """Only the file; the card service reads it (UTF-8, at most 1 MB) and parses it."""

    readme = forms.FileField(label="README.md", help_text="A model card README, at most 1 MB.")
    revision = revision_field()


class HiddenTextarea(forms.Textarea):
    """A textarea the page does not show: long text carried between steps, as a hidden field."""

    def __init__(self) -> None:
        super().__init__(attrs={"hidden": True})

    @property
    def is_hidden(self) -> bool:
        return True


class CardImportConfirmForm(forms.Form):
    """The parsed README carried to the confirmation, with the revision its changes were drawn on.

    The text travels back in a hidden textarea, capped as the upload is; the card service
    parses and checks it again before it replaces the card.
    """

    readme = forms.CharField(
        label="README.md",
        strip=False,
        max_length=MAX_README_BYTES,
        error_messages={"max_length": "A README may be at most 1 MB."},
        widget=HiddenTextarea,
    )
    # Required here: the confirmation must never replace a card it did not show.
    revision = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ArtifactForm(forms.Form):
    file = forms.FileField(
        label="ONNX file", widget=forms.ClearableFileInput(attrs={"accept": ".onnx"})
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=VersionStatus.choices)
