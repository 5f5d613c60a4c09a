"""``AnyOf``: a column equal to one of many values, sent as one array parameter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression, F, Lookup
from django.db.models.sql.compiler import SQLCompiler


class AnyOf(Lookup):
    """``AnyOf("target_id", ids)``: ``target_id = ANY(%s)`` on PostgreSQL, an IN list elsewhere.

    PostgreSQL reads ``IN (…)`` as ``= ANY('{…}')`` and plans both alike (an index scan per
    value), but an IN list costs Python a placeholder per value: Django compiles each one and
    psycopg splits the query at each. The model page names some 150 ids this way.
    """

    lookup_name = "any_of"
    prepare_rhs = False  # the values are already what the column holds

    def __init__(self, lhs: str | Expression, values: Sequence[Any]) -> None:
        super().__init__(F(lhs) if isinstance(lhs, str) else lhs, list(values))

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        placeholders = ", ".join(["%s"] * len(self.rhs))
        return f"{lhs} IN ({placeholders})", (*lhs_params, *self.rhs)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, self.rhs)
