"""Serializer bases shared by every API: writes name what they cannot take."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings


class StrictFieldsMixin:
    """Refuse unknown and read-only keys with a 400 naming them, instead of ignoring them.

    DRF drops keys it does not know, so a misspelt field would "succeed" and change nothing.
    ``read_only_names`` lists fields the resource shows but a write may not set, so their
    message says so instead of "unknown".
    """

    read_only_names: tuple[str, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            fields = self.fields  # type: ignore[attr-defined]
            writable = {name for name, field in fields.items() if not field.read_only}
            errors: dict[str, list[str]] = {}
            for key in data:
                if key in writable:
                    continue
                if key in fields or key in self.read_only_names:
                    errors[str(key)] = ["This field is read-only."]
                else:
                    known = ", ".join(sorted(writable))
                    errors[str(key)[:100]] = [f"Unknown field; this request takes: {known}."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    """A plain serializer for a write body."""


class StrictModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A model serializer that is also written to."""


class RowFastSerializerMixin:
    """Serialize rows without DRF's per-field walk: a list endpoint's hot path.

    DRF resolves every field of every row through ``get_attribute`` and
    ``to_representation``; at 200 rows of a dozen fields that walk took more time than the
    queries. The first row builds a plan once per serializer: fields that read one plain
    attribute of a simple type are read with ``getattr`` and converted as DRF would convert
    them; every other field (method fields, URLs, related and nested serializers, custom
    formats) takes DRF's own path. tests/portal/test_api_rows.py holds the output equal to
    DRF's for every serializer that uses this.
    """

    def to_representation(self, instance: Any) -> dict[str, Any]:
        if isinstance(instance, Mapping):
            return super().to_representation(instance)  # type: ignore[misc,no-any-return]
        plan = self.__dict__.get("_row_plan")
        if plan is None:
            plan = self.__dict__["_row_plan"] = [_plan(field) for field in self._readable_fields]  # type: ignore[attr-defined]
        row: dict[str, Any] = {}
        zone = None
        for name, source, kind, field in plan:
            if kind is _DRF:
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
                empty = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
                row[name] = None if empty is None else field.to_representation(attribute)
                continue
            value = getattr(instance, source)
            if value is None:
                row[name] = None
            elif kind is _DATETIME:
                if zone is None:
                    zone = timezone.get_current_timezone()
                aware = isinstance(value, datetime) and timezone.is_aware(value)
                row[name] = api_datetime(value, zone) if aware else field.to_representation(value)
            else:
                row[name] = kind(value)
        return row


_DRF = object()
_DATETIME = object()
_PLAIN: dict[type, Any] = {
    serializers.CharField: str,
    serializers.ChoiceField: str,
    serializers.IntegerField: int,
    serializers.FloatField: float,
    serializers.BooleanField: bool,
    serializers.JSONField: lambda value: value,
}


def _plan(field: serializers.Field) -> tuple[str, str, Any, serializers.Field]:
    """(name, attribute, conversion, field) of one readable field."""
    simple = len(field.source_attrs) == 1 and field.source != "*"
    kind = _PLAIN.get(type(field), _DRF)
    if type(field) is serializers.ChoiceField and not all(
        isinstance(key, str) for key in field.choice_strings_to_values.values()
    ):
        kind = _DRF  # only string choices come back as themselves
    if type(field) is serializers.JSONField and field.binary:
        kind = _DRF
    if type(field) is serializers.DateTimeField and _iso_format(field):
        kind = _DATETIME
    if type(field) is serializers.SlugRelatedField:
        kind = attrgetter(field.slug_field)
    return str(field.field_name), str(field.source), kind if simple else _DRF, field


def _iso_format(field: serializers.DateTimeField) -> bool:
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return (
        isinstance(output_format, str)
        and output_format.lower() == ISO_8601
        and not hasattr(field, "timezone")
        and settings.USE_TZ
    )


def api_datetime(value: datetime, zone: tzinfo | None = None) -> str:
    """An aware ``value`` as DRF shows a datetime: ISO 8601 in the current zone, UTC as Z."""
    text = value.astimezone(zone or timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
