from typing import Any

from django import template
from django.contrib import messages
from django.utils.safestring import SafeString

from portal.plots import plotly_embed

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
