"""Signing in through a real browser: the home page, a wrong password, a clean console."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from portal.roles import Role
from portal.services.accounts import create_team, create_user

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
NAV_LINKS = ("Models", "Experiments", "Backlog", "Feedback", "Releases", "API docs")
PASSWORD = "pw-erin-12345"


@pytest.fixture
def erin() -> Any:
    """An engineer in the Payments team."""
    user = create_user(username="erin", password=PASSWORD, roles=[Role.ENGINEER])
    create_team(name="Payments Platform", members=[user])
    return user


def _external(urls: list[str]) -> list[str]:
    """The URLs among ``urls`` that leave this machine (data: and blob: stay in the page)."""
    return [
        url
        for url in urls
        if urlsplit(url).scheme not in {"data", "blob"}
        and urlsplit(url).hostname not in LOCAL_HOSTS
    ]


def test_it_signs_a_user_in_and_shows_their_home_page(page: Any, login, erin) -> None:
    """After signing in the user sees "My work", their role, their team and every section."""
    login(page, "erin", PASSWORD)

    assert urlsplit(page.url).path == "/"
    assert page.get_by_role("heading", name="My work", level=1).is_visible()
    assert page.locator("header.topbar .whoami .role").all_inner_texts() == ["Engineer"]
    assert (
        "Payments Platform" in page.get_by_role("region", name="My teams", exact=True).inner_text()
    )
    nav = page.get_by_role("navigation", name="Main")
    for label in NAV_LINKS:
        assert nav.get_by_role("link", name=label, exact=True).is_visible(), label


def test_it_makes_no_request_to_another_host(page: Any, page_log: Any, login, erin) -> None:
    """Signing in and loading the home page fetches everything from the portal itself."""
    login(page, "erin", PASSWORD)
    page.wait_for_load_state("networkidle")

    assert page_log.requests, "the page recorded no request at all"
    assert _external(page_log.requests) == []


def test_it_rejects_a_wrong_password_and_stays_on_the_login_page(page: Any, login, erin) -> None:
    """A wrong password shows the error and leaves the user on the login form, signed out."""
    login(page, "erin", "not-the-password")

    assert urlsplit(page.url).path == "/accounts/login/"
    alert = page.get_by_role("alert")
    assert "Please enter a correct username and password" in alert.inner_text()
    assert page.locator("#id_password").is_visible()
    assert page.locator("header.topbar .whoami").count() == 0


def test_it_loads_the_home_page_without_console_errors(
    page: Any, page_log: Any, login, erin
) -> None:
    """The home page logs no console error, no CSP violation and no uncaught exception."""
    login(page, "erin", PASSWORD)
    page.reload()
    page.wait_for_load_state("networkidle")

    assert page_log.console_errors == []
    assert page_log.page_errors == []
