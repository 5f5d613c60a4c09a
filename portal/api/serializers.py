"""Serializer bases shared by every API: writes name what they cannot take."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


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
