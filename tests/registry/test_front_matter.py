"""README front matter is loaded with caps: size, depth, no aliases, no control characters.

``load_front_matter`` on its own, then through ``parse_card_readme`` (the ValidationError on
"readme" with the file line) and through the API import endpoint (400, never a 5xx).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
import yaml
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from registry.models import ModelCard
from registry.services import front_matter
from registry.services.card_readme import parse_card_readme
from registry.services.front_matter import (
    MAX_DEPTH,
    MAX_FRONT_MATTER_BYTES,
    FrontMatterError,
    load_front_matter,
)

IMPORT_URL = "/api/v1/models/fraud-score/versions/1.0.0/card/import/"

HF_FRONT_MATTER = """\
license: apache-2.0
language:
- en
- de
datasets:
- imdb
- "squad: v2"
base_model: google-bert/bert-base-uncased
"""
HF_README = f"---\n{HF_FRONT_MATTER}---\n\n## Intended use\n\nRanking reviews.\n"

DEEP_LIST = "[" * 5000 + "]" * 5000
BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _nested(depth: int) -> str:
    return "[" * depth + "x" + "]" * depth


def _readme(front: str) -> str:
    return f"---\n{front}---\n## Intended use\n\nx\n"


def _readme_error(text: str) -> str:
    with pytest.raises(ValidationError) as exc:
        parse_card_readme(text)
    messages = exc.value.message_dict["readme"]
    assert len(messages) == 1
    return messages[0]


@pytest.fixture
def api(alice: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


# The loader ---------------------------------------------------------------------------


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")
def test_it_uses_libyamls_c_loader_when_pyyaml_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """With libyaml present the loader is CSafeLoader, and it is the one that parses."""
    assert front_matter.Loader is yaml.CSafeLoader
    created: list[Any] = []

    class Spy(yaml.CSafeLoader):
        def __init__(self, stream: Any) -> None:
            created.append(self)
            super().__init__(stream)

    monkeypatch.setattr(front_matter, "Loader", Spy)

    assert load_front_matter("license: mit\n") == {"license": "mit"}
    assert created


def test_it_falls_back_to_the_pure_python_safe_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without libyaml the same caps hold with yaml.SafeLoader (whose composer recurses)."""
    monkeypatch.setattr(front_matter, "Loader", yaml.SafeLoader)

    assert load_front_matter(HF_FRONT_MATTER)["language"] == ["en", "de"]
    with pytest.raises(FrontMatterError, match=f"at most {MAX_DEPTH} levels"):
        load_front_matter(f"a: {DEEP_LIST}\n")
    with pytest.raises(FrontMatterError, match="aliases"):
        load_front_matter(BILLION_LAUGHS)


def test_it_loads_what_safe_load_loads_for_ordinary_front_matter() -> None:
    """Same values as yaml.safe_load: YAML 1.1 scalars, nesting within the cap, empty input."""
    source = HF_FRONT_MATTER + "license_date: 2024-05-01\nok: no\nn: 3\nnested: {a: [1, {b: c}]}\n"

    loaded = load_front_matter(source)

    assert loaded == yaml.safe_load(source)
    assert loaded["license_date"] == datetime.date(2024, 5, 1)
    assert load_front_matter("") is None
    assert load_front_matter("# only a comment\n") is None
    assert load_front_matter(_nested(MAX_DEPTH)) == yaml.safe_load(_nested(MAX_DEPTH))


def test_it_disposes_the_loader_even_when_it_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every loader it creates is disposed, whether loading succeeds or not."""
    created: list[Any] = []
    disposed: list[Any] = []
    base = front_matter.Loader

    class Tracked(base):  # type: ignore[valid-type,misc]
        def __init__(self, stream: Any) -> None:
            created.append(self)
            super().__init__(stream)

        def dispose(self) -> None:
            disposed.append(self)
            super().dispose()

    monkeypatch.setattr(front_matter, "Loader", Tracked)
    load_front_matter("a: 1\n")
    for source in (f"a: {DEEP_LIST}\n", BILLION_LAUGHS, "a: [1\n", "a: !!python/name:os.system\n"):
        with pytest.raises(yaml.YAMLError):
            load_front_matter(source)

    assert created
    assert disposed == created


def test_refusals_are_yaml_errors_and_value_errors_with_a_line() -> None:
    """Callers that catch either get it; the 0-based line of the offending node is known."""
    with pytest.raises(FrontMatterError) as exc:
        load_front_matter("license: mit\nlanguage: *en\n")

    assert isinstance(exc.value, yaml.MarkedYAMLError)
    assert isinstance(exc.value, ValueError)
    assert exc.value.problem_mark is not None
    assert exc.value.problem_mark.line == 1


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 500, 999, 1001, 5000])
def test_nesting_deeper_than_the_cap_is_refused_at_every_depth(depth: int) -> None:
    """Flow lists just over the cap, around libyaml's own 1,000 limit, and far beyond."""
    with pytest.raises(FrontMatterError, match=f"at most {MAX_DEPTH} levels"):
        load_front_matter(f"a: {_nested(depth)}\n")


def test_deep_block_mappings_are_refused() -> None:
    """Indentation nesting counts like brackets."""
    source = "".join(f"{'  ' * level}k{level}:\n" for level in range(MAX_DEPTH + 5))

    with pytest.raises(FrontMatterError, match=f"at most {MAX_DEPTH} levels"):
        load_front_matter(source + "  " * (MAX_DEPTH + 5) + "leaf\n")


def test_anchors_used_once_and_merge_keys_through_aliases() -> None:
    """An anchor alone is harmless; any alias, including a merge key, is refused."""
    assert load_front_matter("a: &x [1]\n") == {"a": [1]}
    with pytest.raises(FrontMatterError, match="aliases"):
        load_front_matter("base: &b {x: 1}\nother:\n  <<: *b\n")


def test_a_node_reached_twice_is_refused_by_the_tree_walk() -> None:
    """The node walk refuses a shared node even if the event pass were bypassed."""
    loader = yaml.SafeLoader("a: &x [1]\nb: *x\n")
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    assert node is not None

    with pytest.raises(FrontMatterError, match="aliases") as exc:
        front_matter._check_nodes(node)
    assert exc.value.problem_mark is not None
    assert exc.value.problem_mark.line == 0


def test_the_tree_walk_refuses_depth_without_recursion() -> None:
    """A node tree deeper than Python's recursion limit is walked, and refused."""
    leaf = yaml.ScalarNode("tag:yaml.org,2002:str", "x")
    node: yaml.Node = leaf
    for _ in range(5000):
        node = yaml.SequenceNode("tag:yaml.org,2002:seq", [node])

    with pytest.raises(FrontMatterError, match=f"at most {MAX_DEPTH} levels"):
        front_matter._check_nodes(node)


@pytest.mark.parametrize(
    ("source", "codepoint"),
    [
        ('license: "a\\0b"\n', "U+0000"),
        ('license: "bell\\a"\n', "U+0007"),
        ('license: "\\x1b[31m"\n', "U+001B"),
        ('license: "\\x85"\n', "U+0085"),
        ('"\\0key": mit\n', "U+0000"),
        ("license: a\x00b\n", "U+0000"),
        ("license: a\x08b\n", "U+0008"),
        ("license: a\ud800b\n", "U+D800"),
        ("license: a\udfffb\n", "U+DFFF"),
    ],
)
def test_control_characters_and_lone_surrogates_are_refused(source: str, codepoint: str) -> None:
    """Whether raw in the source or produced by an escape, in a key or a value."""
    with pytest.raises(FrontMatterError, match=re.escape(codepoint)) as exc:
        load_front_matter(source)
    assert exc.value.problem_mark is not None
    assert exc.value.problem_mark.line == 0


def test_an_escaped_lone_surrogate_is_refused() -> None:
    """libyaml refuses "\\ud800" itself; the pure-Python scanner would produce it."""
    with pytest.raises(yaml.YAMLError):
        load_front_matter('license: "\\ud800"\n')


def test_multi_line_values_keep_their_line_breaks_and_tabs() -> None:
    """Tabs and line breaks are ordinary YAML; the card's own rules judge them later."""
    assert load_front_matter("a: |\n  one\n  two\tthree\n") == {"a": "one\ntwo\tthree\n"}


def test_an_over_size_source_is_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over the cap (counted in UTF-8 bytes) nothing is parsed."""

    def fail(stream: Any) -> None:
        raise AssertionError("parsed")

    monkeypatch.setattr(front_matter, "Loader", fail)
    source = "a: " + "é" * (MAX_FRONT_MATTER_BYTES // 2) + "\n"

    with pytest.raises(FrontMatterError, match="at most 64 KiB"):
        load_front_matter(source)


def test_a_huge_number_is_refused_instead_of_overflowing_int_parsing() -> None:
    """int() refuses over 4,300 digits with a ValueError; the loader names the problem."""
    with pytest.raises(FrontMatterError, match="number"):
        load_front_matter("license: " + "9" * 6000 + "\n")


# Through parse_card_readme -------------------------------------------------------------


def test_a_5000_deep_list_is_a_readme_error_naming_the_depth_limit() -> None:
    """Not a RecursionError: a ValidationError on readme with the file line and the limit."""
    message = _readme_error(_readme(f"license: mit\nlanguage: {DEEP_LIST}\n"))

    assert message.startswith("Invalid YAML front matter at line 3:")
    assert f"at most {MAX_DEPTH} levels" in message


def test_billion_laughs_is_a_readme_error() -> None:
    """The first alias is refused, at its line."""
    message = _readme_error(_readme(BILLION_LAUGHS))

    assert message.startswith("Invalid YAML front matter at line 3:")
    assert "aliases" in message


def test_an_over_size_front_matter_is_a_readme_error() -> None:
    """The whole README may be 1 MB; its front matter 64 KiB."""
    message = _readme_error(_readme("license: " + "x" * MAX_FRONT_MATTER_BYTES + "\n"))

    assert message.startswith("Invalid YAML front matter:")
    assert "at most 64 KiB" in message


def test_a_nul_in_the_front_matter_is_a_readme_error_naming_its_line() -> None:
    """Line 4 of the file: the opening `---` is line 1."""
    message = _readme_error(_readme('license: mit\ndatasets: [a]\nbase_model: "x\\0y"\n'))

    assert message == (
        "Invalid YAML front matter at line 4: a value holds the character U+0000, "
        "which is not allowed."
    )


def test_a_hugging_face_front_matter_still_parses() -> None:
    """license, a language list, datasets and base_model become card metadata."""
    sections, metadata = parse_card_readme(HF_README)

    assert metadata["license"] == "apache-2.0"
    assert metadata["languages"] == ["en", "de"]
    assert metadata["datasets"] == ["imdb", "squad: v2"]
    assert metadata["base_model"] == "google-bert/bert-base-uncased"
    assert sections["intended_use"] == "Ranking reviews."


# Through the API ----------------------------------------------------------------------


def test_a_hugging_face_readme_imports_through_the_api(api: APIClient, v1: Any) -> None:
    """200 and the card holds the metadata."""
    response = api.post(IMPORT_URL, {"readme": HF_README}, format="json")

    assert response.status_code == 200, response.content
    card = ModelCard.objects.get(pk=v1.card.pk)
    assert card.license == "apache-2.0"
    assert card.languages == ["en", "de"]
    assert card.datasets == ["imdb", "squad: v2"]
    assert card.base_model == "google-bert/bert-base-uncased"


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        (f"license: mit\nlanguage: {DEEP_LIST}\n", f"at most {MAX_DEPTH} levels"),
        (BILLION_LAUGHS, "aliases"),
        ("license: " + "x" * (MAX_FRONT_MATTER_BYTES + 1) + "\n", "at most 64 KiB"),
        ('license: "mit\\0"\n', "U+0000"),
        ('license: "mit\\x01"\n', "U+0001"),
        ("license: " + "9" * 6000 + "\n", "number"),
    ],
    ids=["deep", "billion-laughs", "over-size", "nul-escape", "control-escape", "huge-int"],
)
def test_hostile_front_matter_is_a_400_on_readme(
    api: APIClient, v1: Any, front: str, expected: str
) -> None:
    """400 with {"errors": {"readme": [...]}}; the card is left as it was."""
    before = ModelCard.objects.get(pk=v1.card.pk)

    response = api.post(IMPORT_URL, {"readme": _readme(front)}, format="json")

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert list(errors) == ["readme"]
    assert expected in errors["readme"][0]
    assert errors["readme"][0].startswith("Invalid YAML front matter")
    after = ModelCard.objects.get(pk=v1.card.pk)
    assert (after.intended_use, after.license) == (before.intended_use, before.license)


def test_a_lone_surrogate_in_the_front_matter_is_a_400_on_readme(api: APIClient, v1: Any) -> None:
    """A JSON body may carry "\\ud800": refused on readme (by the parser or the front matter)."""
    body = '{"readme": "---\\nlicense: a\\ud800b\\n---\\n## Intended use\\n\\nx\\n"}'

    response = api.generic("POST", IMPORT_URL, body, content_type="application/json")

    assert response.status_code == 400, response.content
    [message] = response.json()["errors"]["readme"]
    assert "U+D800" in message


def test_a_lone_surrogate_reaching_the_service_is_named_with_its_line() -> None:
    """Whatever the API layer does, the service itself refuses it, naming the file line."""
    message = _readme_error(_readme("license: mit\nbase_model: a\ud800b\n"))

    assert message == "Invalid YAML front matter at line 3: the character U+D800 is not allowed."
