"""The filter form's select writes the markup of Django's own, without its templates."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django import forms

from registry.widgets import Select

CHOICES: list[Any] = [
    ("", "All <teams>"),
    ("a&b", "A & B"),
    ("Group", [("x", "X"), ("y", 'Y "quoted"')]),
    (3, "Three"),
]


def _tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("value", ["", "a&b", "y", "3", None])
@pytest.mark.parametrize("attrs", [{}, {"id": "id_team", "required": True, "disabled": False}])
def test_it_writes_what_djangos_select_writes(value: str | None, attrs: dict[str, Any]) -> None:
    ours = Select(choices=CHOICES).render("team", value, attrs=attrs)
    django = forms.Select(choices=CHOICES).render("team", value, attrs=attrs)

    assert _tags(ours) == _tags(django)
