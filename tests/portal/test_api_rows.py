"""The row serializer mixin gives exactly what DRF's field-by-field walk gives."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone
from rest_framework import serializers

from portal.api.serializers import RowFastSerializerMixin


class Plain(serializers.Serializer):
    name = serializers.CharField()
    count = serializers.IntegerField()
    ratio = serializers.FloatField()
    flag = serializers.BooleanField()
    kind = serializers.ChoiceField(choices=[("a", "A"), ("b", "B")])
    level = serializers.ChoiceField(choices=[(1, "One"), (2, "Two")])
    payload = serializers.JSONField()
    packed = serializers.JSONField(binary=True)
    at = serializers.DateTimeField()
    day = serializers.DateTimeField(format="%Y-%m-%d")
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    owner_name = serializers.CharField(source="owner.username", default=None)
    shout = serializers.SerializerMethodField()
    secret = serializers.CharField(write_only=True)

    def get_shout(self, obj: Any) -> str:
        name = obj["name"] if isinstance(obj, dict) else obj.name
        return str(name).upper()


class Fast(RowFastSerializerMixin, Plain):
    pass


def _row(**changes: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "name": "churn",
        "count": 3,
        "ratio": 0.25,
        "flag": True,
        "kind": "b",
        "level": 2,
        "payload": {"nested": [1, 2]},
        "packed": {"x": 1},
        "at": datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC),
        "day": datetime(2026, 3, 1, 23, 0, tzinfo=UTC),
        "owner": SimpleNamespace(username="alice"),
        "secret": "never shown",
    }
    return SimpleNamespace(**(values | changes))


ROWS = [
    _row(),
    _row(name="", count=0, ratio=0.0, flag=False, payload=[], owner=None),
    _row(at=None, day=None, kind=None, level=None, payload=None),
    _row(at=datetime(2026, 3, 1, 12, 30)),  # naive: DRF makes it aware
    _row(kind="not-a-choice", level=9),
]


@pytest.mark.parametrize("row", ROWS)
def test_rows_match_drf(row: SimpleNamespace) -> None:
    assert Fast(row).data == Plain(row).data
    assert list(Fast(row).data) == list(Plain(row).data)  # same keys, same order


def test_a_list_matches_drf_row_by_row() -> None:
    assert Fast(ROWS, many=True).data == Plain(ROWS, many=True).data


def test_times_follow_the_active_time_zone() -> None:
    with timezone.override(zoneinfo.ZoneInfo("Europe/Berlin")):
        fast, plain = Fast(_row()).data, Plain(_row()).data
    assert fast == plain
    assert fast["at"] == "2026-03-01T13:30:05.123456+01:00"


def test_utc_times_end_in_z_and_secrets_stay_out() -> None:
    data = Fast(_row()).data
    assert data["at"] == "2026-03-01T12:30:05.123456Z"
    assert "secret" not in data
    assert data["owner"] == data["owner_name"] == "alice"


def test_a_mapping_takes_drf_path() -> None:
    row = vars(_row())
    assert Fast(row).data == Plain(row).data
