"""The Markdown pipeline, and the child process that runs it under a budget.

Python-Markdown can recurse until the interpreter gives up on some nested constructs and
takes quadratic time on some runs of characters, so Handoff never runs it in a web or
worker process: ``portal.markdown`` sends each text to a child process running this file,
which it kills when the time budget is spent. This file imports nothing from Django or
Handoff, so the child starts in a fraction of a second; run it with ``python -I`` so that
``import markdown`` finds the library, not ``portal/markdown.py`` next to it.

Protocol: one JSON object per line on stdin (``{"text": …}``), one per line on stdout
(``{"html": …}`` or ``{"error": …}``).
"""

from __future__ import annotations

import json
import sys

import markdown as md
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import TocExtension
from markdown.extensions.toc import slugify as toc_slugify

# Heading ids carry a prefix so user text can never take an id the page itself uses (an
# htmx target, a form field); attr_list stays off for the same reason.
ID_PREFIX = "md-"
EXTENSIONS: list[str | Extension] = ["tables", "fenced_code", "sane_lists", "def_list"]
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
    "s", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead",
    "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "code": {"class"},
    "h1": {"id"}, "h2": {"id"}, "h3": {"id"}, "h4": {"id"}, "h5": {"id"}, "h6": {"id"},
}  # fmt: skip
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
# Frames Python-Markdown may use; deeper input is refused as too deeply nested.
RECURSION_LIMIT = 1_000
MEMORY_LIMIT_BYTES = 1 << 30


def _prefixed_slug(value: str, separator: str) -> str:
    return ID_PREFIX + toc_slugify(value, separator)


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "id" and not value.startswith(ID_PREFIX):
        return None  # raw HTML may not claim ids either
    return value


def clean_html(html: str) -> str:
    """Sanitise HTML against the allowlists: no scripts, handlers, styles or unsafe URLs."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_keep_attribute,
    )


def render_html(text: str) -> str:
    """Markdown → sanitised HTML, unbounded: call it only inside the child process."""
    if not text:
        return ""
    extensions = [*EXTENSIONS, TocExtension(slugify=_prefixed_slug)]
    return clean_html(md.markdown(text, extensions=extensions, output_format="html"))


def _answer(line: str) -> dict[str, str]:
    try:
        return {"html": render_html(json.loads(line)["text"])}
    except RecursionError:
        return {"error": "nests too deeply to display (quotes, lists or brackets)"}
    except MemoryError:
        return {"error": "needs too much memory to display"}


def main() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
    except (ImportError, ValueError, OSError):
        pass  # not every platform lets a process cap its own memory
    sys.setrecursionlimit(RECURSION_LIMIT)
    for line in sys.stdin:
        sys.stdout.write(json.dumps(_answer(line)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
