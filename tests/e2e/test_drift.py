"""Drift monitoring in a real browser, on the demo's data: breast-cancer-screening 1.1.0 read
two weeks of screening requests, the last four under a new stain that reads texture coarser.
An engineer of the team follows the trend to the latest report, opens a shifted column's
histograms, and goes on to the drift alert the reports filed and commented on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test.utils import override_settings

from portal.demo import seed
from registry.monitoring.demo import DAYS, MODEL, STAINED, VERSION
from registry.monitoring.models import DriftReport
from tests.e2e.test_accessibility import _axe

pytestmark = pytest.mark.browser

BOB = ("bob", "handoff-bob")  # an Engineer of Risk Modelling, the team the alert went to


@pytest.fixture
def drift_demo(transactional_db: None, tmp_path: Path) -> Iterator[DriftReport]:
    """The whole demo, as ``manage.py seed_demo`` makes it (about 20 s: the drift reports
    need the registry's trained models and the feedback demo's server key): the latest
    report of breast-cancer-screening 1.1.0."""
    with override_settings(MEDIA_ROOT=tmp_path):
        seed()
        reports = DriftReport.objects.filter(version__model__name=MODEL, version__version=VERSION)
        assert reports.count() == DAYS
        yield reports.order_by("-window_end", "-pk").first()


def test_an_engineer_follows_the_stain_shift_from_the_trend_to_the_alert(
    page: Any, page_log: Any, login: Any, drift_demo: DriftReport
) -> None:
    report = drift_demo
    alert = report.alert
    assert alert is not None and set(STAINED) <= set(report.drifted_columns)
    login(page, *BOB)

    # The model page leads to its monitoring, where Plotly draws the drift-share trend.
    page.goto(f"/models/{MODEL}/")
    with page.expect_navigation():
        page.locator(".drift-fact").get_by_role("link", name="Monitoring").click()
    assert page.locator("h1").inner_text() == f"Drift monitoring of {MODEL}"
    page.locator("#share-chart.js-plotly-plot svg.main-svg").first.wait_for()
    assert page.locator("#share-chart .scatterlayer .trace").count() >= 1

    # The version's latest verdict links to the latest report: the shift is caught there.
    latest = page.locator(f"tr[data-version='{VERSION}'] td").nth(1).get_by_role("link")
    assert latest.inner_text() == "Critical column drifted"
    with page.expect_navigation():
        latest.click()
    assert page.url.endswith(report.get_absolute_url())
    assert page.locator("h1").inner_text() == f"Drift report {report.pk} of {MODEL} {VERSION}"

    # The verdict: critical columns drifted, the stained ones, and they raised the alert.
    banner = page.locator("section.verdict-banner")
    assert "critical" in (banner.get_attribute("class") or "").split()
    assert banner.locator("h2").inner_text() == "A critical column drifted"
    share = banner.locator(".verdict-share").inner_text()
    assert f"{len(report.drifted_columns)} of {len(report.columns)} columns drifted" in share
    assert "Critical, so alerting on their own: mean_texture, worst_texture." in share

    # The columns, the most drifted first: the two stained ones on top, critical and drifted.
    rows = page.locator("table.drift-columns tr.column")
    shown = [rows.nth(i).get_attribute("data-column") for i in range(rows.count())]
    scores = {column["name"]: column["score"] for column in report.columns}
    assert sorted(shown) == sorted(scores)
    assert [scores[name] for name in shown] == sorted(scores.values(), reverse=True)
    assert shown[:2] == list(STAINED)
    for name in STAINED:
        row = page.locator(f"tr.column[data-column='{name}']")
        assert "drifted" in (row.get_attribute("class") or "").split()
        assert row.locator(".badge.bad").inner_text() == "yes"
        assert row.locator(".critical-mark").is_visible()

    # A column's histograms load when its row is opened, not before.
    button = page.get_by_role("button", name="Histogram of mean_texture")
    detail_id = button.get_attribute("aria-controls")
    assert detail_id is not None
    chart_id = detail_id.removesuffix("-detail") + "-chart"
    column_url = button.get_attribute("hx-get")
    assert column_url is not None
    assert page.locator(f"#{chart_id}").count() == 0
    assert page.locator(f"#{detail_id}").is_hidden()
    assert not any(url.endswith(column_url) for url in page_log.requests)

    button.click()
    chart = page.locator(f"#{chart_id}.js-plotly-plot")
    chart.locator("svg.main-svg").first.wait_for()
    assert button.get_attribute("aria-expanded") == "true"
    assert page.locator(f"#{detail_id}").is_visible()
    assert chart.evaluate("el => el.data.map(trace => trace.name)") == ["reference", "current"]
    legend = chart.locator(".legend .traces .legendtext")
    assert [legend.nth(i).text_content() for i in range(legend.count())] == [
        "reference",
        "current",
    ]
    assert chart.locator(".barlayer .trace").count() == 2
    assert chart.evaluate("el => el.getBoundingClientRect().width") > 100

    # Closed and opened again, the row keeps its chart and fetches nothing more.
    button.click()
    assert page.locator(f"#{detail_id}").is_hidden()
    button.click()
    assert page.locator(f"#{detail_id}").is_visible()
    assert sum(url.endswith(column_url) for url in page_log.requests) == 1
    assert page.locator(f"#{chart_id}").count() == 1

    assert _axe(page) == []

    # The alert, followed from the report: filed by the first drifted report, commented on
    # by each later one, and linked to all of them and to the version.
    with page.expect_navigation():
        banner.locator(".alert-link").get_by_role("link").click()
    assert page.url.endswith(alert.get_absolute_url())
    head = page.locator("header.item-head")
    assert head.locator("h1").inner_text() == f"#{alert.pk} {alert.title}"
    assert head.locator(".badge", has_text="Drift alert").is_visible()

    # The item is about the version and each report that alerted: the first filed it, each
    # later one left a comment linking to itself.
    about = page.locator("#links")
    version = report.version
    version_link = about.get_by_role("link", name=str(version), exact=True)
    assert version_link.get_attribute("href") == version.get_absolute_url()
    alerted = list(DriftReport.objects.filter(alert=alert).order_by("window_end"))
    assert len(alerted) >= 2 and alerted[-1] == report
    for alerting in alerted:
        assert about.locator("li.link-row", has_text=f"drift report {alerting.pk} of").count() == 1

    comments = page.locator("#comments article.comment")
    assert comments.count() == len(alerted) - 1
    for number, later in enumerate(alerted[1:]):
        comment = comments.nth(number)
        assert comment.locator(".comment-head strong").inner_text() == "Handoff"
        assert comment.locator(".markdown").inner_text().startswith("Still drifting.")
        link = comment.get_by_role("link", name=f"Drift report {later.pk}", exact=True)
        assert link.get_attribute("href") == later.get_absolute_url()

    # Back to the report from the latest comment, as the team would.
    with page.expect_navigation():
        comments.last.get_by_role("link", name=f"Drift report {report.pk}", exact=True).click()
    assert page.url.endswith(report.get_absolute_url())
    alert_link = page.locator("section.verdict-banner .alert-link a")
    assert alert_link.inner_text() == f"#{alert.pk} {alert.title}"

    assert page_log.console_errors == []
    assert page_log.page_errors == []

    # The item's "About" list should link each drift report, as it links the version.
    with page.expect_navigation():
        alert_link.click()
    assert about.locator("li.link-row", has_text=" (gone)").count() == 0
    for alerting in alerted:
        link = about.get_by_role("link", name=f"drift report {alerting.pk} of {version}")
        assert link.get_attribute("href") == alerting.get_absolute_url()
