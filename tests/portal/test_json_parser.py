"""The API's JSON parser reads with orjson and gives the standard parser the bodies orjson
would read differently, so every endpoint sees the same values either way."""

from __future__ import annotations

import io

import pytest
from rest_framework.exceptions import ParseError

from portal.api.parsers import CappedJSONParser


def _parse(body: bytes) -> object:
    return CappedJSONParser().parse(io.BytesIO(body), "application/json", {"encoding": "utf-8"})


def test_integers_past_64_bits_stay_exact_and_small_ones_stay_integers() -> None:
    assert _parse(b'{"a": 123456789012345678901234567890, "b": 7, "c": 7.0}') == {
        "a": 123456789012345678901234567890,
        "b": 7,
        "c": 7.0,
    }
    assert isinstance(_parse(b"[7]")[0], int)  # type: ignore[index]


@pytest.mark.parametrize("body", [b"[NaN]", b"[Infinity]", b"{", b""])
def test_what_is_not_strict_json_is_refused(body: bytes) -> None:
    with pytest.raises(ParseError):
        _parse(body)


def test_overflowing_floats_and_surrogate_pairs_read_as_the_standard_parser_reads_them() -> None:
    assert _parse(b"[1e400]") == [float("inf")]
    assert _parse(b'["\\ud83d\\ude00"]') == ["\U0001f600"]
