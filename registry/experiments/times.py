"""Metric point times on the wire: whole milliseconds since the epoch, as clients log them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)
MAX_MILLISECONDS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last storable time


def milliseconds(moment: datetime) -> int:
    """An aware time as whole milliseconds since the epoch (exact: no float on the way)."""
    return (moment - EPOCH) // MILLISECOND
