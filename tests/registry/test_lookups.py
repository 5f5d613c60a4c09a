"""AnyOf finds what an IN list finds, with the values as one parameter on PostgreSQL."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.models import AuditEvent
from registry.lookups import AnyOf


def test_it_finds_the_rows_an_in_list_finds(db: Any) -> None:
    for target in ("1", "2", "3", "10"):
        AuditEvent.objects.create(verb="model.created", target_id=target)
    wanted = ["2", "10", "99"]

    found = AuditEvent.objects.filter(AnyOf("target_id", wanted))

    assert sorted(e.target_id for e in found) == sorted(
        e.target_id for e in AuditEvent.objects.filter(target_id__in=wanted)
    )
    assert not AuditEvent.objects.filter(AnyOf("target_id", [])).exists()


def test_on_postgresql_the_values_are_one_array_parameter(db: Any) -> None:
    query = AuditEvent.objects.filter(AnyOf("target_id", ["1", "2", "3"]))
    with CaptureQueriesContext(connection) as queries:
        list(query)
    sql = queries[0]["sql"]

    if connection.vendor == "postgresql":
        assert '"target_id" = ANY(' in sql and "IN (" not in sql
    else:
        assert '"target_id" IN (' in sql
