"""Expressions and templates of the flow language: the AST, the parser and `{{ }}` templates.

The grammar lives in `grammar.lark` (LALR); `expression_errors.py` words its parse errors for
flow authors. The transformer runs inside the LALR parser, so building the AST never recurses;
depth is capped anyway so that the recursive type checker and evaluator stay far from Python's
recursion limit. Every node records `offset`, the 0-based character offset where it starts, so
a finding can point at the exact spot in the flow file. Offsets are left out of node equality:
two parses of the same expression compare equal wherever they were written.
"""

from __future__ import annotations

import functools
import pathlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import cast

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from dsl.errors import ExpressionSyntaxError
from dsl.expression_errors import character_error, token_error

MAX_DEPTH = 64
"""Deepest nesting of brackets, and of nodes in the AST, that an expression may have."""

MAX_LENGTH = 2000
"""Longest expression, in characters."""

Value = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Literal:
    """A string, number, `true`, `false` or `null` written in the expression."""

    value: Value
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class ListExpr:
    """A list written in brackets: `[1, "a", contact.email]`."""

    items: tuple[Node, ...]
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Path:
    """A field read such as `contact.email`, split at the dots."""

    parts: tuple[str, ...]
    offset: int = field(default=0, compare=False)

    def part_offset(self, index: int) -> int:
        """Where `parts[index]` starts; a path is one token, so it holds no spaces."""
        return self.offset + sum(len(part) + 1 for part in self.parts[:index])


@dataclass(frozen=True, slots=True)
class Call:
    """A function call such as `lower(contact.name)`."""

    name: str
    args: tuple[Node, ...]
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Unary:
    """A prefix operator: `not` or `-`."""

    op: str
    operand: Node
    offset: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Binary:
    """An infix operator: `and`, `or`, comparisons, `in`, `contains`, `matches`, arithmetic."""

    op: str
    left: Node
    right: Node
    offset: int = field(default=0, compare=False)


Node = Literal | ListExpr | Path | Call | Unary | Binary


@dataclass(frozen=True, slots=True)
class Template:
    """A text with `{{ expr }}` interpolations: literal pieces and expression nodes, in order."""

    parts: tuple[str | Node, ...]

    def expressions(self) -> Iterator[Node]:
        """The interpolated expressions, in order."""
        for part in self.parts:
            if not isinstance(part, str):
                yield part


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of a node."""
    match node:
        case Binary():
            return (node.left, node.right)
        case Unary():
            return (node.operand,)
        case Call():
            return node.args
        case ListExpr():
            return node.items
        case _:
            return ()


def fields_read(node: Node) -> frozenset[tuple[str, ...]]:
    """Every field path the expression reads."""
    found: set[tuple[str, ...]] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Path):
            found.add(current.parts)
        stack.extend(children(current))
    return frozenset(found)


# --- building the AST -------------------------------------------------------------------------

_CONSTANTS: dict[str, Value] = {"true": True, "false": False, "null": None}
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _unescape(body: str) -> str:
    # Unknown escapes keep their backslash, so regexes like "\d+" need no doubling.
    if "\\" not in body:
        return body
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), body)


def _at(token: Token) -> int:
    return token.start_pos or 0


@v_args(inline=True)
class _BuildAst(Transformer[Token, Node]):
    """Turns each grammar reduction into an AST node while the LALR parser runs."""

    def binary(self, left: Node, op: Token, right: Node) -> Binary:
        return Binary(str(op), left, right, left.offset)

    def compare(self, left: Node, op: str, right: Node) -> Binary:
        return Binary(op, left, right, left.offset)

    def comp_op(self, *tokens: Token) -> str:
        return " ".join(tokens)  # `not in` arrives as two keyword tokens

    def prefix(self, op: Token, operand: Node) -> Unary:
        return Unary(str(op), operand, _at(op))

    def string(self, token: Token) -> Literal:
        return Literal(_unescape(token[1:-1]), _at(token))

    def number(self, token: Token) -> Literal:
        return Literal(float(token) if "." in token else int(token), _at(token))

    def constant(self, token: Token) -> Literal:
        return Literal(_CONSTANTS[token], _at(token))

    def path(self, token: Token) -> Path:
        return Path(tuple(token.split(".")), _at(token))

    def call(self, name: Token, args: tuple[Node, ...] | None) -> Call:
        if "." in name:
            raise ExpressionSyntaxError(
                f"'{name}' is a field, not a function", _at(name), "only functions can be called"
            )
        return Call(str(name), args or (), _at(name))

    def list_expr(self, bracket: Token, items: tuple[Node, ...] | None) -> ListExpr:
        return ListExpr(items or (), _at(bracket))

    def args(self, *items: Node) -> tuple[Node, ...]:
        return items


@functools.cache
def _parser() -> Lark:
    grammar = pathlib.Path(__file__).with_name("grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, start="or_expr", parser="lalr", lexer="basic", transformer=_BuildAst())


# --- parsing ----------------------------------------------------------------------------------

_TOO_DEEP = "expression nested too deeply"
_TOO_DEEP_HINT = f"at most {MAX_DEPTH} levels; split it, e.g. set a variable in an earlier step"
_BRACKETS = re.compile(
    r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|(?P<open>[(\[])|(?P<close>[)\]])""", re.DOTALL
)


def parse_expression(text: str) -> Node:
    """Parse one expression; raises ExpressionSyntaxError worded for flow authors."""
    return _parse_cached(text)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Node:
    # Nodes are immutable, so a cached tree can be shared by every caller.
    _check_size(text)
    node = _lark_parse(text)
    _check_depth(node, text)
    return node


def _check_size(text: str) -> None:
    """Cheap refusals before Lark runs: deep brackets, too long, nothing at all."""
    _check_nesting(text)  # first, so 10,000 `(` read as nesting rather than as length
    if len(text) > MAX_LENGTH:
        raise ExpressionSyntaxError(
            f"expression too long ({len(text)} characters)",
            MAX_LENGTH,
            f"at most {MAX_LENGTH} characters; split it into several steps",
        )
    if not text.strip():
        raise ExpressionSyntaxError("empty expression", 0, "write a value or a condition here")


def _lark_parse(text: str) -> Node:
    try:
        return cast(Node, _parser().parse(text))
    except UnexpectedCharacters as err:
        raise character_error(text, err.pos_in_stream or 0) from None
    except UnexpectedToken as err:
        raise token_error(text, err, _parser().lex) from None
    except UnexpectedEOF:  # LALR reports the end as a `$END` token; kept for safety
        raise ExpressionSyntaxError("unexpected end of expression", len(text.rstrip())) from None


def _check_nesting(text: str) -> None:
    """Reject bracket nesting past MAX_DEPTH before Lark sees the text."""
    if text.count("(") + text.count("[") <= MAX_DEPTH:
        return  # too few brackets to nest too deeply: skip the scan
    depth = 0
    for match in _BRACKETS.finditer(text):
        if match.lastgroup == "open":
            depth += 1
            if depth > MAX_DEPTH:
                raise ExpressionSyntaxError(_TOO_DEEP, match.start(), _TOO_DEEP_HINT)
        elif match.lastgroup == "close":
            depth -= 1


def _check_depth(root: Node, text: str) -> None:
    """Reject trees deeper than MAX_DEPTH, e.g. `not not not ...` or a very long `a + b + ...`."""
    if len(text) <= MAX_DEPTH:
        return  # every node owns at least one character, so the tree cannot be that deep
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionSyntaxError(_TOO_DEEP, node.offset, _TOO_DEEP_HINT)
        stack.extend((child, depth + 1) for child in children(node))


# --- templates --------------------------------------------------------------------------------

# Strings are skipped so a `}}` inside quotes does not end the interpolation. An unclosed quote
# is not skipped, so the next `}}` still ends it and the parser reports the unterminated string.
_TEMPLATE_CLOSE = re.compile(r"""\}\}|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""", re.DOTALL)


def parse_template(text: str) -> Template:
    """Parse a text with `{{ expr }}` interpolations; node offsets count in the whole text."""
    if "{{" not in text:
        return Template((text,) if text else ())
    return _parse_template_cached(text)


@functools.lru_cache(maxsize=1024)
def _parse_template_cached(text: str) -> Template:
    parts: list[str | Node] = []
    pos = 0
    while (start := text.find("{{", pos)) != -1:
        if start > pos:
            parts.append(text[pos:start])
        end = _closing_braces(text, start)
        parts.append(_interpolation(text, start, end))
        pos = end + 2
    if pos < len(text):
        parts.append(text[pos:])
    return Template(tuple(parts))


def _closing_braces(text: str, start: int) -> int:
    for match in _TEMPLATE_CLOSE.finditer(text, start + 2):
        if match.group() == "}}":
            return match.start()
    raise ExpressionSyntaxError("unterminated '{{'", start, "close it with '}}'")


def _interpolation(text: str, start: int, end: int) -> Node:
    inner = text[start + 2 : end]
    if not inner.strip():
        raise ExpressionSyntaxError(
            "empty '{{ }}'", start, "put an expression inside, e.g. {{ contact.display_name }}"
        )
    try:
        node = parse_expression(inner)
    except ExpressionSyntaxError as err:
        raise ExpressionSyntaxError(err.message, err.offset + start + 2, err.hint) from None
    return _shift(node, start + 2)


def _shift(node: Node, delta: int) -> Node:
    """The same tree with every offset moved by `delta`."""
    offset = node.offset + delta
    match node:
        case Binary():
            return replace(
                node, left=_shift(node.left, delta), right=_shift(node.right, delta), offset=offset
            )
        case Unary():
            return replace(node, operand=_shift(node.operand, delta), offset=offset)
        case Call():
            return replace(node, args=tuple(_shift(a, delta) for a in node.args), offset=offset)
        case ListExpr():
            return replace(node, items=tuple(_shift(i, delta) for i in node.items), offset=offset)
        case _:
            return replace(node, offset=offset)
