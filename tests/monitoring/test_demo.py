"""The demo's drift monitoring: two weeks of daily reports, the stain shift caught, one alert."""

from __future__ import annotations

from typing import Any

import pytest

from portal.backlog.choices import Kind
from registry.monitoring.models import DriftReport


@pytest.fixture
def demo(seeded_demo: Any, db: Any) -> Any:
    return seeded_demo


def test_the_stain_shift_is_caught_and_files_one_alert(demo: Any) -> None:
    reports = list(DriftReport.objects.order_by("window_end"))
    assert len(reports) == 14
    assert {r.status for r in reports} == {"succeeded"}
    stained = {"mean_texture", "worst_texture"}
    assert stained <= set(reports[-1].drifted_columns)
    alerts = {r.alert_id for r in reports if r.alert_id}
    assert len(alerts) == 1
    item = reports[-1].alert
    assert item.kind == Kind.DRIFT_ALERT and item.comments.filter(author=None).exists()
    before = [r for r in reports[:-4] if r.alert_id]
    assert before == []  # no alert before the new stain
