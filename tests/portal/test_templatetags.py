"""The portal's tags write what the template filters they replace wrote, faster."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.template import engines
from django.utils import timezone
from django.utils.safestring import mark_safe

FILTERS = engines["django"].from_string(
    "<time datetime=\"{{ v|date:'c' }}\" title=\"{{ v|date:'Y-m-d H:i' }}\">"
    '{{ v|date:"Y-m-d" }}</time>|'
    '<time datetime="{{ v|date:\'c\' }}">{{ v|date:"H:i:s" }}</time>|'
    "<time datetime=\"{{ v|date:'c' }}\" title=\"{{ v|date:'Y-m-d H:i' }}\">"
    "{{ v|timesince }} ago</time>|"
    '<time datetime="{{ v|date:\'c\' }}">{{ v|date:"D j M" }}</time>'
)
TAGS = engines["django"].from_string(
    "{% load portal %}"
    '{% timestamp v "Y-m-d" title="Y-m-d H:i" %}|{% timestamp v "H:i:s" %}|'
    '{% time_ago v %}|{% timestamp v "D j M" %}'
)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/St_Johns"])
@pytest.mark.parametrize(
    "value",
    [
        datetime(2025, 3, 30, 0, 59, 59, 123456, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 5, tzinfo=UTC),
        timezone.now() - timedelta(days=400, minutes=3),
        None,
    ],
)
def test_time_tags_write_what_the_date_and_timesince_filters_wrote(
    zone: str, value: datetime | None
) -> None:
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        assert TAGS.render({"v": value}) == FILTERS.render({"v": value})


def test_a_diff_marks_each_line_for_the_eye_and_for_screen_readers() -> None:
    template = engines["django"].from_string("{% load portal %}{% diff_lines lines title %}")
    lines = [(" ", "kept"), ("-", "<b>old</b>"), ("+", "new & improved")]

    html = template.render({"lines": lines, "title": 'Use "as is"'})

    assert html == (
        '<div class="diff" role="group" aria-label="Changes in Use &quot;as is&quot;">'
        '<div class="diff-line"><span class="diff-op" aria-hidden="true"> </span>'
        '<span class="sr-only"></span>kept</div>'
        '<div class="diff-line del"><span class="diff-op" aria-hidden="true">-</span>'
        '<span class="sr-only">removed: </span>&lt;b&gt;old&lt;/b&gt;</div>'
        '<div class="diff-line add"><span class="diff-op" aria-hidden="true">+</span>'
        '<span class="sr-only">added: </span>new &amp; improved</div></div>'
    )
    assert "<i>" in template.render({"lines": [], "title": mark_safe("<i>t</i>")})
