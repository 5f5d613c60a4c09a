"""Browser harness: Playwright (sync API) driving Debian's Chromium against ``live_server``.

Nothing is downloaded: Playwright launches the system Chromium at ``/usr/bin/chromium``.
Every test module here is marked ``browser`` (tests/conftest.py skips it locally, and fails
it under CI, when Chromium is missing).

Playwright's sync API keeps an asyncio event loop running in this thread, and Django then
refuses ORM calls from it (SynchronousOnlyOperation). The tests are synchronous code that
only looks async to Django, so async-unsafe calls are allowed for this process.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import Group

from portal.roles import Role
from tests.conftest import CHROMIUM

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 10_000


@dataclass
class PageLog:
    """What a page did: every request URL, console errors and uncaught exceptions."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(autouse=True)
def _role_groups(transactional_db: None) -> None:
    """The role groups come from a data migration; a transactional test's flush removes them."""
    for role in Role:
        Group.objects.get_or_create(name=str(role))


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Any, live_server: Any, page_log: PageLog) -> Iterator[Any]:
    """A fresh page in its own context, with ``live_server`` as base URL, recording requests.

    Request URLs land in ``page_log.requests``; console messages of type "error" (CSP
    violations among them) in ``page_log.console_errors``; uncaught exceptions in
    ``page_log.page_errors``.
    """
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("request", lambda request: page_log.requests.append(request.url))
    page.on(
        "console",
        lambda message: (
            page_log.console_errors.append(f"{message.text} ({message.location})")
            if message.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda error: page_log.page_errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()


def _login(page: Any, username: str, password: str) -> None:
    """Fill and submit the login form at /accounts/login/, then wait for the next page."""
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


@pytest.fixture
def login() -> Callable[[Any, str, str], None]:
    """``login(page, username, password)``: sign in through the login form."""
    return _login
