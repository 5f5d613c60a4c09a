"""Backlog API serializers. Writes are checked here for shape, then by the services for rules.

People are written by username, labels by name, teams by slug, iterations by id and links as
``{"type": "model", "id": 12}``; the representation uses the same words, so an item read can
be written back.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.api.serializers import RowFastSerializerMixin, StrictSerializer
from portal.backlog.choices import Discipline, Kind, Priority, Status
from portal.backlog.links import link_name
from portal.backlog.models import BacklogItem, Comment, ItemLink, Iteration
from portal.backlog.services.comments import MAX_COMMENT
from portal.backlog.services.items import LABEL_LENGTH, MAX_LABELS
from portal.backlog.services.links import resolve_target
from portal.models import Team
from portal.people import Person

# Primary keys are BigAutoFields: anything larger is no row, and a clean 400.
MAX_ID = 2**63 - 1
MAX_ASSIGNEES = 20
MAX_LINKS = 20
MAX_TEXT = 50_000


def _id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


# The vocabularies are schema components of their own, named here: "status" and "kind" name
# other choice sets elsewhere in the API, and the schema must not guess between them.


@extend_schema_field({"type": "string", "enum": Status.values}, component_name="BacklogStatusEnum")
class StatusField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Status.choices, **kwargs)


@extend_schema_field({"type": "string", "enum": Kind.values}, component_name="BacklogKindEnum")
class KindField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Kind.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": Priority.values}, component_name="BacklogPriorityEnum"
)
class PriorityField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Priority.choices, **kwargs)


@extend_schema_field(
    {"type": "string", "enum": Discipline.values}, component_name="BacklogDisciplineEnum"
)
class DisciplineField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Discipline.choices, **kwargs)


# Reading ------------------------------------------------------------------------------------


class ItemLinkSerializer(serializers.ModelSerializer):
    """A link as ``{type, id, repr, url}``: ``type`` and ``id`` name the target as a write
    names it, ``url`` is this link's own address (DELETE it to unlink)."""

    type = serializers.SerializerMethodField()
    id = serializers.SerializerMethodField()
    repr = serializers.CharField(source="target_repr", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = ItemLink
        fields = ["type", "id", "repr", "url"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(help_text='The kind of target, e.g. "model".'))
    def get_type(self, link: ItemLink) -> str:
        # target_type is selected with the link, and model_class() asks the app registry only.
        kind = link.target_type
        model = kind.model_class()
        name = link_name(model) if model is not None else None
        return name or f"{kind.app_label}.{kind.model}"

    @extend_schema_field(serializers.IntegerField(help_text="The target's id."))
    def get_id(self, link: ItemLink) -> int | str:
        key = link.target_id
        return int(key) if key.isdigit() else key

    @extend_schema_field(serializers.URLField(help_text="This link; DELETE it to unlink."))
    def get_url(self, link: ItemLink) -> str:
        path = reverse(
            "backlog-api:item-link-detail", kwargs={"item_id": link.item_id, "link_id": link.pk}
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class BacklogItemSerializer(RowFastSerializerMixin, serializers.ModelSerializer):
    """An item as the API shows it; lists read it from ``views.item_api_queryset()``."""

    url = serializers.HyperlinkedIdentityField(
        view_name="backlog-api:backlog-item-detail", lookup_url_kwarg="item_id"
    )
    team = serializers.SlugRelatedField[Any](slug_field="slug", read_only=True)
    assignees = serializers.SlugRelatedField[Any](slug_field="username", many=True, read_only=True)
    reporter = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True, help_text="None: filed by Handoff."
    )
    labels = serializers.SlugRelatedField[Any](slug_field="name", many=True, read_only=True)
    closed_by = serializers.SlugRelatedField[Any](
        slug_field="username", read_only=True, allow_null=True
    )
    kind = KindField(read_only=True)
    status = StatusField(read_only=True)
    priority = PriorityField(read_only=True)
    discipline = DisciplineField(read_only=True)
    links = ItemLinkSerializer(many=True, read_only=True)
    next_statuses = serializers.SerializerMethodField()

    class Meta:
        model = BacklogItem
        fields = [
            "id",
            "url",
            "title",
            "description",
            "description_html",
            "kind",
            "status",
            "priority",
            "discipline",
            "team",
            "assignees",
            "reporter",
            "labels",
            "iteration",
            "due_date",
            "position",
            "links",
            "closed_by",
            "closed_at",
            "revision",
            "created_at",
            "updated_at",
            "next_statuses",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(
            child=StatusField(), help_text="Where POST …/move/ may take this item next."
        )
    )
    def get_next_statuses(self, item: BacklogItem) -> list[str]:
        return [str(status) for status in item.next_statuses()]


class CommentSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField[Any](slug_field="username", read_only=True)
    mentions = serializers.SlugRelatedField[Any](slug_field="username", many=True, read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "author", "body", "body_html", "mentions", "created_at"]
        read_only_fields = fields


class IterationSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(
        view_name="backlog-api:iteration-detail", lookup_url_kwarg="iteration_id"
    )
    team = serializers.SlugRelatedField[Any](slug_field="slug", read_only=True)

    class Meta:
        model = Iteration
        fields = [
            "id",
            "url",
            "team",
            "name",
            "start_date",
            "end_date",
            "review_notes",
            "review_notes_html",
            "retro_notes",
            "retro_notes_html",
            "revision",
        ]
        read_only_fields = fields


# Writing ------------------------------------------------------------------------------------


class UsernamesField(serializers.ListField):
    """Active people by username, in one query; an unknown name is a 400 naming it."""

    child = serializers.CharField(max_length=150)

    def to_internal_value(self, data: Any) -> list[Person]:
        names = list(dict.fromkeys(super().to_internal_value(data)))
        found = {
            person.username: person
            for person in get_user_model().objects.filter(username__in=names, is_active=True)
        }
        unknown = [name for name in names if name not in found]
        if unknown:
            raise serializers.ValidationError(
                [f"No active person with username {name!r}." for name in unknown]
            )
        return [found[name] for name in names]


class ItemLinkWriteSerializer(StrictSerializer):
    """``{"type": "model", "id": 12}``: validated into the target object itself."""

    type = serializers.CharField(max_length=40, help_text='e.g. "model" or "version".')
    id = _id_field(help_text="The target's id.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A Django ValidationError naming "type" or "id"; DRF keeps the field names.
        return {"target": resolve_target(attrs["type"], attrs["id"])}


# What POST and PATCH take besides the title; the rest of the representation is read-only.
ITEM_FIELDS = frozenset(
    {
        "description",
        "kind",
        "priority",
        "discipline",
        "assignees",
        "labels",
        "iteration",
        "due_date",
    }
)


def _read_only(shown: list[str], writable: AbstractSet[str]) -> tuple[str, ...]:
    return tuple(name for name in shown if name not in writable)


class ItemFieldsSerializer(StrictSerializer):
    """The fields an item is filed with and that PATCH changes."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(allow_blank=True, max_length=MAX_TEXT, required=False)
    kind = KindField(required=False)
    priority = PriorityField(required=False)
    discipline = DisciplineField(required=False)
    assignees = UsernamesField(
        max_length=MAX_ASSIGNEES, required=False, help_text="Usernames; each new one is told."
    )
    labels = serializers.ListField(
        child=serializers.CharField(max_length=LABEL_LENGTH),
        max_length=MAX_LABELS,
        required=False,
        help_text="Label names; a new name becomes a label.",
    )
    iteration = serializers.PrimaryKeyRelatedField(
        queryset=Iteration.objects.all(), allow_null=True, required=False
    )
    due_date = serializers.DateField(allow_null=True, required=False)


class BacklogItemCreateSerializer(ItemFieldsSerializer):
    """A new item of ``team``; links name what it is about."""

    read_only_names = _read_only(
        BacklogItemSerializer.Meta.fields, {"title", "team", "status", "links", *ITEM_FIELDS}
    )

    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    status = StatusField(required=False, help_text="An open status; backlog by default.")
    links: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=ItemLinkWriteSerializer(), max_length=MAX_LINKS, required=False
    )

    def validate_links(self, value: list[dict[str, Any]]) -> list[Any]:
        return [link["target"] for link in value]


class BacklogItemUpdateSerializer(ItemFieldsSerializer):
    """PATCH: any of the item's own fields. Status and links have their own endpoints."""

    read_only_names = _read_only(BacklogItemSerializer.Meta.fields, {"title", *ITEM_FIELDS})
    ELSEWHERE = {
        "status": "Move an item with POST /api/v1/backlog-items/{item_id}/move/.",
        "links": "Link with POST …/links/ and unlink with DELETE …/links/{link_id}/.",
    }

    title = serializers.CharField(max_length=200, required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            elsewhere = {key: [why] for key, why in self.ELSEWHERE.items() if key in data}
            if elsewhere:
                raise serializers.ValidationError(elsewhere)
        return super().to_internal_value(data)


class MoveSerializer(StrictSerializer):
    status = StatusField(help_text="The status to move to.")
    before = serializers.PrimaryKeyRelatedField(
        queryset=BacklogItem.objects.all(),
        allow_null=True,
        required=False,
        help_text="Place the item just above this item of the same column; the bottom if left out.",
    )


class CommentWriteSerializer(StrictSerializer):
    read_only_names = ("id", "author", "body_html", "mentions", "created_at")

    body = serializers.CharField(max_length=MAX_COMMENT, help_text="Markdown; @username notifies.")


class IterationCreateSerializer(StrictSerializer):
    read_only_names = _read_only(
        IterationSerializer.Meta.fields, {"team", "name", "start_date", "end_date"}
    )

    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    name = serializers.CharField(max_length=100)
    start_date = serializers.DateField()
    end_date = serializers.DateField()


class IterationNotesSerializer(StrictSerializer):
    """Either or both notes; a note left out keeps its text."""

    read_only_names = _read_only(IterationSerializer.Meta.fields, {"review_notes", "retro_notes"})

    review_notes = serializers.CharField(allow_blank=True, max_length=MAX_TEXT, required=False)
    retro_notes = serializers.CharField(allow_blank=True, max_length=MAX_TEXT, required=False)
