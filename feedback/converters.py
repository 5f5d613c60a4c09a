"""A client's prediction id as one segment of a page's path.

An id is any text: "/" in it would split the path, and an id of "." or ".." would be
resolved away by browsers. So "~" becomes "~7E", "/" "~2F", and the dots of an id made only
of dots "~2E"; every other character is left to the URL's own percent-encoding.
"""

from __future__ import annotations

import re

from django.urls import register_converter

ESCAPES = {"~": "~7E", "/": "~2F"}
ESCAPED = re.compile(r"~(7E|2F|2E)", re.IGNORECASE)
UNESCAPED = {"7E": "~", "2F": "/", "2E": "."}


class PredictionIdConverter:
    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return ESCAPED.sub(lambda found: UNESCAPED[found.group(1).upper()], value)

    def to_url(self, value: str) -> str:
        text = "".join(ESCAPES.get(char, char) for char in value)
        return "~2E" * len(text) if text in (".", "..") else text


register_converter(PredictionIdConverter, "prediction_id")
