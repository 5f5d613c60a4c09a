"""The feedback overview and a version's error analysis in a real browser: charts drawn
from their data islands, under the portal's CSP, with no script error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from feedback.services.access import Caller
from feedback.services.feedback import give_feedback
from feedback.services.outcomes import report_outcomes
from feedback.services.predictions import log_predictions
from portal.roles import Role
from portal.services.accounts import create_team, create_user
from registry.choices import TaskType
from registry.services.models import create_model
from registry.services.versions import create_version

pytestmark = pytest.mark.browser

PASSWORD = "pw-alice-123"
LABELS = ("class_0", "class_1", "class_2")


@pytest.fixture
def cultivar(transactional_db: None) -> Any:
    """A demo-like classifier: two versions, 60 predictions over the last days, thumbs and
    corrected labels on most of them, and a business outcome."""
    alice = create_user(username="alice", password=PASSWORD, roles=[Role.DATA_SCIENTIST])
    team = create_team(name="Risk Modelling", members=[alice])
    model = create_model(
        actor=alice,
        name="cultivar",
        title="Cultivar",
        team=team,
        task_type=TaskType.OTHER,  # labels and values both: every chart of the page
    )
    for version in ("1.0.0", "1.1.0"):
        create_version(actor=alice, model=model, version=version)
    now, caller = timezone.now(), Caller(person=alice)
    log_predictions(
        caller=caller,
        records=[
            {
                "model": "cultivar",
                "prediction_id": f"w{n}",
                "version": "1.1.0" if n % 3 else "1.0.0",
                "timestamp": (now - timedelta(hours=n * 2)).isoformat(),
                "features": {"alcohol": 11 + n % 4, "hue": ("low", "high")[n % 2]},
                "output": {"label": LABELS[n % 3], "value": 10.0 + n},
            }
            for n in range(60)
        ],
        now=now,
    )
    give_feedback(
        caller=caller,
        records=[
            record
            for n in range(60)
            for record in (
                {"model": "cultivar", "prediction_id": f"w{n}", "kind": "thumbs"}
                | {"value": "down" if n % 4 == 0 else "up"},
                {"model": "cultivar", "prediction_id": f"w{n}", "kind": "label"}
                | {"value": LABELS[(n + n % 2) % 3]},
                {"model": "cultivar", "prediction_id": f"w{n}", "kind": "value"}
                | {"value": 10.0 + n + (n % 5) - 2},
            )
        ],
        now=now,
    )
    report_outcomes(
        caller=caller,
        records=[
            {"model": "cultivar", "prediction_id": f"w{n}", "name": "converted", "value": n % 2}
            for n in range(60)
        ],
        now=now,
    )
    return model


def test_the_analysis_page_draws_its_charts(
    page: Any, login: Any, cultivar: Any, page_log: Any
) -> None:
    login(page, "alice", PASSWORD)

    page.goto("/feedback/models/cultivar/versions/1.1.0/analysis/?feature=alcohol&min=1")

    for chart in ("accuracy-chart", "confusion-chart", "residual-histogram", "residual-scatter"):
        page.locator(f"#{chart} svg.main-svg").first.wait_for()
    assert page.locator("#confusion-chart .heatmaplayer image, #confusion-chart .hm").count() >= 1
    assert page.locator("#accuracy-chart .scatterlayer .trace").count() == 2
    assert page.locator("table.slice-table tbody tr").count() >= 2
    assert page_log.page_errors == []
    assert page_log.console_errors == []


def test_the_slice_picker_swaps_the_table_in_place(
    page: Any, login: Any, cultivar: Any, page_log: Any
) -> None:
    login(page, "alice", PASSWORD)
    page.goto("/feedback/models/cultivar/versions/1.1.0/analysis/?min=1")
    page.locator("#accuracy-chart svg.main-svg").first.wait_for()

    page.get_by_label("Input feature").select_option("hue")
    page.get_by_role("button", name="Show slices").click()

    page.locator("table.slice-table th", has_text="hue").wait_for()
    assert {"low", "high"} <= set(page.locator("table.slice-table td.wrap").all_inner_texts())
    assert "feature=hue" in page.url
    assert page.locator("#accuracy-chart svg.main-svg").count() >= 1  # not reloaded away
    assert page_log.page_errors == [] and page_log.console_errors == []


def test_the_overview_draws_the_trend_and_outcomes_and_links_each_analysis(
    page: Any, login: Any, cultivar: Any, page_log: Any
) -> None:
    login(page, "alice", PASSWORD)

    page.goto("/feedback/models/cultivar/")

    page.locator("#activity-chart svg.main-svg").first.wait_for()
    page.locator("#outcome-chart-0 svg.main-svg").first.wait_for()
    assert page.locator("#outcome-chart-0 .scatterlayer .trace").count() == 2  # one per version
    with page.expect_navigation():
        page.get_by_role("link", name="Error analysis of 1.0.0").click()
    assert page.url.endswith("/feedback/models/cultivar/versions/1.0.0/analysis/?days=30")
    page.locator("#confusion-chart svg.main-svg").first.wait_for()
    assert page_log.page_errors == [] and page_log.console_errors == []


def test_with_data_the_pages_fit_a_phone_and_pass_axe(
    browser: Any, live_server: Any, login: Any, cultivar: Any
) -> None:
    """The accessibility check of test_accessibility, on pages full of charts and tables."""
    from tests.e2e.test_accessibility import PHONE, _axe, _overflow

    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    problems = {}
    try:
        login(page, "alice", PASSWORD)
        for path in (
            "/feedback/models/cultivar/",
            "/feedback/models/cultivar/versions/1.1.0/analysis/?min=1",
        ):
            page.goto(path)
            page.locator("svg.main-svg").first.wait_for()
            problems[path] = _overflow(page) + _axe(page)
    finally:
        context.close()
    assert problems == {path: [] for path in problems}
