"""Parse-error wording: Lark's exceptions said the way a flow author needs them.

Lark reports a failure as "unexpected token X, expected one of {...terminal names}". This
module turns that into "expected a value after 'and'" or "'&&' is not an operator; did you
mean 'and'?", pointing at the offending character. It knows the grammar's terminal names
(see `grammar.lark`) but not the parser: the caller passes in a lexer for the text before
the failure, so this module imports nothing from `dsl.expressions`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from lark import Token
from lark.exceptions import UnexpectedToken

from dsl.errors import ExpressionSyntaxError

Lexer = Callable[[str], Iterable[Token]]
"""Tokenises a piece of expression text with the grammar's own lexer."""

# Only tokens that can do nothing but start a value: after a name Lark also expects '(' (a call).
_VALUE_STARTS = frozenset({"STRING", "NUMBER", "NAME"})
_VALUE_ENDS = frozenset({"STRING", "NUMBER", "NAME", "TRUE", "FALSE", "NULL", "_RPAR", "_RSQB"})
_COMPARISONS = frozenset({"EQ", "NE", "LT", "LE", "GT", "GE", "IN", "NOT", "CONTAINS", "MATCHES"})
_CLOSERS = {"_RPAR": ")", "_RSQB": "]"}
_TOKEN_WORDS = {"NAME": "name '{}'", "NUMBER": "number {}", "STRING": "string {}"}
_NOT_OPERATORS = {
    "&&": "and",
    "||": "or",
    "=<": "<=",
    "=>": ">=",
    "&": "and",
    "|": "or",
    "!": "not",
    "=": "==",
}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")


def character_error(text: str, pos: int) -> ExpressionSyntaxError:
    """Word a lexer failure: no token starts at `pos`."""
    char = text[pos]
    if char in "\"'":
        return ExpressionSyntaxError("unterminated string", pos, f"close it with {char}")
    for wrong, right in _NOT_OPERATORS.items():
        if text.startswith(wrong, pos):
            return ExpressionSyntaxError(
                f"'{wrong}' is not an operator", pos, f"did you mean '{right}'?"
            )
    if char == "." and text[pos + 1 : pos + 2].isupper():
        return _upper_case_error(text, pos + 1)
    if char == "." and pos > 0 and (text[pos - 1].isalnum() or text[pos - 1] == "_"):
        return ExpressionSyntaxError("expected a field name after '.'", pos + 1)
    if char.isascii() and char.isalpha():
        return _upper_case_error(text, pos)
    return ExpressionSyntaxError(f"unexpected character {char!r}", pos)


def _upper_case_error(text: str, pos: int) -> ExpressionSyntaxError:
    start = pos
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_."):
        start -= 1
    match = _WORD.match(text, start)
    word = match.group() if match else text[pos]
    return ExpressionSyntaxError(
        "names are written in lower case", start, f"did you mean '{word.lower()}'?"
    )


def token_error(text: str, err: UnexpectedToken, lex: Lexer) -> ExpressionSyntaxError:
    """Word a parser failure in terms of values, operators and brackets."""
    token: Token = err.token
    at_end = token.type == "$END"
    pos = len(text.rstrip()) if at_end else (token.start_pos or 0)
    before = list(lex(text[:pos]))
    message, hint = _wording(token, set(err.expected), before, at_end)
    return ExpressionSyntaxError(message, pos, hint)


def _wording(
    token: Token, expected: set[str], before: list[Token], at_end: bool
) -> tuple[str, str | None]:
    opener, after = _innermost_opener(before), _operator_before(before)
    unexpected = "unexpected end of expression" if at_end else f"unexpected {_describe(token)}"
    if expected & _VALUE_STARTS and after:
        # Mid-text the offending token is under the caret already; naming the operator helps more.
        return (f"{unexpected}; " if at_end else "") + f"expected a value after '{after}'", None
    if expected & _VALUE_STARTS:
        return f"{unexpected}; expected a value", None
    if expected == {"IN"}:
        prefix = f"{unexpected}; " if at_end else ""
        return f"{prefix}expected 'in' after 'not'", "did you mean 'not in'?"
    if token.type in _COMPARISONS and not expected & _COMPARISONS:
        return "comparisons cannot be chained", "join them with 'and': a < b and b < c"
    if token.type in _CLOSERS and opener is None:
        return f"unexpected '{token}'", "nothing was opened before it"
    if at_end and opener is not None:
        return f"{unexpected}; expected '{_closer_of(opener)}'", None
    return f"{unexpected}; expected {_wanted(expected, opener)}", None


def _operator_before(before: list[Token]) -> str | None:
    """The operator just before the failure, if the last token was one (`not in` kept whole)."""
    if not before or before[-1].type in _VALUE_ENDS | {"_LPAR", "LSQB", "_COMMA"}:
        return None
    if before[-1].type == "IN" and len(before) > 1 and before[-2].type == "NOT":
        return "not in"
    return str(before[-1])


def _innermost_opener(before: list[Token]) -> str | None:
    """The innermost bracket still open: '(' for grouping, 'f(' for a call, '[' for a list."""
    stack: list[str] = []
    for index, token in enumerate(before):
        if token.type == "_LPAR":
            called = index > 0 and before[index - 1].type == "NAME"
            stack.append("f(" if called else "(")
        elif token.type == "LSQB":
            stack.append("[")
        elif token.type in _CLOSERS and stack:
            stack.pop()
    return stack[-1] if stack else None


def _closer_of(opener: str) -> str:
    return "]" if opener == "[" else ")"


def _wanted(expected: set[str], opener: str | None) -> str:
    choices = ["an operator"] if expected - _CLOSERS.keys() - {"_COMMA", "$END"} else []
    if opener in ("f(", "["):
        choices.append("','")
    if opener is not None:
        choices.append(f"'{_closer_of(opener)}'")
    if len(choices) < 2:
        return choices[0] if choices else "the end of the expression"
    return f"{', '.join(choices[:-1])} or {choices[-1]}"


def _describe(token: Token) -> str:
    shown = token if len(token) <= 24 else token[:20] + "..."
    return _TOKEN_WORDS.get(token.type, "'{}'").format(shown)
