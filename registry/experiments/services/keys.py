"""What a param, metric or tag key may look like (the MLflow rule, so clients agree)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

KEY = re.compile(r"^[A-Za-z0-9_\-./ :]{1,250}$")
KEY_RULE = "1-250 letters, digits, spaces and _ - . / :"


def key_problem(key: object) -> str | None:
    if not isinstance(key, str) or not KEY.match(key):
        return f"key {key!r} is not {KEY_RULE}"
    if ".." in key or key.startswith("/"):
        return f"key {key!r} may not start with / or hold .."
    return None


def check_key(key: object, *, field: str) -> None:
    if problem := key_problem(key):
        raise ValidationError({field: problem})
