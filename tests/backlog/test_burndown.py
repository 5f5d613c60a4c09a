"""The burndown replays the items' history: pure functions, no database."""

from __future__ import annotations

from datetime import date

from portal.backlog.burndown import ItemChange, burndown, burndown_figure, changes_from_events

START, END = date(2025, 3, 3), date(2025, 3, 7)  # Monday to Friday


def created(item: int, day: int, status: str = "todo", inside: bool = True) -> ItemChange:
    return ItemChange(item=item, day=date(2025, 3, day), status=status, in_iteration=inside)


def moved(item: int, day: int, status: str) -> ItemChange:
    return ItemChange(item=item, day=date(2025, 3, day), status=status)


def test_it_counts_open_items_at_the_end_of_each_day() -> None:
    """Items planned before the start count from day one; closing one lowers the next count."""
    changes = [created(1, 1), created(2, 1), created(3, 2), moved(1, 4, "in_progress")]
    changes += [moved(1, 4, "in_review"), moved(1, 5, "done"), moved(2, 6, "wont_do")]

    chart = burndown(changes, start=START, end=END, today=date(2025, 4, 1))

    assert chart.open_counts == [3, 3, 2, 1, 1]
    assert (chart.done, chart.dropped, chart.carried_over) == ([1], [2], [3])


def test_the_ideal_line_runs_from_the_first_days_count_to_zero() -> None:
    chart = burndown([created(1, 1), created(2, 1)], start=START, end=END, today=END)

    assert chart.scope == 2
    assert chart.ideal == [2.0, 1.5, 1.0, 0.5, 0.0]


def test_a_running_iteration_stops_at_today_and_calls_open_items_still_open() -> None:
    changes = [created(1, 1), created(2, 1), moved(1, 4, "in_progress"), moved(1, 4, "in_review")]
    changes.append(moved(1, 6, "done"))  # after "today"

    chart = burndown(changes, start=START, end=END, today=date(2025, 3, 5))

    assert chart.open_counts == [2, 2, 2]
    assert len(chart.ideal) == len(chart.days) == 5
    assert (chart.done, chart.carried_over) == ([], [1, 2])


def test_scope_added_mid_iteration_raises_the_line() -> None:
    changes = [created(1, 1), created(2, 5)]

    chart = burndown(changes, start=START, end=END, today=END)

    assert chart.open_counts == [1, 1, 2, 2, 2]


def test_an_item_moved_into_or_out_of_the_iteration_counts_only_while_inside() -> None:
    """Carried to the next iteration on the last day: it was still open here at the end."""
    changes = [
        created(1, 1, inside=False),
        ItemChange(item=1, day=date(2025, 3, 4), in_iteration=True),
    ]
    changes.append(created(2, 1))
    changes.append(ItemChange(item=2, day=date(2025, 3, 5), in_iteration=False))

    chart = burndown(changes, start=START, end=END, today=END)

    assert chart.open_counts == [1, 2, 1, 1, 1]
    assert chart.carried_over == [1]


def test_an_item_closed_after_the_end_is_carried_over() -> None:
    changes = [created(1, 1), moved(1, 10, "in_progress")]

    chart = burndown(changes, start=START, end=END, today=date(2025, 3, 20))

    assert chart.carried_over == [1] and chart.done == []


def test_before_it_starts_there_are_no_counts_but_the_planned_scope() -> None:
    chart = burndown([created(1, 1), created(2, 1)], start=START, end=END, today=date(2025, 3, 1))

    assert not chart.started
    assert chart.scope == 2
    assert chart.open_counts == []


def test_a_one_day_iteration_has_a_one_point_ideal() -> None:
    chart = burndown([created(1, 3)], start=date(2025, 3, 3), end=date(2025, 3, 3), today=END)

    assert chart.ideal == [0.0] and chart.open_counts == [1]


def test_audit_events_become_changes() -> None:
    """created names status and iteration, moved only the status, updated the iteration."""
    day = date(2025, 3, 3)
    events = [
        {"target_id": "7", "verb": "item.created", "after": {"status": "todo", "iteration": 4}},
        {"target_id": "7", "verb": "item.moved", "after": {"status": "in_progress"}},
        {"target_id": "7", "verb": "item.updated", "after": {"iteration": 5, "title": "x"}},
        {"target_id": "7", "verb": "item.commented", "after": {"comment": 1}},
    ]

    changes = changes_from_events([{**event, "day": day} for event in events], iteration=4)

    assert changes == [
        ItemChange(item=7, day=day, status="todo", in_iteration=True),
        ItemChange(item=7, day=day, status="in_progress", in_iteration=None),
        ItemChange(item=7, day=day, status=None, in_iteration=False),
    ]


def test_the_figure_draws_the_ideal_and_the_actual_line() -> None:
    chart = burndown([created(1, 1)], start=START, end=END, today=date(2025, 3, 4))

    figure = burndown_figure(chart)

    ideal, actual = figure["data"]
    assert ideal["x"] == [f"2025-03-0{d}" for d in range(3, 8)]
    assert actual["x"] == ["2025-03-03", "2025-03-04"] and actual["y"] == [1, 1]
