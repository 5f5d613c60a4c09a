from typing import Any

from django import template
from django.utils.safestring import SafeString

from portal.markdown import render_markdown
from portal.plots import plotly_embed

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str | None) -> SafeString:
    return render_markdown(text)


@register.simple_tag
def plotly(figure: Any, element_id: str, height: int = 360) -> SafeString:
    return plotly_embed(figure, element_id, height=height)
