from typing import Any

from django import template
from django.utils.safestring import SafeString

from portal.plots import plotly_embed

register = template.Library()


@register.simple_tag
def plotly(figure: Any, element_id: str, height: int = 360) -> SafeString:
    return plotly_embed(figure, element_id, height=height)
