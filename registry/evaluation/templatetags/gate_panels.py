"""The version page's quality-gate verdict."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def gate_verdict_panel(context: dict[str, Any], version: Any) -> SafeString:
    return SafeString("")
