"""A production release in a real browser, from the request to the rollback.

churn 1.0.0 runs in production (released through the services); a data scientist requests
1.1.0 from its version page, an engineer approver and a data-scientist approver approve it,
it is marked deployed, rolled back from the model page in one click, and the model's audit
trail (page and CSV) shows each step."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings

from portal.roles import Role
from portal.services.accounts import create_team, create_user
from registry.models import ModelVersion
from registry.releases.models import Environment, ReleaseRequest
from registry.releases.services.approvals import decide
from registry.releases.services.deployments import current_deployment, mark_deployed
from registry.releases.services.environments import ensure_default_environments
from registry.releases.services.requests import request_release
from registry.releases.services.runbooks import save_runbook
from registry.services.model_cards import update_card
from registry.services.models import create_model
from registry.services.versions import create_version, set_version_status
from tests.e2e.conftest import TIMEOUT_MS, PageLog
from tests.e2e.test_accessibility import _axe

pytestmark = pytest.mark.browser

RITA = ("rita", "pw-rita-12345")  # Data scientist of Risk Modelling: requests the release
ENZO = ("enzo", "pw-enzo-12345")  # Approver and Engineer
DORA = ("dora", "pw-dora-12345")  # Approver and Data scientist
CONTRACT = {
    "type": "object",
    "properties": {"age": {"type": "number"}, "income": {"type": "number"}},
    "required": ["age", "income"],
}
# The events one release leaves on the model's audit trail, request to rollback.
RELEASE_VERBS = [
    ("rita", "release.requested"),
    ("enzo", "release.approve"),
    ("dora", "release.approve"),
    ("dora", "release.approved"),
    ("dora", "release.deployed"),
    ("rita", "release.rolled_back"),
]


@dataclass(frozen=True)
class Churn:
    running: ModelVersion  # 1.0.0, in production through its own release
    candidate: ModelVersion  # 1.1.0, ready for production
    production: Environment


def _candidate(actor: Any, model: Any, number: str) -> ModelVersion:
    """A candidate whose card has every required section, so the 75 % rule passes."""
    version = create_version(
        actor=actor, model=model, version=number, input_schema=CONTRACT, output_schema={}
    )
    version = set_version_status(actor=actor, version=version, status="candidate")
    sections = {
        name: f"The {name} of churn {number}." for name in settings.HANDOFF_CARD_REQUIRED_SECTIONS
    }
    update_card(actor=actor, card=version.card, sections=sections)
    return version


@pytest.fixture
def churn(transactional_db: None) -> Churn:
    """churn 1.0.0 requested, approved and deployed to production through the services, and
    1.1.0 a candidate whose production checklist passes (card written, runbook saved)."""
    # The environments come from a data migration; a transactional test's flush removes them.
    ensure_default_environments()
    production = Environment.objects.get(name="production")
    rita = create_user(
        username=RITA[0], password=RITA[1], roles=[Role.DATA_SCIENTIST], email="rita@example.com"
    )
    enzo = create_user(
        username=ENZO[0],
        password=ENZO[1],
        roles=[Role.APPROVER, Role.ENGINEER],
        email="enzo@example.com",
    )
    dora = create_user(
        username=DORA[0],
        password=DORA[1],
        roles=[Role.APPROVER, Role.DATA_SCIENTIST],
        email="dora@example.com",
    )
    team = create_team(name="Risk Modelling", members=[rita, enzo, dora])
    model = create_model(
        actor=rita, name="churn", title="Churn", team=team, task_type="binary_classification"
    )
    save_runbook(actor=rita, model=model, body="Served by `churn-api`; roll back from Handoff.")
    running = _candidate(rita, model, "1.0.0")
    first = request_release(
        actor=rita,
        version=running,
        environment=production,
        justification="The first churn model.",
        rollback_plan="Switch the scoring off.",
    )
    for approver in (enzo, dora):
        decide(actor=approver, release=first, decision="approve", comment="Fine.")
    mark_deployed(actor=rita, release=first)
    candidate = _candidate(rita, model, "1.1.0")
    return Churn(running, candidate, production)


@pytest.fixture
def new_page(browser: Any, live_server: Any, page_log: PageLog) -> Iterator[Callable[[], Any]]:
    """``new_page()``: a page in a context of its own (another person's browser), logging
    console errors and uncaught exceptions into the same ``page_log``."""
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                page_log.console_errors.append(f"{message.text} ({message.location})")
                if message.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: page_log.page_errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


def _state(page: Any) -> str:
    return page.locator(".state-banner .state-line .badge").inner_text()


def test_a_production_release_is_approved_by_both_disciplines_deployed_and_rolled_back(
    page: Any, page_log: PageLog, login: Any, new_page: Callable[[], Any], churn: Churn
) -> None:
    # given: rita, the requester, on the 1.1.0 version page
    login(page, *RITA)
    page.goto("/models/churn/versions/1.1.0/")
    with page.expect_navigation():
        page.get_by_role("link", name="Request a release").click()
    assert page.locator("h1").inner_text() == "Request a release of churn 1.1.0"

    # when: she picks production, the live checklist is redrawn for it, and it passes
    page.select_option("#id_environment", "production")
    checklist = page.locator("#release-checklist")
    checklist.get_by_role("heading", name="Checklist for Production").wait_for()
    assert "1.0.0 runs in Production now: 1.1.0 would replace it." in checklist.inner_text()
    assert checklist.locator("tr.failing").count() == 0
    assert checklist.locator(".badge.ok", has_text="Ready").is_visible()
    page.fill("#id_justification", "Better recall on **new** customers.")
    page.fill("#id_rollback_plan", "Roll back to 1.0.0 from the model page.")
    with page.expect_navigation():
        page.get_by_role("button", name="Request the release").click()

    # then: the release page, waiting, with its checklist, and no decision for the requester
    release = ReleaseRequest.objects.get(version=churn.candidate)
    assert page.url.endswith(release.get_absolute_url())
    assert _state(page) == "Waiting for approval"
    assert page.locator("#checklist-heading").is_visible()
    assert page.locator("table.checklist tr.check-runbook .badge.ok").count() == 2  # then, now
    assert page.locator(".markdown strong", has_text="new").is_visible()
    controls = page.locator("#controls")
    assert "You requested this release" in controls.inner_text()
    assert controls.get_by_role("button", name="Approve").count() == 0
    assert controls.get_by_role("button", name="Reject").count() == 0
    assert page.locator("form.decide-form").count() == 0
    assert _axe(page) == []

    # when: enzo, an Engineer approver, finds it waiting for him and approves it
    enzo = new_page()
    login(enzo, *ENZO)
    panel = enzo.locator("#approvals-waiting")
    assert panel.locator(".badge").inner_text() == "1"
    assert panel.get_by_role("link", name="churn 1.1.0 to Production").is_visible()
    with enzo.expect_navigation():
        enzo.locator("nav").get_by_role("link", name="Releases", exact=True).click()
    table = enzo.locator("#release-table")
    assert table.locator("tbody tr").count() == 2  # 1.0.0's release and this one
    enzo.get_by_label("Waiting for me").check()
    table.locator("p.result-count", has_text="1 release").wait_for()
    assert "waiting_for_me=on" in enzo.url
    with enzo.expect_navigation():
        table.get_by_role("link", name=f"#{release.pk}").click()
    enzo.fill("#id_decide-comment", "Serving side is ready.")
    with enzo.expect_navigation():
        enzo.locator("form.decide-form").get_by_role("button", name="Approve").click()

    # then: one of two, still waiting for a data scientist
    assert _state(enzo) == "Waiting for approval"
    banner = enzo.locator(".state-banner").inner_text()
    assert "1 of 2 approvals; still needed: an approver who is Data scientist." in banner
    approvals = enzo.locator("table.approvals tbody tr")
    assert approvals.count() == 1
    assert "Serving side is ready." in approvals.first.inner_text()
    assert enzo.locator("form.decide-form").count() == 0

    # when: dora, a Data scientist approver, approves it too
    dora = new_page()
    login(dora, *DORA)
    dora.goto(release.get_absolute_url())
    dora.fill("#id_decide-comment", "The card and the evaluation hold up.")
    with dora.expect_navigation():
        dora.locator("form.decide-form").get_by_role("button", name="Approve").click()

    # then: approved, both approvers listed with their roles
    assert _state(dora) == "Approved"
    rows = dora.locator("table.approvals tbody tr")
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(2)] == ["enzo", "dora"]
    assert "Approver, Engineer" in rows.nth(0).inner_text()
    assert "Approver, Data scientist" in rows.nth(1).inner_text()

    # when: dora records the deployment
    dora.fill("#id_deployment-message", "Rolled out by the churn-api pipeline.")
    with dora.expect_navigation():
        dora.locator("form.deployment-form").get_by_role("button", name="Mark deployed").click()
    assert _state(dora) == "Deployed"

    # then: the model page shows 1.1.0 in production
    dora.goto("/models/churn/")
    where = dora.locator("#what-runs-where li", has_text="Production")
    assert where.locator("strong + a").inner_text() == "1.1.0"
    assert where.get_by_role("link", name=f"release {release.pk}").is_visible()

    # when: rita rolls it back from the model page, giving a reason, and confirms
    page.goto("/models/churn/")
    running = page.locator("#what-runs-where li", has_text="Production")
    assert running.locator("strong + a").inner_text() == "1.1.0"
    page.fill("#rollback-reason-production", "Scores drift on the new segment.")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        running.get_by_role("button", name="Roll back").click()

    # then: 1.0.0 runs in production again, and the release says rolled back
    assert page.url.endswith("/models/churn/")
    restored = page.locator("#what-runs-where li", has_text="Production")
    assert restored.locator("strong + a").inner_text() == "1.0.0"
    assert "restored by a rollback" in restored.inner_text()
    now_running = current_deployment(churn.production, churn.running.model)
    assert now_running is not None and now_running.version == churn.running
    page.goto(release.get_absolute_url())
    assert _state(page) == "Rolled back"
    assert "Scores drift on the new segment." in page.locator(".state-banner").inner_text()
    assert _axe(page) == []

    # and: the model's audit trail lists each step of the release, newest first
    with page.expect_navigation():
        page.get_by_role("link", name="Audit trail of churn").click()
    page.fill("#id_verb", "release.")
    with page.expect_navigation():
        page.get_by_role("button", name="Apply").click()
    target = str(release)
    shown = []
    for row in page.locator("table.audit tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        if cells[3] == target:
            shown.append((cells[1], cells[2]))
    assert shown == RELEASE_VERBS[::-1]
    assert _axe(page) == []

    # and: its CSV export has the same rows
    href = page.get_by_role("link", name="Export CSV").get_attribute("href")
    assert href is not None and "verb=release." in href
    response = page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(response.text())))
    exported = [(r["actor"], r["verb"]) for r in lines if r["target"] == target]
    assert exported == RELEASE_VERBS[::-1]

    assert page_log.console_errors == []
    assert page_log.page_errors == []
