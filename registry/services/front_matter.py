"""Loading the YAML front matter of an imported README.md, with caps.

``yaml.safe_load`` is safe from code execution but not from a hostile file: the pure-Python
composer recurses once per nesting level (``[[[[…`` a few thousand deep is a RecursionError,
libyaml stops at 1,000 with an unrelated message), aliases let a few lines expand into
millions of values ("billion laughs"), and double-quoted escapes (``"\\0"``, ``"\\ud800"``)
produce characters PostgreSQL refuses. ``load_front_matter`` loads the same documents as
``safe_load`` for ordinary front matter and refuses the rest *before* any Python object
is built:

1. The source is at most ``MAX_FRONT_MATTER_BYTES`` (UTF-8) and holds only characters YAML
   allows in a stream (no NUL, other control characters or lone surrogates).
2. A first pass over the parser's event stream (iterative in both libyaml and PyYAML)
   refuses nesting deeper than ``MAX_DEPTH`` and any alias, so the composer, which recurses,
   never sees a deep document.
3. The node tree is composed and walked iteratively: depth again, no node reached twice
   (anchor reuse), scalar values free of control characters and surrogates, numbers short.
4. Only then does ``construct_document`` build the Python objects.

Every refusal is a ``FrontMatterError``: a ``yaml.MarkedYAMLError`` (so callers that report
YAML problems with their line report these too) and a ``ValueError``. The loader is libyaml's
``CSafeLoader`` when PyYAML was built with it, else the pure-Python ``SafeLoader``.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_FRONT_MATTER_BYTES = 64 * 1024
MAX_DEPTH = 20
MAX_NUMBER_CHARS = 100

# The C loader parses faster and has no Python recursion in its scanner and parser.
Loader: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = (
    yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
)

# Characters YAML 1.1 allows in a stream (PyYAML's Reader refuses the rest); a lone
# surrogate would otherwise make libyaml's UTF-8 encoding of the source raise.
_NOT_IN_STREAM = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Characters refused in a loaded value (escapes such as "\0", "\x07", "\ud800" produce them):
# C0 controls other than tab and line ends, DEL, C1 controls, surrogates, U+FFFE and U+FFFF.
_NOT_IN_VALUE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_NUMBER_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
_SOURCE_NAME = "<front matter>"


class FrontMatterError(yaml.MarkedYAMLError, ValueError):
    """Front matter refused by a cap or a rule; ``problem_mark.line`` is 0-based when known."""

    def __init__(self, problem: str, mark: Any = None) -> None:
        super().__init__(problem=problem, problem_mark=mark)


def load_front_matter(source: str) -> Any:
    """The Python value of one YAML document, refused when it breaks a cap or a rule."""
    _check_source(source)
    _check_events(source)
    loader = Loader(source)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node)
        try:
            return loader.construct_document(node)
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. int() digit limits
            raise FrontMatterError(f"a value could not be read ({str(exc)[:100]})") from exc
    finally:
        loader.dispose()


def _check_source(source: str) -> None:
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_FRONT_MATTER_BYTES:
        raise FrontMatterError(
            f"the front matter may be at most {MAX_FRONT_MATTER_BYTES // 1024} KiB "
            f"(this has {size:,} bytes)."
        )
    if found := _NOT_IN_STREAM.search(source):
        raise FrontMatterError(
            f"the character {_codepoint(found.group())} is not allowed.",
            _mark_at(source, found.start()),
        )


def _check_events(source: str) -> None:
    """Refuse deep nesting and aliases from the event stream, before anything recurses."""
    loader = Loader(source)
    try:
        depth = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent):
                raise _alias_error(event.start_mark)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _depth_error(event.start_mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        # libyaml's scanner looks ahead for simple keys, so on "[[[[…" it can reach its own
        # nesting limit (1,000) before the parser hands over the 21st collection start.
        if "maximum nesting depth" in (exc.problem or ""):
            raise _depth_error(exc.problem_mark) from exc
        raise
    finally:
        loader.dispose()


def _check_nodes(root: yaml.Node) -> None:
    """Walk the node tree without recursion: depth, shared nodes, scalar values."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            raise _alias_error(node.start_mark)
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(node)
            continue
        if depth + 1 > MAX_DEPTH:
            raise _depth_error(node.start_mark)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack += [(key, depth + 1), (value, depth + 1)]
        elif isinstance(node, yaml.SequenceNode):
            stack += [(item, depth + 1) for item in node.value]


def _check_scalar(node: yaml.ScalarNode) -> None:
    value = node.value
    if found := _NOT_IN_VALUE.search(value):
        raise FrontMatterError(
            f"a value holds the character {_codepoint(found.group())}, which is not allowed.",
            node.start_mark,
        )
    if node.tag in _NUMBER_TAGS and len(value) > MAX_NUMBER_CHARS:
        raise FrontMatterError(
            f"a number may have at most {MAX_NUMBER_CHARS} characters.", node.start_mark
        )


def _depth_error(mark: Any) -> FrontMatterError:
    return FrontMatterError(
        f"lists and mappings may be nested at most {MAX_DEPTH} levels deep.", mark
    )


def _alias_error(mark: Any) -> FrontMatterError:
    return FrontMatterError("aliases (“*name”) are not allowed; write the value out.", mark)


def _codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def _mark_at(source: str, index: int) -> yaml.Mark:
    line = source.count("\n", 0, index)
    column = index - (source.rfind("\n", 0, index) + 1)
    return yaml.Mark(_SOURCE_NAME, index, line, column, None, 0)
