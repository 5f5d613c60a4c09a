"""Delivery metrics against a hand-computed history, and read in a constant number of
queries from the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from registry.releases.delivery import ReleaseFacts, summarise

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def test_metrics_of_a_hand_computed_history():
    releases = [
        # Registered day 0, requested day 1, approved day 1.5, in production day 2: fine.
        ReleaseFacts("churn", "Risk", "production", at(0), at(1), at(1.5), at(2)),
        # Registered day 3, waits 1 day for approval, deployed day 6, rolled back 12 h later.
        ReleaseFacts(
            "churn", "Risk", "production", at(3), at(4), at(5), at(6), rolled_back_at=at(6.5)
        ),
        # Fails to deploy on day 8; the next churn deployment (day 9) restores it.
        ReleaseFacts("churn", "Risk", "production", at(7), at(7), at(7.25), failed_at=at(8)),
        ReleaseFacts("churn", "Risk", "production", at(7), at(8.5), at(8.75), at(9)),
        # Staging does not count for lead time; it counts for frequency.
        ReleaseFacts("churn", "Risk", "staging", at(0), at(0.5), at(1), at(1)),
        # Outside the period: ignored.
        ReleaseFacts("churn", "Risk", "production", at(-30), at(-29), at(-29), at(-28)),
    ]
    metrics = summarise(
        releases,
        start=T0,
        end=at(14),
        alerts=[("churn", at(5.5))],  # raised day 5.5, fixed by the day-6 deployment
        open_alerts=[at(13)],
        now=at(14),
    )

    # Lead times (production, in period): 2, 3, 2 days = 48, 72, 48 hours.
    assert metrics.lead_time.count == 3
    assert metrics.lead_time.median_hours == pytest.approx(48)
    assert metrics.lead_time.p90_hours == pytest.approx(48 + 0.8 * 24)
    # Approval waits: 12, 24, 6, 6 and 12 hours.
    assert metrics.approval_wait.median_hours == pytest.approx(12)
    assert metrics.deployments == 4
    assert metrics.per_week == pytest.approx(2.0)
    assert metrics.weekly == {"2026-W45": 3, "2026-W46": 1}
    # Reached a rollout: four deployed + one failed; bad: the rolled back and the failed one.
    assert metrics.change_failure_rate == pytest.approx(2 / 5)
    # Restores: rollback after 12 h, failure fixed after 24 h, alert fixed after 12 h.
    assert metrics.time_to_restore.count == 3
    assert metrics.time_to_restore.median_hours == pytest.approx(12)
    assert metrics.open_alert_age.median_hours == pytest.approx(24)


def test_an_empty_period_says_nothing_rather_than_zero():
    metrics = summarise([], start=T0, end=at(7), now=at(7))
    assert metrics.change_failure_rate is None
    assert metrics.lead_time.median_hours is None and metrics.deployments == 0
