"""Stage 1: read a flow file into plain JSON-like data, keeping the YAML nodes for positions.

libyaml (through PyYAML's C loader) parses and composes the node graph; this module turns
the nodes into values itself, because PyYAML's constructor would silently keep the last of
two equal keys, read `on:` as the key `True`, and expand an alias bomb without limit. The
nodes are kept so that any later finding can be placed at the exact key or value, and so the
raw text of a scalar can explain YAML 1.1 surprises such as `label: no` or `after: 10:00`.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

import yaml

from dsl.errors import Diagnostic, FlowCheckError, Location, Severity, split_lines

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000  # counted after alias expansion, so an alias bomb stops here
MAX_DIGITS = 4_300  # Python's own limit for reading a whole number from text

Path = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_BOOLS = yaml.constructor.SafeConstructor.bool_values
_TEXT_TAGS = {_TAG + "str", _TAG + "timestamp"}  # dates stay text: flows have no date type
_NUMBER_TAGS = {_TAG + "int", _TAG + "float"}
_COLLECTION_TAGS = {_TAG + "map", _TAG + "seq"}
_KEY_TAGS = _TEXT_TAGS | _NUMBER_TAGS | {_TAG + "null", _TAG + "bool"}
_NUMBER_LIMIT = 10**MAX_DIGITS
_EXPLICIT_TAG = re.compile(r"(&\S+\s+)?!")  # a node's text starts at its anchor or its tag
# PyYAML's number constructors, called directly: construct_object would cache every node
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_NUMBERS = {
    _TAG + "int": _CONSTRUCTOR.construct_yaml_int,
    _TAG + "float": _CONSTRUCTOR.construct_yaml_float,
}


@dataclass(frozen=True, slots=True)
class Span:
    """Where a value stood: 1-based line and column, its raw text and how YAML read it."""

    line: int
    col: int
    raw: str = ""
    tag: str = ""
    style: str = ""

    @property
    def yaml_type(self) -> str:
        """The last part of the resolved tag: `str`, `bool`, `int`..."""
        return self.tag.rsplit(":", 1)[-1]


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded flow file: its text, its data, and its YAML nodes for placing findings."""

    path: str
    text: str
    data: Any
    root: yaml.Node
    # each mapping's entries by key, built when a finding first looks into the mapping:
    # a flow with hundreds of steps and many findings would otherwise rescan it every time
    _entries: dict[int, dict[Any, tuple[yaml.Node, yaml.Node]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def span(self, path: Path) -> Span:
        """The span of the value at `path`, or of its nearest ancestor that exists."""
        node, _ = self._find(path)
        return self._span(node)

    def has(self, path: Path) -> bool:
        """True when the value at `path` is written in the file."""
        return self._find(path)[1] == len(path)

    def location(self, path: Path) -> Location:
        """The file location of the value at `path`."""
        span = self.span(path)
        return Location(self.path, span.line, span.col)

    def key_location(self, path: Path) -> Location:
        """The file location of the key that names the value at `path`."""
        parent, depth = self._find(path[:-1])
        if depth == len(path) - 1 and isinstance(parent, yaml.MappingNode):
            entry = self._mapping(parent).get(path[-1])
            if entry is not None:
                return self._location(entry[0])
        return self.location(path)

    def finding(
        self,
        path: Path,
        message: str,
        rule: str,
        *,
        hint: str | None = None,
        severity: Severity = "error",
        key: bool = False,
        offset: int | None = None,
    ) -> Diagnostic:
        """A finding at the value at `path`, at its key, or at character `offset` in it."""
        if offset is not None:
            location = self.location_in(path, offset)
        else:
            location = (self.key_location if key else self.location)(path)
        return Diagnostic(location, severity, message, rule, hint)

    def location_in(self, path: Path, offset: int) -> Location:
        """The file location of character `offset` inside the text value at `path`.

        Exact for single-line plain or quoted text without escapes and for `|` blocks;
        elsewhere (escapes, folded text) it falls back to the start of the value.
        """
        span = self.span(path)
        start = Location(self.path, span.line, span.col)
        if not self.has(path):
            return start
        if span.style == "|":
            return self._in_literal_block(span, offset)
        escaped = (span.style == '"' and "\\" in span.raw) or (
            span.style == "'" and "''" in span.raw
        )
        if len(split_lines(span.raw)) > 1 or escaped or span.style not in ("", "'", '"'):
            return start
        return Location(self.path, span.line, span.col + offset + (1 if span.style else 0))

    def _in_literal_block(self, span: Span, offset: int) -> Location:
        body = split_lines(span.raw)[1:]
        indent = min((len(ln) - len(ln.lstrip(" ")) for ln in body if ln.strip()), default=0)
        for number, text in enumerate(body, start=1):
            width = max(len(text) - indent, 0) + 1  # +1 for the newline
            if offset < width:
                return Location(self.path, span.line + number, indent + offset + 1)
            offset -= width
        return Location(self.path, span.line, span.col)

    def _find(self, path: Path) -> tuple[yaml.Node, int]:
        node = self.root
        for depth, part in enumerate(path):
            child = self._child(node, part)
            if child is None:
                return node, depth
            node = child
        return node, len(path)

    def _child(self, node: yaml.Node, part: str | int) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode):
            entry = self._mapping(node).get(part)
            return None if entry is None else entry[1]
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child: yaml.Node = node.value[part]
            return child
        return None

    def _mapping(self, node: yaml.MappingNode) -> dict[Any, tuple[yaml.Node, yaml.Node]]:
        entries = self._entries.get(id(node))
        if entries is None:  # keys are unique: the loader refuses a key written twice
            entries = {key.value: (key, value) for key, value in node.value}
            self._entries[id(node)] = entries
        return entries

    def _span(self, node: yaml.Node) -> Span:
        start, end = node.start_mark, node.end_mark
        raw = self.text[start.index : end.index]
        style = (getattr(node, "style", None) or "") if isinstance(node, yaml.ScalarNode) else ""
        return Span(start.line + 1, start.column + 1, raw, node.tag, style)

    def _location(self, node: yaml.Node) -> Location:
        return Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1)


def load_document(path: str, raw: bytes) -> Document:
    """Decode and parse one flow file; hostile input raises FlowCheckError, never anything else."""
    text = _decode(path, raw)
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.reader.ReaderError as err:
        _unacceptable_character(path, text, err)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(part for part in (err.context, err.problem) if part)
        _fail(path, line, col, f"broken YAML: {message}", "yaml-syntax")
    except yaml.YAMLError as err:
        _fail(path, 1, 1, f"broken YAML: {err}", "yaml-syntax")
    if root is None:
        _fail(path, 1, 1, "the file is empty; a flow needs at least id, trigger and steps", "empty")
    return Document(path, text, _Values(path, text).build(root), root)


def _decode(path: str, raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        _fail(path, 1, 1, f"file is {len(raw):,} bytes; flows are limited to 1 MiB", "file-size")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line, col = _position(raw[: err.start].decode("utf-8", "replace"))
        hint = "save the file as UTF-8" + (
            " (it looks like UTF-16)"
            if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
            else ""
        )
        _fail(
            path, line, col, f"not UTF-8 text: byte 0x{raw[err.start]:02x}", "encoding", hint=hint
        )
    if "\x00" in text:
        line, col = _position(text[: text.index("\x00")])
        _fail(path, line, col, "binary content (a NUL byte) in a flow file", "encoding")
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        _fail(path, 1, 1, "the file is empty; a flow needs at least id, trigger and steps", "empty")
    return text


def _unacceptable_character(path: str, text: str, err: yaml.reader.ReaderError) -> NoReturn:
    # libyaml reads the text as UTF-8, so its position counts bytes, not characters
    prefix = text.encode("utf-8")[: err.position].decode("utf-8", "ignore")
    line, col = _position(prefix)
    code = err.character if isinstance(err.character, int) else ord(err.character)
    message = f"unacceptable character U+{code:04X}: {err.reason}"
    _fail(path, line, col, message, "encoding", hint="remove the character")


def _position(prefix: str) -> tuple[int, int]:
    lines = split_lines(prefix)
    return len(lines), len(lines[-1]) + 1


def _fail(
    path: str, line: int, col: int, message: str, rule: str, *, hint: str | None = None
) -> NoReturn:
    diagnostic = Diagnostic(Location(path, line, col), "error", message, rule, hint)
    raise FlowCheckError((diagnostic,))


class _Values:
    """Turns nodes into plain values, breadth-first with an explicit queue (no recursion).

    Containers are created empty, linked into their parent at once and filled as the queue
    reaches their children, so depth costs no stack and every node is counted once per use.
    """

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.count = 0

    def build(self, root: yaml.Node) -> Any:
        """The plain value of `root`; raises FlowCheckError on anything a flow cannot hold."""
        holder: list[Any] = []
        queue: list[tuple[yaml.Node, list[Any] | dict[str, Any], str | int, int]] = [
            (root, holder, 0, 0)
        ]
        for node, parent, key, depth in queue:  # the queue grows while we walk it
            self.count += 1
            if self.count > MAX_NODES:
                self._error(
                    node, f"more than {MAX_NODES:,} values (counting alias expansions)", "yaml-size"
                )
            if isinstance(node, yaml.ScalarNode):
                value = self._scalar(node)
            elif depth >= MAX_DEPTH:
                self._error(node, f"nesting deeper than {MAX_DEPTH} levels", "yaml-depth")
            elif isinstance(node, yaml.SequenceNode):
                self._tag(node)
                value = [None] * len(node.value)
                queue += [(child, value, i, depth + 1) for i, child in enumerate(node.value)]
            else:
                value = self._mapping(node, queue, depth)
            if isinstance(parent, list) and parent is holder:
                holder.append(value)
            else:
                parent[key] = value  # type: ignore[index]  # key type matches the parent's kind
        return holder[0]

    def _mapping(self, node: yaml.Node, queue: list[Any], depth: int) -> dict[str, Any]:
        self._tag(node)
        value: dict[str, Any] = {}
        for key_node, child in node.value:
            key = self._key(key_node)
            if key in value:
                self._error(key_node, f"duplicate key '{key}'", "duplicate-key")
            value[key] = None
            queue.append((child, value, key, depth + 1))
        return value

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            self._error(node, "mapping keys must be plain names", "yaml-syntax")
        if node.tag == _TAG + "merge":
            hint = "write the keys out; an alias (*name) can stand for a whole value"
            self._error(node, "YAML merge keys (<<) are not supported", "yaml-syntax", hint)
        if node.tag not in _KEY_TAGS:
            self._error(node, f"YAML tag {node.tag} is not allowed in flows", "yaml-tag")
        value: str = node.value  # the raw text: `on:` and `yes:` stay names, not booleans
        return value

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag in _TEXT_TAGS:
            return node.value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            if node.value.lower() not in _BOOLS:  # only an explicit !!bool tag gets here
                self._not_a(node, "bool")
            return _BOOLS[node.value.lower()]
        if tag in _NUMBER_TAGS:
            return self._number(node)
        self._error(node, f"YAML tag {tag} is not allowed in flows", "yaml-tag")

    def _number(self, node: yaml.ScalarNode) -> int | float:
        # Checked before converting: the text of a base-60 number costs quadratic time
        if len(node.value) > MAX_DIGITS:
            self._too_large(node)
        try:
            value: int | float = _NUMBERS[node.tag](node)
        except (ValueError, IndexError):  # PyYAML trusts the text to fit the tag; `0x_` does not
            self._not_a(node, node.tag.rsplit(":", 1)[-1])
        if isinstance(value, int) and not -_NUMBER_LIMIT < value < _NUMBER_LIMIT:
            self._too_large(node)  # a long hex or base-60 number from short text
        return value

    def _not_a(self, node: yaml.ScalarNode, kind: str) -> NoReturn:
        shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
        article = "an" if kind == "int" else "a"
        message = f"YAML reads '{shown}' as {article} {kind}, but it is not a valid {kind}"
        explicit = _EXPLICIT_TAG.match(self.text, node.start_mark.index) is not None
        hint = f"remove the !!{kind} tag" if explicit else f'put it in quotes: "{shown}"'
        self._error(node, message, "yaml-type", hint)

    def _too_large(self, node: yaml.ScalarNode) -> NoReturn:
        message = f"number too large (more than {MAX_DIGITS:,} digits)"
        self._error(node, message, "yaml-type", "put it in quotes if it is text")

    def _tag(self, node: yaml.Node) -> None:
        if node.tag not in _COLLECTION_TAGS:
            self._error(node, f"YAML tag {node.tag} is not allowed in flows", "yaml-tag")

    def _error(self, node: yaml.Node, message: str, rule: str, hint: str | None = None) -> NoReturn:
        mark = node.start_mark
        _fail(self.path, mark.line + 1, mark.column + 1, message, rule, hint=hint)
