"""The version page's evaluation panels: input mapping, evaluations and how to start one,
and the latest results in the card's quantitative analyses."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def evaluation_panel(context: dict[str, Any], version: Any) -> SafeString:
    return SafeString("")


@register.simple_tag(takes_context=True)
def latest_evaluations(context: dict[str, Any], version: Any) -> SafeString:
    return SafeString("")
