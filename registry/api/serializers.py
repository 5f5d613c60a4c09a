"""Registry API serializers. Writes are validated here for shape, then by the services for rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.serializers import (
    RowFastSerializerMixin,
    StrictModelSerializer,
    StrictSerializer,
    api_datetime,
)
from portal.jobs import JobStatus
from portal.models import Team
from registry.choices import TaskType, VersionStatus
from registry.models import (
    CARD_METADATA_FIELDS,
    CARD_SECTIONS,
    Artifact,
    ModelCard,
    ModelVersion,
    RegisteredModel,
    completeness_percent,
)


class TagListField(serializers.ListField):
    """Tags are written as a list of names and read from the model's tag relation."""

    child = serializers.CharField(max_length=40)

    def to_representation(self, data: Any) -> list[str]:
        return [tag.name for tag in data.all()] if hasattr(data, "all") else list(data)


class ModelUrlField(serializers.HyperlinkedIdentityField):
    """A model's API URL, reversed once per serializer rather than once per row of a page."""

    SLOT = "model-name-slot"

    def get_url(self, obj: Any, view_name: str, request: Any, format: Any) -> str | None:
        return self.for_name(str(obj.name), request, format)

    def for_name(self, name: str, request: Any, format: Any = None) -> str:
        template = getattr(self, "_template", None)
        if template is None:
            url = self.reverse(
                self.view_name, kwargs={"model_name": self.SLOT}, request=request, format=format
            )
            template = self._template = url.rsplit(self.SLOT, 1)
        # Names are slugs, so they need no quoting in a path.
        return name.join(template)


class RegisteredModelSerializer(RowFastSerializerMixin, StrictModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    tags = TagListField(max_length=20, required=False)
    latest_version = serializers.SerializerMethodField()
    production_version = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    url = ModelUrlField(
        view_name="registry-api:model-detail", lookup_field="name", lookup_url_kwarg="model_name"
    )

    class Meta:
        model = RegisteredModel
        fields = [
            "url",
            "name",
            "title",
            "summary",
            "team",
            "task_type",
            "tags",
            "latest_version",
            "production_version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    # Lists and lookups annotate both versions (registry.api.queries.model_api_queryset); a model
    # fresh from a service asks the database, one row each.

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_latest_version(self, obj: RegisteredModel) -> str | None:
        if hasattr(obj, "latest_version_name"):
            return getattr(obj, "latest_version_name")  # noqa: B009 - an annotation
        return _highest(obj.versions.all())

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_production_version(self, obj: RegisteredModel) -> str | None:
        if hasattr(obj, "production_version_name"):
            return getattr(obj, "production_version_name")  # noqa: B009 - an annotation
        return _highest(obj.versions.filter(status=VersionStatus.PRODUCTION))

    def rows(self, values: Iterable[dict[str, Any]], tags: dict[int, list[str]]) -> list[Any]:
        """A page of the list from ``registry.api.queries.model_api_rows``, shaped as one model is.

        Plain values in, plain dicts out: at 200 rows, building model instances and walking
        the fields cost more than the queries (tests/registry/test_api_rows.py holds the
        two shapes equal).
        """
        url = cast(ModelUrlField, self.fields["url"])
        request = self.context.get("request")
        zone = timezone.get_current_timezone()
        return [
            {
                "url": url.for_name(row["name"], request),
                "name": row["name"],
                "title": row["title"],
                "summary": row["summary"],
                "team": row["team_slug"],
                "task_type": row["task_type"],
                "tags": tags[row["pk"]],
                "latest_version": row["latest_version_name"],
                "production_version": row["production_version_name"],
                "created_by": row["creator"],
                "created_at": api_datetime(row["created_at"], zone),
                "updated_at": api_datetime(row["updated_at"], zone),
            }
            for row in values
        ]


def _highest(versions: QuerySet[ModelVersion]) -> str | None:
    return versions.order_by("-sort_key").values_list("version", flat=True).first()


class RegisteredModelUpdateSerializer(StrictSerializer):
    read_only_names: tuple[str, ...] = ("name", "team", "url", "latest_version")
    read_only_names += ("production_version", "created_by", "created_at", "updated_at")

    title = serializers.CharField(max_length=200, required=False)
    summary = serializers.CharField(max_length=300, required=False, allow_blank=True)
    task_type = serializers.ChoiceField(choices=TaskType.choices, required=False)
    tags = TagListField(max_length=20, required=False)


class ArtifactSerializer(RowFastSerializerMixin, serializers.ModelSerializer):
    """The artifact and its validation job; ``status`` keeps the artifact's own words."""

    job_status = serializers.ChoiceField(
        source="phase",
        choices=JobStatus.choices,
        read_only=True,
        help_text="The validation job's state, named as for every job in Handoff.",
    )
    validated_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = Artifact
        fields = [
            "original_name",
            "size",
            "sha256",
            "status",
            "progress",
            "error",
            "opset",
            "ir_version",
            "producer",
            "inputs",
            "outputs",
            "created_at",
            "validated_at",
            "job_status",
            "progress_text",
            "attempts",
            "max_attempts",
            "queued_at",
            "started_at",
            "finished_at",
            "cancel_requested",
        ]
        read_only_fields = fields


class ArtifactUploadSerializer(StrictSerializer):
    file = serializers.FileField(help_text="An ONNX model (protobuf).")


class ContractChangeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["breaking", "compatible"])
    schema = serializers.ChoiceField(choices=["input", "output"])
    path = serializers.CharField()
    change = serializers.CharField()


FULL_REPLACE = (
    "A full replace (PUT) sends every field: send an empty value to clear it, "
    "or PATCH only the fields you change."
)


class ContractSerializer(StrictSerializer):
    """The whole contract: PUT replaces all four parts, so all four must be sent."""

    input_schema = serializers.JSONField(help_text="JSON Schema (draft 2020-12) of a request.")
    output_schema = serializers.JSONField(help_text="JSON Schema (draft 2020-12) of a response.")
    example_request = serializers.JSONField(
        allow_null=True, error_messages={"required": FULL_REPLACE}
    )
    example_response = serializers.JSONField(
        allow_null=True, error_messages={"required": FULL_REPLACE}
    )


# A field typed loosely: a row of the versions list reads the same names from annotations.
AnyField = serializers.Field[Any, Any, Any, Any]


class ModelVersionSerializer(RowFastSerializerMixin, serializers.ModelSerializer):
    model: AnyField = serializers.SlugRelatedField[Any](slug_field="name", read_only=True)
    created_by: AnyField = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    # Declared once, not built per row: a list of versions serializes many artifacts.
    artifact = ArtifactSerializer(read_only=True, allow_null=True)
    card_completeness = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "model",
            "version",
            "number",
            "status",
            "notes",
            "input_schema",
            "output_schema",
            "example_request",
            "example_response",
            "artifact",
            "card_completeness",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["number", "status", "created_at", "updated_at"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_card_completeness(self, obj: ModelVersion) -> int | None:
        card = getattr(obj, "card", None)
        return card.completeness if card else None


class ModelVersionRowSerializer(ModelVersionSerializer):
    """A row of the versions list, read from the annotations of ``api_versions(listing=True)``."""

    model = serializers.CharField(source="model_name", read_only=True)
    created_by = serializers.CharField(source="creator", read_only=True)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_card_completeness(self, obj: ModelVersion) -> int | None:
        written = getattr(obj, "card_written")  # noqa: B009 - an annotation
        return None if written is None else completeness_percent(written)


class ModelVersionDetailSerializer(ModelVersionSerializer):
    previous_version = serializers.SerializerMethodField()
    contract_changes = serializers.SerializerMethodField()

    class Meta(ModelVersionSerializer.Meta):
        fields = [*ModelVersionSerializer.Meta.fields, "previous_version", "contract_changes"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_previous_version(self, obj: ModelVersion) -> str | None:
        previous = self.context.get("previous")
        return previous.version if previous else None

    @extend_schema_field(ContractChangeSerializer(many=True))
    def get_contract_changes(self, obj: ModelVersion) -> list[dict[str, str]]:
        return [change.as_dict() for change in self.context.get("changes", [])]


class ModelVersionCreateSerializer(StrictSerializer):
    version = serializers.CharField(max_length=64, help_text="Semantic version, e.g. 1.4.0.")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=50_000)
    input_schema = serializers.JSONField(required=False, allow_null=True, default=None)
    output_schema = serializers.JSONField(required=False, allow_null=True, default=None)
    example_request = serializers.JSONField(required=False, allow_null=True, default=None)
    example_response = serializers.JSONField(required=False, allow_null=True, default=None)


class ModelVersionUpdateSerializer(StrictSerializer):
    read_only_names = tuple(name for name in ModelVersionSerializer.Meta.fields if name != "notes")

    notes = serializers.CharField(allow_blank=True, max_length=50_000)


class VersionStatusSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=VersionStatus.choices)


class ModelCardSerializer(StrictModelSerializer):
    completeness = serializers.IntegerField(read_only=True)
    missing_sections = serializers.ListField(child=serializers.CharField(), read_only=True)
    updated_by = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)

    class Meta:
        model = ModelCard
        fields = [
            *(field for field, _ in CARD_SECTIONS),
            *CARD_METADATA_FIELDS,
            "completeness",
            "missing_sections",
            "updated_by",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        # PUT replaces the whole card, so leaving a field out is refused rather than emptying
        # it; PATCH (partial) changes only what it sends.
        extra_kwargs = {
            field: {"required": True, "error_messages": {"required": FULL_REPLACE}}
            for field in [*(name for name, _ in CARD_SECTIONS), *CARD_METADATA_FIELDS]
        }

    def to_representation(self, instance: ModelCard) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["missing_sections"] = instance.missing_sections()
        return data


class CardImportSerializer(StrictSerializer):
    readme = serializers.CharField(
        required=False, max_length=1_000_000, help_text="README.md text, if no file is sent."
    )
    file = serializers.FileField(required=False, help_text="A README.md file.")


class SectionDiffSerializer(serializers.Serializer):
    field = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    lines = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))


class CompareSerializer(serializers.Serializer):
    a = serializers.CharField()
    b = serializers.CharField()
    breaking_changes = serializers.IntegerField()
    contract_changes = ContractChangeSerializer(many=True)
    card_diff = SectionDiffSerializer(many=True)
    metadata_diff = serializers.ListField(child=serializers.DictField())
