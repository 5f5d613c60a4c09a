"""Render user-written Markdown to safe HTML.

Python-Markdown passes raw HTML through, so every result is cleaned with nh3 against
the allowlists below after rendering. Nothing else in Handoff turns user text into HTML.
"""

from __future__ import annotations

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.extensions.toc import TocExtension
from markdown.extensions.toc import slugify as toc_slugify

# Heading ids carry a prefix so user text can never take an id the page itself uses (an
# htmx target, a form field); attr_list stays off for the same reason.
ID_PREFIX = "md-"


def _prefixed_slug(value: str, separator: str) -> str:
    return ID_PREFIX + toc_slugify(value, separator)


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


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "id" and not value.startswith(ID_PREFIX):
        return None  # raw HTML may not claim ids either
    return value


def render_markdown(text: str | None) -> SafeString:
    """Markdown → sanitised HTML, safe to place in a template."""
    if not text:
        return mark_safe("")
    extensions = [*EXTENSIONS, TocExtension(slugify=_prefixed_slug)]
    html = md.markdown(text, extensions=extensions, output_format="html")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_keep_attribute,
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 has just cleaned it against the allowlist
