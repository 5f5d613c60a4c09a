"""Text PostgreSQL cannot store: NUL (U+0000) and lone surrogates (U+D800 to U+DFFF).

PostgreSQL refuses both in text and jsonb, so a value holding them would crash the INSERT
with a 500. ``json.loads`` turns the escapes ``\\u0000`` and ``\\ud800`` into exactly these
characters, so parsed JSON must be checked, not only the raw bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any

# In a Python str a surrogate is always unpaired: decoding joins valid pairs into one char.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# How JSON spells those characters: the \u0000 and \uD800-\uDFFF escapes (strict JSON takes no
# raw control characters, and valid UTF-8 holds no surrogates). Escaped backslashes and valid
# surrogate pairs match too; they only cost the full search.
_UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")

# A path is a linked list (segment, parent) so each nested value costs O(1) to record.
_Path = tuple[str, "_Path"] | None


def unstorable_char(text: str) -> str | None:
    """What is wrong with ``text`` ("contains a NUL character (U+0000)"), or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    code = ord(found.group())
    kind = "a NUL character" if code == 0 else "a lone surrogate"
    return f"contains {kind} (U+{code:04X})"


def may_hold_unstorable(json_body: bytes) -> bool:
    """False when parsing this UTF-8 JSON cannot yield a NUL or a lone surrogate."""
    return _UNSTORABLE_ESCAPE.search(json_body) is not None


def find_unstorable(value: Any) -> str | None:
    """The first NUL or lone surrogate in a JSON-like value, as a message with its path.

    Strings, dict keys and values inside dicts, lists and tuples are searched in document
    order, e.g. "contains a NUL character (U+0000) at properties/a/pattern". A key is
    reported at the object holding it. Iterative, so any nesting depth is safe.
    """
    if _plainly_storable(value):
        return None
    # Each entry: (value, path, is_key). Children are pushed reversed to pop in order.
    stack: list[tuple[Any, _Path, bool]] = [(value, None, False)]
    while stack:
        item, path, is_key = stack.pop()
        if isinstance(item, str):
            problem = unstorable_char(item)
            if problem is not None:
                return _located(f"{problem} in a key" if is_key else problem, path)
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                stack.append((child, (str(key), path), False))
                stack.append((key, path, True))
        elif isinstance(item, list | tuple):
            for index in range(len(item) - 1, -1, -1):
                stack.append((item[index], (str(index), path), False))
    return None


def _plainly_storable(value: Any) -> bool:
    """One pass at C speed for the usual case: the value's JSON text holds no surrogate and
    no escaped NUL (JSON escapes control characters; a literal backslash-u0000 in the text
    also matches, and only costs the walk). False when it cannot tell."""
    try:
        text = json.dumps(value, ensure_ascii=False, check_circular=False)
    except (TypeError, ValueError, RecursionError):
        return False
    # json.dumps escapes NUL, so only a surrogate can match here.
    return "\\u0000" not in text and _UNSTORABLE.search(text) is None


def _located(problem: str, path: _Path) -> str:
    segments: list[str] = []
    while path is not None:
        segment, path = path
        # JSON Pointer escaping (RFC 6901), so a key holding "/" cannot fake a level.
        segments.append(segment.replace("~", "~0").replace("/", "~1"))
    if not segments:
        return problem
    return f"{problem} at {'/'.join(reversed(segments))}"


def is_number(text: str, *, digits: int = 18) -> bool:
    """``text`` is a whole number of ASCII digits that fits a database integer.

    ``str.isdigit`` also takes "²" and "٣", which ``int()`` refuses or reads, and any length,
    which the database refuses: ids and counts from a request are checked with this instead.
    """
    return text.isascii() and text.isdigit() and 0 < len(text) <= digits
