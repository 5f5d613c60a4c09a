"""An iteration's burndown, replayed from its items' history: pure functions, data in, data out.

An item counts on a day when, at the end of that day, it is in the iteration and open. The
history is what the audit log says of each item: created (with its status and iteration),
moved (its new status) and updated (its iteration after the change). Replaying it, rather
than reading today's rows, shows scope added mid-iteration and items carried elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from portal.backlog.choices import CLOSED, Status


@dataclass(frozen=True)
class ItemChange:
    """One thing that happened to an item on ``day``; None means "unchanged"."""

    item: int
    day: date
    status: str | None = None
    in_iteration: bool | None = None


@dataclass
class _State:
    status: str = Status.BACKLOG
    in_iteration: bool = False

    @property
    def counts(self) -> bool:
        return self.in_iteration and self.status not in CLOSED


@dataclass(frozen=True)
class Burndown:
    days: list[date]  # every day of the iteration, start to end
    open_counts: list[int]  # open items at the end of each day, up to the cut-off
    ideal: list[float]  # from the starting count down to zero, one per day
    scope: int  # open items at the end of the first day
    done: list[int] = field(default_factory=list)  # done by the cut-off
    dropped: list[int] = field(default_factory=list)  # closed as won't do by the cut-off
    carried_over: list[int] = field(default_factory=list)  # still open at the cut-off

    @property
    def started(self) -> bool:
        return bool(self.open_counts)


def burndown(changes: Iterable[ItemChange], *, start: date, end: date, today: date) -> Burndown:
    """Replay ``changes`` (in the order they happened) over ``start``..``end``.

    The cut-off is ``end``, or ``today`` while the iteration runs: the open counts stop there,
    and done / carried over describe the items as they were at the end of that day.
    """
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    cutoff = min(end, today)
    pending = sorted(changes, key=lambda change: change.day)  # stable: same-day order kept
    states: dict[int, _State] = {}
    counts: list[int] = []
    position = 0
    for day in days:
        if day > cutoff:
            break
        while position < len(pending) and pending[position].day <= day:
            _apply(states, pending[position])
            position += 1
        counts.append(sum(state.counts for state in states.values()))
    while position < len(pending) and pending[position].day <= cutoff:
        _apply(states, pending[position])  # a cut-off before the start: nothing to count
        position += 1
    scope = counts[0] if counts else sum(state.counts for state in states.values())
    return Burndown(
        days=days,
        open_counts=counts,
        ideal=_ideal(scope, len(days)),
        scope=scope,
        done=_items(states, Status.DONE),
        dropped=_items(states, Status.WONT_DO),
        carried_over=sorted(pk for pk, state in states.items() if state.counts),
    )


def _apply(states: dict[int, _State], change: ItemChange) -> None:
    state = states.setdefault(change.item, _State())
    if change.status is not None:
        state.status = change.status
    if change.in_iteration is not None:
        state.in_iteration = change.in_iteration


def _items(states: dict[int, _State], status: str) -> list[int]:
    return sorted(pk for pk, s in states.items() if s.in_iteration and s.status == status)


def _ideal(scope: int, length: int) -> list[float]:
    if length == 1:
        return [0.0]
    step = scope / (length - 1)
    return [round(scope - step * n, 2) for n in range(length)]


def changes_from_events(events: Iterable[dict[str, Any]], *, iteration: int) -> list[ItemChange]:
    """``ItemChange``s from audit event rows (``target_id``, ``verb``, ``after``, ``day``)."""
    changes = []
    for event in events:
        after = event["after"] or {}
        verb = event["verb"]
        if verb == "item.created":
            status, inside = after.get("status"), after.get("iteration") == iteration
        elif verb == "item.moved":
            status, inside = after.get("status"), None
        elif verb == "item.updated" and "iteration" in after:
            status, inside = None, after["iteration"] == iteration
        else:
            continue
        changes.append(
            ItemChange(
                item=int(event["target_id"]), day=event["day"], status=status, in_iteration=inside
            )
        )
    return changes


def burndown_figure(chart: Burndown) -> dict[str, Any]:
    """A Plotly line chart: open items per day against the ideal line."""
    shown = [day.isoformat() for day in chart.days]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": "Ideal",
                "x": shown,
                "y": chart.ideal,
                "line": {"dash": "dash", "color": "#5b6472"},
                "hovertemplate": "%{x}: %{y:.1f} ideal<extra></extra>",
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "Open items",
                "x": shown[: len(chart.open_counts)],
                "y": chart.open_counts,
                "line": {"shape": "hv", "color": "#2454d6"},
                "hovertemplate": "%{x}: %{y} open<extra></extra>",
            },
        ],
        "layout": {
            "xaxis": {"title": {"text": "Day"}, "type": "date", "tickformat": "%b %d"},
            "yaxis": {"title": {"text": "Open items"}, "rangemode": "tozero", "tickformat": ",d"},
            "legend": {"orientation": "h", "y": -0.25},
            "height": 320,
        },
    }
