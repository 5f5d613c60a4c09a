"""The model registry in a real browser: a viewer searches, reads a model, compares versions."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from portal.roles import Role
from portal.services.accounts import create_team, create_user
from registry.services.models import create_model
from registry.services.versions import create_version

pytestmark = pytest.mark.browser

PASSWORD = "pw-victor-12"
INPUT_V1 = {
    "type": "object",
    "properties": {"amount": {"type": "number", "description": "Amount in EUR"}},
    "required": ["amount"],
}
INPUT_V2 = {
    "type": "object",
    "properties": {
        "amount": {"type": "number", "description": "Amount in EUR"},
        "merchant": {"type": "string", "description": "Merchant id"},
    },
    "required": ["amount", "merchant"],
}
OUTPUT = {"type": "object", "properties": {"score": {"type": "number"}}}


@pytest.fixture
def registry_data(transactional_db: None) -> None:
    """fraud-score 1.0.0 → 2.0.0 adds a required input; churn-risk is there to be filtered out."""
    alice = create_user(username="alice", password="pw-alice-123", roles=[Role.DATA_SCIENTIST])
    team = create_team(name="Risk Modelling", members=[alice])
    create_user(username="victor", password=PASSWORD, roles=[Role.VIEWER])
    fraud = create_model(
        actor=alice, name="fraud-score", title="Fraud score", team=team, tags=["payments"]
    )
    create_version(
        actor=alice, model=fraud, version="1.0.0", input_schema=INPUT_V1, output_schema=OUTPUT
    )
    create_version(
        actor=alice, model=fraud, version="2.0.0", input_schema=INPUT_V2, output_schema=OUTPUT
    )
    churn = create_model(actor=alice, name="churn-risk", title="Churn risk", team=team)
    create_version(actor=alice, model=churn, version="0.1.0")


def test_a_viewer_searches_opens_a_model_switches_version_and_compares(
    page: Any, page_log: Any, login: Any, registry_data: None
) -> None:
    """Search narrows the table in place, the switcher navigates, compare flags the break."""
    login(page, "victor", PASSWORD)

    # Search: htmx swaps the table and pushes the filtered URL.
    page.goto("/models/")
    table = page.locator("#model-table")
    assert table.get_by_role("link", name="Churn risk").is_visible()
    page.get_by_role("searchbox", name="Search").fill("fraud")
    page.wait_for_url(re.compile(r"/models/\?.*q=fraud"))
    table.get_by_role("link", name="Churn risk").wait_for(state="detached")
    assert page.locator("#model-table .result-count").inner_text() == "1 model"

    # Open the model: the latest version is selected.
    with page.expect_navigation():
        table.get_by_role("link", name="Fraud score").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Fraud score")
    assert page.locator("#version-select").input_value() == "2.0.0"
    # Waits for the row: count() alone reads the page as it stands, mid-load on a busy host.
    expect(page.locator("table.contract-changes tr.breaking")).to_have_count(1)

    # Choosing in the list does not navigate (arrow keys stay on the page); the button does.
    page.select_option("#version-select", "1.0.0")
    assert "/versions/1.0.0/" not in page.url
    with page.expect_navigation():
        page.get_by_role("button", name="Show version").click()
    assert page.url.endswith("/models/fraud-score/versions/1.0.0/#version-bar")
    assert page.locator("#version-select").input_value() == "1.0.0"
    assert "merchant" not in page.locator("section.contract").inner_text()

    # Compare 1.0.0 → 2.0.0: the new required field is a highlighted breaking change.
    with page.expect_navigation():
        page.get_by_role("link", name="Compare versions").click()
    assert "/models/fraud-score/compare/" in page.url
    row = page.locator("table.contract-changes tr.breaking")
    expect(row).to_have_count(1)
    assert "/merchant" in row.inner_text() and "became required" in row.inner_text()
    assert row.locator(".badge.bad").inner_text() == "breaking"
    assert page.locator(".compare-summary .badge.bad").inner_text() == "1 breaking change"
    background = row.locator("td").first.evaluate("td => getComputedStyle(td).backgroundColor")
    assert background == "rgb(253, 232, 230)"  # --bad-soft

    assert page_log.console_errors == []
    assert page_log.page_errors == []
