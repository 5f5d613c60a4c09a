"""Render user-written Markdown to safe HTML, once, when it is saved.

Every Markdown field in Handoff goes through ``render_fields``: each text is rendered in a
child process (``portal.markdown_worker``) within a time budget and a recursion and memory
cap, and sanitised with nh3 there. Services store the HTML next to the text and pages show
the stored HTML, so a reader's request never runs the renderer. A text that cannot be
rendered within the budget is refused with a ValidationError naming its field.

One child serves a process; it is started on first use (again after a fork, or after it
was killed for running over budget) and talks over pipes, one JSON line per text.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.safestring import SafeString, mark_safe

WORKER = Path(__file__).with_name("markdown_worker.py")
MAX_MARKDOWN_CHARS = 50_000


class MarkdownRefused(ValueError):
    """The text cannot be rendered within the budget; the message says why."""


class _Child:
    """One renderer process with a line protocol and a deadline per answer."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - our own script, no shell
            [sys.executable, "-I", str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.pid_of_parent = os.getpid()
        self.buffer = b""

    def alive(self) -> bool:
        return self.pid_of_parent == os.getpid() and self.process.poll() is None

    def ask(self, text: str, seconds: float) -> dict[str, str]:
        assert self.process.stdin is not None and self.process.stdout is not None
        line = json.dumps({"text": text}).encode() + b"\n"
        self.process.stdin.write(line)
        self.process.stdin.flush()
        deadline = time.monotonic() + seconds
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(timeout=left):
                    raise TimeoutError
                chunk = os.read(self.process.stdout.fileno(), 1 << 16)
                if not chunk:
                    raise EOFError
                self.buffer += chunk
        answer, _, self.buffer = self.buffer.partition(b"\n")
        return json.loads(answer)  # type: ignore[no-any-return]

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


_lock = threading.Lock()
_child: _Child | None = None


def _budget() -> float:
    return float(settings.HANDOFF_MARKDOWN_RENDER_SECONDS)


def render(text: str) -> str:
    """Sanitised HTML of ``text``, or MarkdownRefused when it cannot be rendered in budget."""
    global _child
    if not text:
        return ""
    if len(text) > MAX_MARKDOWN_CHARS:
        raise MarkdownRefused(f"is longer than {MAX_MARKDOWN_CHARS:,} characters")
    budget = _budget()
    with _lock:
        if _child is None or not _child.alive():
            _child = _Child()
        try:
            answer = _child.ask(text, budget)
        except (TimeoutError, EOFError, OSError, ValueError) as exc:
            _child.kill()
            _child = None
            if isinstance(exc, TimeoutError):
                raise MarkdownRefused(
                    f"takes longer than {budget:g} seconds to display; long runs of the "
                    "same punctuation or deeply nested quotes and lists are the usual cause"
                ) from exc
            raise MarkdownRefused("could not be displayed") from exc
    if "error" in answer:
        raise MarkdownRefused(answer["error"])
    return answer["html"]


def render_fields(texts: dict[str, str]) -> dict[str, str]:
    """HTML of each named text; a ValidationError names every field that was refused."""
    html: dict[str, str] = {}
    errors: dict[str, str] = {}
    for field, text in texts.items():
        try:
            html[field] = render(text)
        except MarkdownRefused as exc:
            errors[field] = f"This text {exc}."
    if errors:
        raise ValidationError(errors)
    return html


def stored_html(html: str) -> SafeString:
    """HTML that ``render`` produced and a service stored, marked safe for templates."""
    return mark_safe(html)  # noqa: S308 - sanitised by nh3 in render() before it was stored
