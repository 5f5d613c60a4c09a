"""Which window a report covers, and the key that makes it one report. Pure.

A scheduled report covers the window ending at the start of the current hour (hourly) or
day (daily, in the site's time zone), so two beat ticks in one period name the same
report. "Run now" ends at the current minute: a double click finds the report it started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from registry.monitoring.models import Schedule, Trigger


@dataclass(frozen=True)
class Period:
    key: str
    start: datetime
    end: datetime


def window_of(*, schedule: str, trigger: str, hours: int, now: datetime) -> Period:
    local = timezone.localtime(now)
    if trigger != Trigger.SCHEDULE:
        end = local.replace(second=0, microsecond=0)
        label = "now"
    elif schedule == Schedule.HOURLY:
        end = local.replace(minute=0, second=0, microsecond=0)
        label = "hourly"
    else:
        end = local.replace(hour=0, minute=0, second=0, microsecond=0)
        label = "daily"
    return Period(
        key=f"{label}:{end.isoformat(timespec='minutes')}",
        start=end - timedelta(hours=hours),
        end=end,
    )
