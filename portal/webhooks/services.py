"""Queue and deliver outbound webhooks. Any app sends one through ``queue_webhook``.

A delivery is a job row: the POST runs on a worker after the caller's transaction commits, and
a receiver that is down, slow or busy (5xx, 429) gets the attempt again, through the job
platform's retries, until the attempts run out. Delivery is at least once: a receiver that
must not act twice keys on ``X-Handoff-Delivery``, which stays the same across attempts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from portal.jobs import JobStatus
from portal.services.audit import record_event
from portal.services.jobs import (
    claim_job,
    enqueue_job,
    fail_job,
    holds_lease,
    mark_finished,
    report_progress,
    reset_job,
    running_job,
)
from portal.webhooks.addresses import AddressRefused, IPAddress, resolve_allowed
from portal.webhooks.models import WebhookDelivery

USER_AGENT = "Handoff-Webhooks"
MAX_URL_CHARS = 500
# Only drained, never stored or shown: a receiver's answer body is not ours to echo.
MAX_RESPONSE_BYTES = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
ANSWER_FIELDS = ["response_status", "response_ms"]
EVENT_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}")


class ReceiverBusy(Exception):
    """The receiver answered 5xx or 429: it may take the same POST on a later attempt."""


class ReceiverTimeout(Exception):
    """No connection or no answer within HANDOFF_WEBHOOK_TIMEOUT_SECONDS."""


class ReceiverUnreachable(Exception):
    """The connection failed (refused, reset, TLS): the receiver may be back later."""


@dataclass(frozen=True)
class Answer:
    status: int
    ms: float

    @property
    def delivered(self) -> bool:
        return 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status == HTTPStatus.TOO_MANY_REQUESTS or self.status >= 500


@dataclass(frozen=True)
class Target:
    """Where a webhook URL points: the parts a connection to a checked address needs."""

    scheme: str
    host: str  # ASCII (IDNA) form, without the brackets of an IPv6 literal
    port: int
    path: str  # with the query; a fragment is never sent

    @classmethod
    def parse(cls, url: str) -> Target:
        """Raises ValueError for a port or host name that cannot be used."""
        parts = urlsplit(url)
        if parts.port == 0:
            raise ValueError("port 0")
        host = (parts.hostname or "").encode("idna").decode("ascii")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme, host, parts.port or DEFAULT_PORTS[parts.scheme], path)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


# Queueing -----------------------------------------------------------------------------


@transaction.atomic
def queue_webhook(*, url: str, event: str, payload: dict[str, Any]) -> WebhookDelivery:
    """Store a delivery of ``event`` to ``url`` and send it once the caller's transaction commits.

    Only the URL's shape is checked here; its addresses are checked at each attempt, because
    the answer DNS gives can change between now and then.
    """
    problem = url_problem(url)
    if problem:
        raise ValidationError({"webhook_url": problem})
    if not EVENT_PATTERN.fullmatch(event):
        raise ValidationError({"event": "Name the event in lower case, e.g. drift.alert."})
    delivery = WebhookDelivery(url=url, event=event, payload=payload)
    reset_job(delivery, actor=None)  # queued, with a delivery lease for beat
    delivery.save()
    enqueue_job(delivery)
    return delivery


def url_problem(url: str) -> str:
    """What is wrong with ``url`` as a webhook URL, said for the person who typed it; or ""."""
    if len(url) > MAX_URL_CHARS:
        return f"Use a URL of at most {MAX_URL_CHARS} characters."
    try:
        parts = urlsplit(url)
    except ValueError:
        return "Enter a valid URL."
    if parts.scheme not in DEFAULT_PORTS:
        return "Use an http:// or https:// URL."
    if "@" in parts.netloc:
        # Credentials in a URL end up in logs and admin pages; receivers check the signature.
        return "Leave the user name and password out of the URL."
    if not parts.hostname:
        return "Enter a URL with a host name."
    try:
        Target.parse(url)
        URLValidator(schemes=list(DEFAULT_PORTS))(url)
    except (ValueError, ValidationError):
        return "Enter a valid URL: check its host name and port."
    return ""


# Delivering ---------------------------------------------------------------------------


def deliver_webhook(*, delivery_id: int) -> WebhookDelivery:
    """The task body: one attempt at the POST; returns the row as it now stands.

    Safe to run twice or next to another run: only the run holding the job's lease records an
    answer, and a final delivery is left as it is.
    """
    run = claim_job(WebhookDelivery, delivery_id)
    if run is not None:
        with running_job(run):
            _attempt(run)
    return WebhookDelivery.objects.get(pk=delivery_id)


def _attempt(run: WebhookDelivery) -> None:
    # Each report renews the lease and is where a cancel stops the run.
    report_progress(run, 10, "Resolving the receiver's address")
    problem = url_problem(run.url)
    if problem:
        fail_job(run, reason=f"The webhook URL cannot be used. {problem}")
        return
    target = Target.parse(run.url)
    try:
        address = resolve_allowed(target.host, target.port)
    except AddressRefused as exc:
        fail_job(run, reason=str(exc))  # no retry: the same address is refused every time
        return
    report_progress(run, 50, f"Sending to {target.host}")
    _settle(run, _post(run, target, address))


def _post(run: WebhookDelivery, target: Target, address: IPAddress) -> Answer:
    """POST the delivery to ``address`` (never looked up again), as ``target.host``."""
    body = _body(run)
    pool = _pool(target, address)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=_headers(run, body, target),
            redirect=False,
            retries=False,
            preload_content=False,
            decode_content=False,
        )
        answer = Answer(response.status, (time.monotonic() - started) * 1000)
        _drain(response)
    except urllib3.exceptions.NewConnectionError as exc:  # urllib3 makes it a TimeoutError too
        raise ReceiverUnreachable(f"{run} could not connect") from exc
    except urllib3.exceptions.TimeoutError as exc:
        raise ReceiverTimeout(f"{run} had no answer in time") from exc
    except urllib3.exceptions.HTTPError as exc:
        raise ReceiverUnreachable(f"{run} could not connect") from exc
    finally:
        pool.close()
    return answer


def _pool(target: Target, address: IPAddress) -> urllib3.HTTPConnectionPool:
    """A one-connection pool to the checked address.

    The Host header carries the host name, and for https so do SNI and the certificate check
    (``server_hostname``): the receiver sees an ordinary request to its name.
    """
    seconds = settings.HANDOFF_WEBHOOK_TIMEOUT_SECONDS
    timeout = urllib3.Timeout(connect=seconds, read=seconds)
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(address),
            target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            server_hostname=target.host,
            cert_reqs="CERT_REQUIRED",
        )
    return urllib3.HTTPConnectionPool(
        str(address), target.port, timeout=timeout, retries=False, maxsize=1
    )


def _drain(response: urllib3.BaseHTTPResponse) -> None:
    """Read (and drop) at most MAX_RESPONSE_BYTES within the timeout, then hang up.

    One receive at a time against a deadline: a receiver trickling an endless body a byte at a
    time holds the worker for one timeout, not one timeout per byte.
    """
    deadline = time.monotonic() + settings.HANDOFF_WEBHOOK_TIMEOUT_SECONDS
    left = MAX_RESPONSE_BYTES
    # The status line has arrived and decides, however the body ends.
    with suppress(urllib3.exceptions.HTTPError):
        while left > 0 and time.monotonic() < deadline:
            chunk = response.read1(left, decode_content=False)
            if not chunk:
                break
            left -= len(chunk)
    response.close()


def _body(run: WebhookDelivery) -> bytes:
    document = {
        "event": run.event,
        "delivery": run.pk,
        "sent_at": timezone.now().isoformat(),
        "payload": run.payload,
    }
    return json.dumps(document, separators=(",", ":")).encode()


def _headers(run: WebhookDelivery, body: bytes, target: Target) -> dict[str, str]:
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Handoff-Event": run.event,
        "X-Handoff-Delivery": str(run.pk),
    }
    secret = settings.HANDOFF_WEBHOOK_SECRET
    if secret:
        headers["X-Handoff-Signature"] = sign(body, secret=secret)
    return headers


def sign(body: bytes, *, secret: str) -> str:
    """The X-Handoff-Signature of ``body``: what a receiver recomputes to trust a delivery."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# Recording the answer -----------------------------------------------------------------


def _settle(run: WebhookDelivery, answer: Answer) -> None:
    """Finish on 2xx; raise on 5xx or 429 so the platform retries; else fail for good."""
    if answer.delivered:
        _finish(run, answer)
        return
    _record_answer(run, answer)
    if answer.retryable:
        raise ReceiverBusy(f"{run} was answered {answer.status}")
    fail_job(run, reason=_rejection(answer.status))


def _finish(run: WebhookDelivery, answer: Answer) -> None:
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=run.pk)
        if not holds_lease(locked, run):
            return  # another run took the job over: its answer is the one
        fields = mark_finished(locked, status=WebhookDelivery.status_of(JobStatus.SUCCEEDED))
        locked.response_status, locked.response_ms = answer.status, answer.ms
        locked.delivered_at, locked.error = locked.finished_at, ""
        locked.save(update_fields=[*fields, *ANSWER_FIELDS, "delivered_at", "error"])
        after = {"status": answer.status, "attempts": locked.attempts}
        record_event(actor=None, verb=locked.audit_verb("delivered"), target=locked, after=after)


def _record_answer(run: WebhookDelivery, answer: Answer) -> None:
    """Keep the receiver's last answer on the row, for an attempt that did not deliver."""
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=run.pk)
        if holds_lease(locked, run):
            locked.response_status, locked.response_ms = answer.status, answer.ms
            locked.save(update_fields=ANSWER_FIELDS)


def _rejection(status: int) -> str:
    """Why a delivery ended on this answer; it names the status and never echoes the body."""
    answered = f"The receiver answered {status} {_phrase(status)}".rstrip()
    if 300 <= status < 400:
        return (
            f"{answered}, a redirect, and webhooks do not follow redirects. "
            "Set the webhook to the URL it redirects to."
        )
    return f"{answered}, so it was not retried. Check the URL, and that it accepts a POST."


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
