"""Finding text PostgreSQL cannot store (NUL, lone surrogates) inside JSON-like values."""

import json

from portal.text import find_unstorable, may_hold_unstorable, unstorable_char


def test_clean_values_have_no_problem() -> None:
    """Ordinary text, numbers, nulls and astral characters pass."""
    value = {"a": ["x", 1, 2.5, None, True], "emoji": "\U0001f600", "é": {"ü": "ß"}}
    assert find_unstorable(value) is None
    assert unstorable_char("plain") is None


def test_a_nul_in_a_nested_value_is_named_with_its_path() -> None:
    """The message names the character and the JSON path to it."""
    value = json.loads('{"properties": {"a": {"type": "string", "pattern": "x\\u0000"}}}')
    assert find_unstorable(value) == ("contains a NUL character (U+0000) at properties/a/pattern")


def test_a_lone_surrogate_is_named_with_its_code_point() -> None:
    """json.loads turns a "\\ud800" escape into a lone surrogate; list indexes are path steps."""
    value = json.loads('{"items": ["ok", "\\ud800"]}')
    assert find_unstorable(value) == "contains a lone surrogate (U+D800) at items/1"


def test_a_surrogate_pair_is_a_valid_character() -> None:
    """An escaped pair decodes to one astral character, which PostgreSQL stores."""
    assert find_unstorable(json.loads('"\\ud83d\\ude00"')) is None


def test_a_bad_key_is_reported_at_the_object_holding_it() -> None:
    """Keys are checked too; the path ends at the object that has the key."""
    assert find_unstorable({"properties": {"a\x00": 1}}) == (
        "contains a NUL character (U+0000) in a key at properties"
    )


def test_a_bad_top_level_string_has_no_path() -> None:
    """A bare string reports the problem alone."""
    assert find_unstorable("\udfff") == "contains a lone surrogate (U+DFFF)"


def test_the_first_problem_in_document_order_is_reported() -> None:
    """Earlier siblings are searched before later ones, keys before their values."""
    value = {"a": [{"b": "\x00"}], "c\x00": "\x00"}
    assert find_unstorable(value) == "contains a NUL character (U+0000) at a/0/b"


def test_slashes_in_keys_are_escaped_like_a_json_pointer() -> None:
    """A key holding "/" or "~" cannot be mistaken for two levels."""
    assert find_unstorable({"a/b": {"~c": "\x00"}}) == (
        "contains a NUL character (U+0000) at a~1b/~0c"
    )


def test_deep_nesting_does_not_recurse() -> None:
    """Values nested far past the recursion limit are searched without a RecursionError."""
    value: object = "\x00"
    for _ in range(100_000):
        value = [value]
    message = find_unstorable(value)
    assert message is not None and message.startswith("contains a NUL character (U+0000) at 0/")
    assert message.count("/") == 100_000 - 1


def test_only_bodies_spelling_an_unstorable_escape_need_the_full_search() -> None:
    """The byte pre-check never misses what json.loads would turn into NUL or a surrogate:
    any case of hex digits, a low surrogate alone; and clears bodies that cannot hold one."""
    for body in (b'["\\u0000"]', b'{"k": "\\uD800"}', b'"\\udfff"', b'"a\\uDbFf"'):
        assert may_hold_unstorable(body), body
        assert find_unstorable(json.loads(body)) is not None
    for body in (b'{"a": "\\u00e9", "b": [1, 2.5]}', b'"\\u0001"', '"\U0001f600"'.encode()):
        assert not may_hold_unstorable(body), body


def test_text_that_only_looks_like_an_escape_is_storable() -> None:
    """A literal backslash-u0000 takes the slow path and is still found clean."""
    assert find_unstorable({"path": "C:\\u0000\\files", "values": [1.5, None, True]}) is None


def test_values_json_cannot_spell_are_still_searched() -> None:
    assert find_unstorable({("t",): "x\x00"}) == "contains a NUL character (U+0000) at ('t',)"
    assert find_unstorable([b"bytes", "\ud800"]) == "contains a lone surrogate (U+D800) at 1"
