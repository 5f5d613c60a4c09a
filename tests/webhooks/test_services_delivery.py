"""Delivering a webhook to a real HTTP server in a thread: what it receives, how answers end
the job (delivered, retried, failed), and the addresses it refuses to reach."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import urllib3

from portal.jobs import JobStatus
from portal.models import AuditEvent
from portal.services.jobs import requeue_stale_jobs
from portal.webhooks.models import WebhookDelivery
from portal.webhooks.services import ReceiverTimeout, deliver_webhook, queue_webhook

PAYLOAD = {"model": "churn-risk", "version": "1.2.0", "drifted": ["age", "income"]}
# Every answer carries this: no error people read may echo what a receiver said.
ANSWER_BODY = b"receiver internals: SECRET-ANSWER-TEXT"


# A receiving server -------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: Any  # email.message.Message: case-insensitive
    body: bytes


@dataclass
class Receiver:
    """Records each request, and answers from ``answers`` (then 200) after ``delay`` seconds."""

    host: str
    port: int = 0
    requests: list[Received] = field(default_factory=list)
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0
    trickle: bool = False  # answer 200 with a body that never ends
    server_names: list[str | None] = field(default_factory=list)  # SNI, for TLS
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/hook", host: str = "", scheme: str = "http") -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{scheme}://{name}:{self.port}{path}"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        receiver.requests.append(Received(self.command, self.path, self.headers, body))
        if receiver.delay:
            receiver.release.wait(receiver.delay)
        status, headers = receiver.answers.pop(0) if receiver.answers else (200, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if receiver.trickle:
            self._trickle()
            return
        self.send_header("Content-Length", str(len(ANSWER_BODY)))
        self.end_headers()
        self.wfile.write(ANSWER_BODY)

    def _trickle(self) -> None:
        """Promise a megabyte, then send a byte every 0.1 s for 4 s (or until the test ends)."""
        self.send_header("Content-Length", str(2**20))
        self.end_headers()
        stop = time.monotonic() + 4
        while not self.server.receiver.release.wait(0.1) and time.monotonic() < stop:
            self.wfile.write(b"x")
            self.wfile.flush()

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: Receiver) -> None:
        self.address_family = socket.AF_INET6 if ":" in receiver.host else socket.AF_INET
        super().__init__((receiver.host, 0), _Handler)
        self.receiver = receiver


@contextmanager
def running_receiver(
    host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
) -> Iterator[Receiver]:
    receiver = Receiver(host=host)
    server = _Server(receiver)
    if tls is not None:
        tls.sni_callback = lambda sock, name, context: receiver.server_names.append(name)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1, which only a portal allowing private addresses may reach."""
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = True
    with running_receiver() as server:
        yield server


@pytest.fixture
def send(db: None, django_capture_on_commit_callbacks: Any) -> Callable[..., WebhookDelivery]:
    """``send(url)``: queue a delivery, run its task (eagerly, as the commit would), reload it."""

    def queue_and_run(url: str, event: str = "drift.alert") -> WebhookDelivery:
        with django_capture_on_commit_callbacks(execute=True):
            delivery = queue_webhook(url=url, event=event, payload=PAYLOAD)
        delivery.refresh_from_db()
        return delivery

    return queue_and_run


def retry_due(capture: Any) -> int:
    """What beat does every minute: send again each job given back for another attempt."""
    with capture(execute=True):
        return requeue_stale_jobs()


# Delivered ----------------------------------------------------------------------------


def test_the_receiver_gets_the_event_as_signed_json(
    receiver: Receiver, send: Any, settings: Any
) -> None:
    """Body, headers and an HMAC-SHA256 signature of the exact bytes sent."""
    settings.HANDOFF_WEBHOOK_SECRET = "shared-secret"

    delivery = send(receiver.url("/hooks/drift?team=risk"))

    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks/drift?team=risk")
    document = json.loads(request.body)
    assert set(document) == {"event", "delivery", "sent_at", "payload"}
    assert (document["event"], document["delivery"]) == ("drift.alert", delivery.pk)
    assert document["payload"] == PAYLOAD
    assert datetime.fromisoformat(document["sent_at"]).tzinfo is not None
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == "Handoff-Webhooks"
    assert request.headers["X-Handoff-Event"] == "drift.alert"
    assert request.headers["X-Handoff-Delivery"] == str(delivery.pk)
    assert request.headers["Host"] == f"127.0.0.1:{receiver.port}"
    expected = hmac.new(b"shared-secret", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Handoff-Signature"] == f"sha256={expected}"


def test_a_2xx_answer_finishes_the_delivery_with_the_answer_recorded(
    receiver: Receiver, send: Any
) -> None:
    receiver.answers = [(202, {})]

    delivery = send(receiver.url())

    assert delivery.phase == JobStatus.SUCCEEDED
    assert (delivery.attempts, delivery.response_status, delivery.error) == (1, 202, "")
    assert delivery.response_ms is not None and delivery.response_ms >= 0
    assert delivery.delivered_at is not None
    assert AuditEvent.objects.filter(verb="webhook.delivered", target_id=str(delivery.pk)).exists()


def test_without_a_secret_no_signature_is_sent(
    receiver: Receiver, send: Any, settings: Any
) -> None:
    settings.HANDOFF_WEBHOOK_SECRET = ""

    send(receiver.url())

    assert "X-Handoff-Signature" not in receiver.requests[0].headers


# Retried ------------------------------------------------------------------------------


def test_a_5xx_answer_is_retried_and_the_next_attempt_delivers(
    receiver: Receiver, send: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The job is given back; beat sends it again, and the second POST is delivered."""
    receiver.answers = [(503, {})]

    delivery = send(receiver.url())

    assert delivery.phase == JobStatus.QUEUED
    assert (delivery.attempts, delivery.response_status) == (1, 503)
    assert "will be retried" in delivery.error
    assert delivery.delivered_at is None

    assert retry_due(django_capture_on_commit_callbacks) == 1

    delivery.refresh_from_db()
    assert delivery.phase == JobStatus.SUCCEEDED
    assert (delivery.attempts, delivery.response_status, delivery.error) == (2, 200, "")
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body != receiver.requests[1].body  # a fresh sent_at
    assert receiver.requests[1].headers["X-Handoff-Delivery"] == str(delivery.pk)


def test_a_429_answer_is_retried(receiver: Receiver, send: Any) -> None:
    receiver.answers = [(429, {"Retry-After": "30"})]

    delivery = send(receiver.url())

    assert (delivery.phase, delivery.attempts, delivery.response_status) == (
        JobStatus.QUEUED,
        1,
        429,
    )


def test_a_receiver_that_keeps_failing_ends_failed_once_the_attempts_are_used(
    receiver: Receiver, send: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The platform's limit applies, and the error says what to check, not what it answered."""
    settings.HANDOFF_JOB_MAX_ATTEMPTS = 2
    receiver.answers = [(500, {}), (502, {})]

    delivery = send(receiver.url())
    retry_due(django_capture_on_commit_callbacks)

    delivery.refresh_from_db()
    assert (delivery.phase, delivery.attempts, delivery.response_status) == (
        JobStatus.FAILED,
        2,
        502,
    )
    assert delivery.error.startswith("Gave up after 2 attempts while delivering a webhook")
    assert "accepts a POST" in delivery.error
    assert "SECRET-ANSWER-TEXT" not in delivery.error
    assert retry_due(django_capture_on_commit_callbacks) == 0
    assert len(receiver.requests) == 2


def test_a_receiver_slower_than_the_timeout_is_not_waited_for_and_is_retried(
    db: None, receiver: Receiver, settings: Any
) -> None:
    """The read timeout applies: the worker moves on after 1 s, not when the receiver answers."""
    settings.HANDOFF_WEBHOOK_TIMEOUT_SECONDS = 1
    receiver.delay = 5
    delivery = queue_webhook(url=receiver.url(), event="drift.alert", payload=PAYLOAD)

    started = time.monotonic()
    with pytest.raises(ReceiverTimeout):
        deliver_webhook(delivery_id=delivery.pk)
    elapsed = time.monotonic() - started

    assert 0.9 <= elapsed < 3
    delivery.refresh_from_db()
    assert (delivery.phase, delivery.attempts, delivery.delivered_at) == (
        JobStatus.QUEUED,
        1,
        None,
    )
    assert "ReceiverTimeout" in delivery.error and "will be retried" in delivery.error
    assert len(receiver.requests) == 1


def test_an_answer_whose_body_never_ends_is_read_for_one_timeout_at_most(
    receiver: Receiver, send: Any, settings: Any
) -> None:
    """The status decides; the body is drained against a deadline, not byte by byte."""
    settings.HANDOFF_WEBHOOK_TIMEOUT_SECONDS = 1
    receiver.trickle = True

    started = time.monotonic()
    delivery = send(receiver.url())

    assert time.monotonic() - started < 3
    assert (delivery.phase, delivery.response_status) == (JobStatus.SUCCEEDED, 200)


def test_a_receiver_that_refuses_connections_is_retried(send: Any, settings: Any) -> None:
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = True
    with running_receiver() as gone:
        url = gone.url()
    # The server is closed: its port now refuses connections.

    delivery = send(url)

    assert (delivery.phase, delivery.attempts) == (JobStatus.QUEUED, 1)
    assert "ReceiverUnreachable" in delivery.error


# Failed without a retry ---------------------------------------------------------------


def test_a_4xx_answer_fails_at_once_naming_the_status(
    receiver: Receiver, send: Any, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.answers = [(404, {})]

    delivery = send(receiver.url())

    assert (delivery.phase, delivery.attempts, delivery.response_status) == (
        JobStatus.FAILED,
        1,
        404,
    )
    assert "404 Not Found" in delivery.error
    assert "SECRET-ANSWER-TEXT" not in delivery.error
    assert retry_due(django_capture_on_commit_callbacks) == 0
    assert len(receiver.requests) == 1
    assert AuditEvent.objects.filter(verb="webhook.failed", target_id=str(delivery.pk)).exists()


def test_a_redirect_is_not_followed(receiver: Receiver, send: Any) -> None:
    """Following it would let a public receiver send the POST on to an internal address."""
    receiver.answers = [(302, {"Location": receiver.url("/elsewhere")})]

    delivery = send(receiver.url("/hook"))

    assert [request.path for request in receiver.requests] == ["/hook"]
    assert (delivery.phase, delivery.response_status) == (JobStatus.FAILED, 302)
    assert "302" in delivery.error and "redirect" in delivery.error
    assert delivery.delivered_at is None


# Refused addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("localhost", "loopback"),  # a host name that resolves to loopback
        ("[::ffff:127.0.0.1]", "loopback"),  # the same interface, written as IPv6
        ("10.20.30.40", "private"),
        ("169.254.169.254", "link-local"),
    ],
)
def test_it_refuses_to_reach_internal_addresses(
    receiver: Receiver, send: Any, settings: Any, host: str, kind: str
) -> None:
    """No connection is made: the job fails with the reason, and nothing reaches the server."""
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = False

    with mock.patch.object(urllib3.HTTPConnectionPool, "urlopen") as urlopen:
        delivery = send(receiver.url(host=host))

    assert urlopen.call_count == 0
    assert receiver.requests == []
    assert (delivery.phase, delivery.attempts) == (JobStatus.FAILED, 1)
    assert f"a {kind} address" in delivery.error
    assert "HANDOFF_WEBHOOK_ALLOW_PRIVATE" in delivery.error


def test_it_refuses_ipv6_loopback(send: Any, settings: Any) -> None:
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = False
    with running_receiver("::1") as receiver:
        delivery = send(receiver.url())

        assert receiver.requests == []
    assert delivery.phase == JobStatus.FAILED
    assert "a loopback address" in delivery.error


def test_the_guard_is_what_stops_it(send: Any, settings: Any) -> None:
    """The same IPv6 loopback receiver is reached once private addresses are allowed."""
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = True
    with running_receiver("::1") as receiver:
        delivery = send(receiver.url())

        assert len(receiver.requests) == 1
    assert delivery.phase == JobStatus.SUCCEEDED


# The address checked is the address connected to --------------------------------------


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names mapped to addresses, each answered once: a second lookup fails the test.

    Records every name looked up in ``dns["looked up"]``; addresses pass to the real resolver.
    """
    real = socket.getaddrinfo
    names: dict[str, list[str]] = {"looked up": []}

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            assert host not in names["looked up"], f"{host} was looked up twice"
            names["looked up"].append(host)
            return [info for ip in names[host] for info in real(ip, port, *args, **kwargs)]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


def test_it_connects_to_the_address_it_checked_with_the_name_in_the_host_header(
    receiver: Receiver, send: Any, dns: dict[str, list[str]]
) -> None:
    """One lookup, then a connection to its answer: a rebinding DNS gets no second say."""
    dns["receiver.test"] = ["127.0.0.1"]

    delivery = send(receiver.url(host="receiver.test"))

    assert dns["looked up"] == ["receiver.test"]
    assert delivery.phase == JobStatus.SUCCEEDED
    assert receiver.requests[0].headers["Host"] == f"receiver.test:{receiver.port}"


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A self-signed certificate for receiver.test, trusted as if a CA had signed it."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=receiver.test",
            "-addext",
            "subjectAltName=DNS:receiver.test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what OpenSSL's default trust store reads
    return cert, key


@pytest.fixture
def tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def test_https_sends_the_name_for_sni_and_checks_the_certificate_against_it(
    send: Any, settings: Any, dns: dict[str, list[str]], tls: ssl.SSLContext
) -> None:
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = True
    dns["receiver.test"] = ["127.0.0.1"]
    with running_receiver(tls=tls) as receiver:
        delivery = send(receiver.url(host="receiver.test", scheme="https"))

        assert receiver.server_names == ["receiver.test"]
        assert receiver.requests[0].headers["Host"] == f"receiver.test:{receiver.port}"
    assert delivery.phase == JobStatus.SUCCEEDED


def test_https_refuses_a_certificate_for_another_name(
    send: Any, settings: Any, dns: dict[str, list[str]], tls: ssl.SSLContext
) -> None:
    """The certificate is checked against the URL's host, not skipped for the IP connected to."""
    settings.HANDOFF_WEBHOOK_ALLOW_PRIVATE = True
    dns["impostor.test"] = ["127.0.0.1"]
    with running_receiver(tls=tls) as receiver:
        delivery = send(receiver.url(host="impostor.test", scheme="https"))

        assert receiver.requests == []
    assert (delivery.phase, delivery.delivered_at) == (JobStatus.QUEUED, None)
    assert "ReceiverUnreachable" in delivery.error
