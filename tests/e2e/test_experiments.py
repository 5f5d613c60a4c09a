"""Experiments in a real browser: tick three runs, compare them, see the charts drawn."""

from __future__ import annotations

from typing import Any

import pytest

from portal.roles import Role
from portal.services.accounts import create_team, create_user
from registry.experiments.services.experiments import create_experiment
from registry.experiments.services.runs import create_run, end_run, log_batch

pytestmark = pytest.mark.browser

PASSWORD = "pw-alice-123"


@pytest.fixture
def sweep(transactional_db: None) -> Any:
    """Three finished runs of one experiment: lr 0.1, 0.01, 0.001; the same depth; loss curves."""
    alice = create_user(username="alice", password=PASSWORD, roles=[Role.DATA_SCIENTIST])
    team = create_team(name="Risk Modelling", members=[alice])
    experiment = create_experiment(
        actor=alice, team=team, name="churn-sweep", metric_directions={"loss": "min"}
    )
    for number, lr in enumerate((0.1, 0.01, 0.001)):
        run = create_run(actor=alice, experiment=experiment, name=f"lr={lr}")
        log_batch(
            actor=alice,
            run=run,
            params=[{"key": "lr", "value": lr}, {"key": "depth", "value": 6}],
            metrics=[
                {"key": "loss", "value": 1 / (step + 1) + lr * number, "step": step}
                for step in range(50)
            ],
        )
        end_run(actor=alice, run=run)
    return experiment


def test_ticked_runs_compare_with_charts_and_highlighted_params(
    page: Any, login: Any, sweep: Any, page_log: Any
) -> None:
    # given
    login(page, "alice", PASSWORD)
    page.goto(f"/experiments/{sweep.pk}/")

    # when
    for name in ("lr=0.1", "lr=0.01", "lr=0.001"):
        page.get_by_role("checkbox", name=f"Compare {name}").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Compare ticked runs").click()

    # then
    assert f"/experiments/{sweep.pk}/compare/?runs=" in page.url
    assert page.url.count(",") == 2  # the shareable runs=1,2,3 form
    page.locator("#metric-chart-0 svg.main-svg").first.wait_for()
    page.locator("#parallel-chart svg.main-svg").first.wait_for()
    page.locator("#scatter-chart svg.main-svg").first.wait_for()
    assert page.locator("#metric-chart-0 .scatterlayer .trace").count() == 3
    highlighted = page.locator("table.compare-params td.differs")
    assert highlighted.count() == 3
    assert highlighted.first.evaluate("e => getComputedStyle(e).backgroundColor") not in (
        "rgba(0, 0, 0, 0)",
        "transparent",
    )
    assert "depth" not in page.locator("table.compare-params").inner_text()
    assert page_log.page_errors == []
    assert page_log.console_errors == []


def test_the_experiment_pages_fit_a_phone(
    browser: Any, live_server: Any, login: Any, sweep: Any
) -> None:
    """Wide run tables scroll inside themselves; their hidden screen-reader text stays in."""
    runs = ",".join(str(pk) for pk in sweep.runs.order_by("pk").values_list("pk", flat=True))
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    widths = {}
    try:
        login(page, "alice", PASSWORD)
        for path in (
            "/experiments/",
            f"/experiments/{sweep.pk}/?columns=params.lr,params.depth,metrics.loss",
            f"/experiments/{sweep.pk}/compare/?runs={runs}&params=all",
            f"/experiments/runs/{runs.split(',')[0]}/",
        ):
            page.goto(path)
            widths[path] = page.evaluate("document.documentElement.scrollWidth")
    finally:
        context.close()
    assert set(widths.values()) == {390}, widths
