"""The feedback widget on a product page of another origin: a key that lists the page's
origin lets it post feedback; the same page on an origin the key does not list cannot.

The browser's CORS preflight (an OPTIONS request, which carries no key) is answered by the
server for origins a feedback key lists. To prove the server also refuses the POST itself
from an unlisted origin, one test lets Playwright answer the preflight
(``answer_preflights``), so the POST reaches the server whatever the preflight said.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from feedback.models import Feedback, FeedbackKind, FeedbackSource, Scope
from feedback.services.access import Caller
from feedback.services.keys import create_key
from feedback.services.predictions import log_predictions
from portal.backlog.models import BacklogItem
from portal.roles import Role
from portal.services.accounts import create_team, create_user
from registry.choices import TaskType
from registry.services.models import create_model
from registry.services.versions import create_version

pytestmark = pytest.mark.browser

PRODUCT_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Your plan</title></head>
<body><main><h1>Your plan</h1><p>We suggest: stay on basic.</p>
<script src="{handoff}/static/js/feedback-widget.js" data-prediction-id="p-1" data-model="scorer"
        data-key="{key}" data-endpoint="{handoff}/api/v1/feedback" defer></script>
</main></body></html>"""


class ProductSite:
    """A page of a product, served from its own origin on 127.0.0.1 (another port than the
    portal's): whatever ``html`` holds when the browser asks."""

    def __init__(self) -> None:
        site = self
        self.html = ""

        class Page(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = site.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# The widget has an answer: thanks or an error, no longer "Sending…".
SETTLED = (
    "() => { const s = document.querySelector('.hf-status');"
    " return s && s.textContent && !s.textContent.startsWith('Sending'); }"
)


@pytest.fixture
def product_site() -> Iterator[Callable[[], ProductSite]]:
    """``product_site()``: a new origin serving a product page, closed after the test."""
    sites: list[ProductSite] = []

    def make() -> ProductSite:
        sites.append(ProductSite())
        return sites[-1]

    try:
        yield make
    finally:
        for site in sites:
            site.close()


@pytest.fixture
def scorer(transactional_db: None) -> Any:
    """A classifier with one logged prediction, p-1: "stay"."""
    alice = create_user(username="alice", password="pw-alice-123", roles=[Role.DATA_SCIENTIST])
    team = create_team(name="Risk Modelling", members=[alice])
    model = create_model(
        actor=alice,
        name="scorer",
        title="Scorer",
        team=team,
        task_type=TaskType.BINARY_CLASSIFICATION,
    )
    create_version(actor=alice, model=model, version="1.0.0")
    now = timezone.now()
    log_predictions(
        caller=Caller(person=alice),
        records=[
            {
                "model": "scorer",
                "prediction_id": "p-1",
                "version": "1.0.0",
                "timestamp": (now - timedelta(minutes=1)).isoformat(),
                "features": {"plan": "basic"},
                "output": {"label": "stay"},
            }
        ],
        now=now,
    )
    return model


def answer_preflights(page: Any, live_server: Any) -> None:
    """Routed requests get their CORS preflight answered by Playwright, not the server."""
    page.route(f"{live_server.url}/api/v1/feedback", lambda route: route.continue_())


def browser_key(model: Any, origin: str) -> tuple[Any, str]:
    return create_key(
        actor=model.created_by,
        team=model.team,
        name="shop",
        scopes=[Scope.FEEDBACK],
        model=model,
        allowed_origins=[origin],
    )


def test_a_product_page_on_a_listed_origin_sends_a_thumb_down_and_a_correction(
    page: Any, live_server: Any, product_site: Any, scorer: Any, page_log: Any
) -> None:
    # given: a product page of another origin, and a key listing that origin
    shop = product_site()
    key, secret = browser_key(scorer, shop.origin)
    shop.html = PRODUCT_PAGE.format(handoff=live_server.url, key=secret)
    page.goto(shop.origin)

    # when: the keyboard presses thumbs down, then a correction is typed and sent
    down = page.get_by_role("button", name="No, it was wrong")
    down.wait_for()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "No, it was wrong"
    )
    page.keyboard.press("Enter")
    status = page.get_by_role("status")
    status.get_by_text("Thank you for your feedback").wait_for()
    page.get_by_label("The right answer (optional)").fill("churn")
    page.get_by_label("Comment (optional)").fill("I left last week")
    page.get_by_role("button", name="Send").click()
    status.get_by_text("your correction was sent").wait_for()

    # then
    assert down.get_attribute("aria-pressed") == "true"
    stored = {f.kind: f for f in Feedback.objects.filter(prediction_id="p-1")}
    assert set(stored) == {FeedbackKind.THUMBS, FeedbackKind.LABEL, FeedbackKind.COMMENT}
    assert stored[FeedbackKind.THUMBS].score == 0.0
    assert stored[FeedbackKind.LABEL].label == "churn"
    assert stored[FeedbackKind.COMMENT].comment == "I left last week"
    assert {f.source for f in stored.values()} == {FeedbackSource.WIDGET}
    assert {f.api_key_id for f in stored.values()} == {key.pk}
    assert all(f.prediction_key_id is not None for f in stored.values())
    assert page_log.page_errors == []
    assert page_log.console_errors == []


@pytest.mark.parametrize("preflight", ["server", "playwright"])
def test_the_same_page_on_an_origin_the_key_does_not_list_cannot_post(
    page: Any, live_server: Any, product_site: Any, scorer: Any, preflight: str
) -> None:
    # given: the key lists another origin than the one serving the page
    shop, elsewhere = product_site(), product_site()
    _, secret = browser_key(scorer, shop.origin)
    elsewhere.html = PRODUCT_PAGE.format(handoff=live_server.url, key=secret)
    if preflight == "playwright":  # the POST itself reaches the server, and is refused there
        answer_preflights(page, live_server)
    page.goto(elsewhere.origin)

    # when
    down = page.get_by_role("button", name="No, it was wrong")
    down.click()

    # then: the browser refuses the answer, the widget says so, and nothing is stored
    error = page.locator(".hf-status.hf-error")
    error.wait_for()
    assert "could not be sent" in error.inner_text()
    assert down.get_attribute("aria-pressed") == "false"
    assert page.locator(".hf-details").is_hidden()
    assert Feedback.objects.count() == 0


def test_a_real_preflight_from_a_listed_origin_is_let_through(
    page: Any, live_server: Any, product_site: Any, scorer: Any
) -> None:
    shop = product_site()
    _, secret = browser_key(scorer, shop.origin)
    shop.html = PRODUCT_PAGE.format(handoff=live_server.url, key=secret)
    page.goto(shop.origin)

    page.get_by_role("button", name="Yes, it was right").click()

    page.wait_for_function(SETTLED)
    assert page.locator(".hf-status").inner_text().startswith("Thank you")
    assert Feedback.objects.filter(source=FeedbackSource.WIDGET).count() == 1


def test_widget_feedback_reaches_the_inbox_and_triage_files_a_backlog_item(
    page: Any, live_server: Any, product_site: Any, scorer: Any, login: Any
) -> None:
    # given: an end user's thumbs down from the product page
    shop = product_site()
    _, secret = browser_key(scorer, shop.origin)
    shop.html = PRODUCT_PAGE.format(handoff=live_server.url, key=secret)
    page.goto(shop.origin)
    page.get_by_role("button", name="No, it was wrong").click()
    page.wait_for_function(SETTLED)

    # when: a team member opens the inbox, ticks it and files a backlog item
    login(page, "alice", "pw-alice-123")
    page.goto("/feedback/?model=scorer")
    row = page.locator("tr", has=page.locator("input[name=feedback]"))
    assert row.count() == 1 and "p-1" in row.inner_text()
    row.locator("input[name=feedback]").check()
    with page.expect_navigation():
        page.get_by_role("button", name="File a backlog item").click()

    # then: the item page links the feedback and its prediction
    assert "/backlog/items/" in page.url
    item = BacklogItem.objects.get()
    linked = {link.target_type.model for link in item.links.select_related("target_type")}
    assert linked == {"feedback", "predictionkey"}
    assert page.get_by_text("filed about 1 piece of feedback").is_visible()
