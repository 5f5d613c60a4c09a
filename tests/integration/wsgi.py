"""The portal's WSGI application for tests that call it in-process inside a test's transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from portal.wsgi import application


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``portal.wsgi.application``, minus closing the database connection around requests.

    Django's WSGI handler closes "old" connections when a request starts and finishes. Inside
    a test's transaction that closes the test's own connection (PostgreSQL then answers
    "connection is closed"), so, as Django's test client does, the signal is held off while
    the response is produced and closed.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = application(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            getattr(response, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return [body]
