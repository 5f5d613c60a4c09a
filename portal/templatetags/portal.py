from datetime import datetime
from functools import cache
from typing import Any

from django import template
from django.contrib import messages
from django.template.defaultfilters import timesince_filter
from django.utils import dateformat
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in stubs

from portal.plots import plotly_embed
from portal.textdiff import DiffLines

register = template.Library()


@register.simple_tag
def plotly(figure: Any, element_id: str, height: int = 360) -> SafeString:
    return plotly_embed(figure, element_id, height=height)


@register.inclusion_tag("portal/partials/messages.html", takes_context=True)
def page_messages(context: template.Context) -> dict[str, Any]:
    """The page's messages: refusals as an error summary (it takes focus), the rest as notes."""
    shown = list(context.get("messages") or [])
    return {
        "refusals": [message for message in shown if message.level == messages.ERROR],
        "notes": [message for message in shown if message.level != messages.ERROR],
    }


# <time> elements: one tag instead of a ``date`` filter per attribute, as tables and activity
# lists show one per row.


@register.simple_tag
def timestamp(value: datetime | None, shown: str = "Y-m-d H:i", title: str = "") -> SafeString:
    """``value`` as ISO 8601 for machines and in the date format ``shown`` for people; with
    ``title``, also in that format on hover."""
    local = template_localtime(value)
    if title:
        return format_html(
            '<time datetime="{}" title="{}">{}</time>',
            _format(local, "c"),
            _format(local, title),
            _format(local, shown),
        )
    return format_html('<time datetime="{}">{}</time>', _format(local, "c"), _format(local, shown))


@register.simple_tag
def time_ago(value: datetime | None) -> SafeString:
    """How long ago ``value`` was ("3 days ago"), the date and time on hover."""
    local = template_localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{} ago</time>',
        _format(local, "c"),
        _format(local, "Y-m-d H:i"),
        timesince_filter(value),
    )


# Date format characters that are zero-padded numbers: the datetime attribute and the width.
NUMBERS = {
    "Y": ("year", 4),
    "m": ("month", 2),
    "d": ("day", 2),
    "H": ("hour", 2),
    "i": ("minute", 2),
    "s": ("second", 2),
}


def _format(value: datetime | None, format_string: str) -> str:
    """What the ``date`` filter gives, without its locale lookups: "c" and formats of padded
    numbers ("Y-m-d H:i") directly, as ``dateformat`` takes some 30 µs for them."""
    if not value:
        return ""
    if format_string == "c":
        return value.isoformat()
    if not _numbers_only(format_string):
        return dateformat.format(value, format_string)
    return "".join(
        f"{getattr(value, NUMBERS[char][0]):0{NUMBERS[char][1]}d}" if char in NUMBERS else char
        for char in format_string
    )


@cache
def _numbers_only(format_string: str) -> bool:
    return all(char in NUMBERS or not (char.isalpha() or char == "\\") for char in format_string)


# A line diff's marks: the row's class, and what a screen reader says before the line.
DIFF_MARKS = {"+": (" add", "added: "), "-": (" del", "removed: ")}


@register.simple_tag
def diff_lines(lines: DiffLines, title: str) -> SafeString:
    """A line diff of ``portal.textdiff``, each line marked for the eye and for screen readers
    (a tag, not a template loop: a card's diff has a row per line of every changed section)."""
    rows = []
    for line in lines:
        op, text = conditional_escape(line[0]), conditional_escape(line[1])
        tone, spoken = DIFF_MARKS.get(line[0], ("", ""))
        rows.append(
            f'<div class="diff-line{tone}"><span class="diff-op" aria-hidden="true">{op}</span>'
            f'<span class="sr-only">{spoken}</span>{text}</div>'
        )
    label = conditional_escape(title)
    html = f'<div class="diff" role="group" aria-label="Changes in {label}">{"".join(rows)}</div>'
    return mark_safe(html)  # noqa: S308 - every value escaped above
