"""Semantic versions: parsing, a sort key that orders by precedence, the next suggestion."""

from __future__ import annotations

import re

import semver
from django.core.exceptions import ValidationError

_NUMERIC = re.compile(r"[0-9]+")
_MAX_DIGITS = 255  # the digit count is one byte
_END, _NUMERIC_IDENTIFIER, _TEXT_IDENTIFIER, _RELEASE = b"\x00", b"\x01", b"\x02", b"\x03"


def parse_semver(text: str) -> semver.Version:
    """The semantic version in ``text``, or a ValidationError naming the field."""
    try:
        return semver.Version.parse(text.strip())
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValidationError(
            {"version": f"“{text}” is not a semantic version (expected MAJOR.MINOR.PATCH)."}
        ) from exc


def semver_sort_key(version: semver.Version) -> str:
    """Lowercase hex whose text order is semver precedence (build metadata is ignored).

    Each number is its digit count (one byte) then its digits, so numbers of any length
    compare numerically. Each pre-release identifier is 0x01 and a number, or 0x02, its text
    and 0x00; 0x00 ends the pre-release, and a release gets 0x03, above any pre-release.
    Hex, because production PostgreSQL may use a locale collation that ignores punctuation
    and case: 0-9 and a-f sort the same under every collation, the bytes themselves may not.
    """
    key = b"".join(_number_key(str(part)) for part in version.to_tuple()[:3])
    if not version.prerelease:
        return (key + _RELEASE).hex()
    for identifier in version.prerelease.split("."):
        if _NUMERIC.fullmatch(identifier):
            key += _NUMERIC_IDENTIFIER + _number_key(identifier)
        else:
            key += _TEXT_IDENTIFIER + identifier.encode() + _END
    return (key + _END).hex()


def _number_key(digits: str) -> bytes:
    digits = digits.lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        raise ValueError(f"A version number may have at most {_MAX_DIGITS} digits.")
    return bytes([len(digits)]) + digits.encode()


def next_version_after(version: str) -> str:
    """The version to suggest after ``version``: its next minor (1.2.0 → 1.3.0).

    semver's natural order, so a pre-release suggests the release it leads to
    (2.0.0-rc.1 → 2.0.0, 1.2.3-rc.1 → 1.3.0); build metadata is dropped. Always higher.
    """
    return str(parse_semver(version).next_version("minor"))
