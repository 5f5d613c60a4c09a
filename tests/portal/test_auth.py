"""Every page needs a login; the API answers 401; failed logins are throttled."""

import pytest
from django.test import Client

PAGES = ["/", "/account/tokens/", "/models/", "/backlog/", "/api/v1/docs/", "/api/v1/redoc/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(client: Client, path: str) -> None:
    """Pages redirect to login with a next parameter."""
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/schema/"])
def test_the_api_answers_401_to_anonymous_callers(client: Client, path: str) -> None:
    """The API never redirects; it says how to authenticate."""
    response = client.get(path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert b"Authentication credentials were not provided" in response.content


@pytest.mark.django_db
def test_health_endpoints_need_no_login(client: Client) -> None:
    """Probes reach /healthz and /readyz without a session."""
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200


def test_a_person_signs_in_and_out(client: Client, alice: object) -> None:
    """The login form signs in; sign-out is a POST."""
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "pw-alice-123"}, follow=True
    )
    assert response.status_code == 200
    assert b"My work" in response.content
    assert client.get("/accounts/logout/").status_code == 405
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_unknown_user_and_wrong_password_get_the_same_answer(client: Client, alice: object) -> None:
    """The answer never reveals whether the account exists."""
    wrong = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    unknown = client.post("/accounts/login/", {"username": "nobody", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].errors == unknown.context["form"].errors


def test_repeated_failures_are_throttled_even_with_the_right_password(
    client: Client, alice: object, settings: object, caplog: pytest.LogCaptureFixture
) -> None:
    """After the limit, the form refuses before checking the password, and logs it."""
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"})
    assert b"Too many failed sign-ins" in response.content
    assert "_auth_user_id" not in client.session
    assert "failed login for 'alice'" in caplog.text
    # Another account from the same address is not locked out by alice's failures.
    other = client.post("/accounts/login/", {"username": "bob", "password": "nope"})
    assert b"Too many" not in other.content


def test_the_login_page_carries_no_inline_script(client: Client, db: object) -> None:
    """The CSP forbids inline script, and the page needs none."""
    response = client.get("/accounts/login/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert b"<script>" not in response.content


def test_behind_a_proxy_failures_are_counted_per_client(
    client: Client, alice: object, settings: object
) -> None:
    """With the proxy header configured, one client's failures do not lock out another."""
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.HANDOFF_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    attacker = {"HTTP_X_FORWARDED_FOR": "spoofed, 203.0.113.9"}
    for _ in range(2):
        client.post("/accounts/login/", {"username": "alice", "password": "x"}, **attacker)
    blocked = client.post(
        "/accounts/login/", {"username": "alice", "password": "pw-alice-123"}, **attacker
    )
    assert b"Too many failed sign-ins" in blocked.content
    alice_herself = Client().post(
        "/accounts/login/",
        {"username": "alice", "password": "pw-alice-123"},
        HTTP_X_FORWARDED_FOR="198.51.100.4",
    )
    assert alice_herself.status_code == 302


def test_a_session_cookie_with_a_nul_is_no_session_not_a_500(client, db) -> None:
    """A forged session id never reaches the database query (NUL breaks PostgreSQL)."""
    client.cookies["sessionid"] = "hostile\x00session\x00key"

    page = client.get("/models/")
    api = client.get("/api/v1/me/")

    assert page.status_code == 302  # to the login page, as for anyone signed out
    assert api.status_code == 401


def test_a_bearer_header_is_refused_naming_the_right_scheme(alice) -> None:
    """People guess "Bearer"; the 401 says to send "Token <key>"."""
    from portal.services.tokens import create_token

    _, key = create_token(user=alice, name="ci")
    response = Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 401
    assert "Authorization: Token <key>" in response.json()["errors"]["detail"][0]


def test_the_api_docs_keep_a_way_back_and_show_how_to_authenticate(client_for, alice) -> None:
    """Swagger UI under the portal's link home, with a curl line that sends the token."""
    page = client_for(alice).get("/api/v1/docs/").content.decode()

    assert 'href="/"' in page and "Handoff" in page
    assert 'curl -H "Authorization: Token &lt;key&gt;"' in page
    assert 'id="swagger-ui"' in page
