"""Run-time meaning of expressions and templates.

Facts are a nested mapping: `{"contact": {...}, "conversation": {...}, "visitor": {...},
"message": {...}, "vars": {...}}`. Only paths in the vocabulary are read, only through mapping
lookups; a missing field, or a missing root, reads as `null`.

Semantics:

- `and` / `or` short-circuit and need true/false on each side they evaluate; `null` counts as
  false. The result is always true or false.
- `not x` needs true/false; `not null` is true.
- `==` / `!=` are strict: `1 == "1"` is false, `1 == 1.0` is true, `true == 1` is false (bools
  are not numbers), lists are equal when their items are, item by item.
- `<`, `<=`, `>`, `>=` order two numbers or two strings; if either side is `null` the answer
  is false; any other mix is an error.
- `x in xs` is true when a list holds an item equal to `x` (as `==`), or when a string holds
  the string `x`; on a `null` container it is false, so `x not in null` is true. A `null`
  item is never found in a string. `xs contains x` is `x in xs`.
- `text matches pattern` is `re.search` with Python regex syntax; false when `text` is `null`.
- `+` adds two numbers or joins two strings; `-`, `*`, `/`, `%` need numbers; `/` always
  divides exactly (`7 / 2` is 3.5). Dividing by zero is an error, and so is arithmetic on
  `null` (a missing field), so a typo in a variable name does not pass silently.
- `lower(x)` / `upper(x)` give `null` for `null`; `len(null)` is 0; `now()` is the clock value
  given to the evaluator, in seconds since the epoch.
- Every other clash of types raises `EvaluationError` naming the operator and the types.

Templates render `null` as empty text, `true`/`false` in lower case, whole numbers without
`.0`, and lists as their items joined by ", ".
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, cast

from dsl.errors import EvaluationError
from dsl.expressions import MAX_DEPTH, Binary, Call, ListExpr, Literal, Node, Path, Template, Unary
from dsl.vocabulary import field_type


class _Context(NamedTuple):
    facts: Mapping[str, Any]
    now: float


_Run = Callable[[_Context], Any]
"""An expression or template made into Python: give it the facts, it gives the value."""


def evaluate(node: Node, facts: Mapping[str, Any], now: float) -> Any:
    """The value of an expression for the given facts; raises EvaluationError on a clash."""
    return _made(node, _make)(_Context(facts, now))


def render(template: Template, facts: Mapping[str, Any], now: float) -> str:
    """The template's text with each `{{ expr }}` replaced by its value."""
    return str(_made(template, _make_template)(_Context(facts, now)))


def render_data(value: Any, facts: Mapping[str, Any], now: float) -> Any:
    """Plain JSON-ready data from frozen flow data (a webhook body), each template rendered."""
    if isinstance(value, Template):
        return render(value, facts, now)
    if isinstance(value, Mapping):  # nesting is capped when the flow is read
        return {key: render_data(item, facts, now) for key, item in value.items()}
    if isinstance(value, tuple):
        return [render_data(item, facts, now) for item in value]
    return value


def format_value(value: Any) -> str:
    """How a value reads inside a message."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(format_value(item) for item in value)
    return str(value)


# --- expressions made into closures, once per node
#
# Walking the tree for every event was a fifth of the engine's work per event; each node is
# made into a closure the first time it is evaluated, and a flow's nodes live as long as its
# version, so that is once per flow version. The closures keep the walk's semantics exactly,
# errors included: a clash raises when evaluated, not when made, so a short-circuit still
# skips it.

_MADE: dict[int, tuple[object, _Run]] = {}  # id(node) -> (node, closure): the node is held,
_MADE_MAX = 100_000  # so its id is never reused while cached; emptied when this many


def _made(node: Any, make: Callable[[Any], _Run]) -> _Run:
    found = _MADE.get(id(node))
    if found is not None and found[0] is node:
        return found[1]
    if len(_MADE) >= _MADE_MAX:  # many reloads' worth: the running flows make theirs again
        _MADE.clear()
    run = make(node)
    _MADE[id(node)] = (node, run)
    return run


def _make_template(template: Template) -> _Run:
    if all(isinstance(part, str) for part in template.parts):  # nothing to evaluate
        text = "".join(cast(tuple[str, ...], template.parts))
        return lambda _: text
    parts = [part if isinstance(part, str) else _make(part) for part in template.parts]
    # a list, not a generator: join makes one of a generator first anyway
    return lambda context: "".join(
        [part if isinstance(part, str) else format_value(part(context)) for part in parts]
    )


def _make(node: Node, depth: int = 1) -> _Run:
    if depth > MAX_DEPTH:  # parsed trees are capped already; this guards hand-built ones
        return _failing("expression nested too deeply")
    match node:
        case Literal():
            value = node.value
            return lambda _: value
        case Path():
            return _make_read(node.parts)
        case ListExpr():
            items = [_make(item, depth + 1) for item in node.items]
            return lambda context: [item(context) for item in items]
        case Call():
            return _make_call(node, depth)
        case Unary():
            op, operand = node.op, _make(node.operand, depth + 1)
            return lambda context: _unary(op, operand(context))
        case Binary():
            return _make_binary(node, depth)


def _failing(message: str) -> _Run:
    def fail(_: _Context) -> Any:
        raise EvaluationError(message)

    return fail


def _make_read(parts: tuple[str, ...]) -> _Run:
    if field_type(parts) is None:
        return _failing(f"flows cannot read '{'.'.join(parts)}'")

    def read(context: _Context) -> Any:
        value: Any = context.facts
        for part in parts:
            if not isinstance(value, Mapping):
                return None  # a deeper read into a non-mapping variable is simply missing
            value = value.get(part)
        return value

    return read


# --- functions


def _lower(value: Any) -> Any:
    return None if value is None else _need_string("lower()", value).lower()


def _upper(value: Any) -> Any:
    return None if value is None else _need_string("upper()", value).upper()


def _length(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str | list | tuple):
        return len(value)
    raise EvaluationError(f"len() needs a string or a list, got {_kind(value)}")


_FUNCTIONS: Mapping[str, Callable[[Any], Any]] = {"lower": _lower, "upper": _upper, "len": _length}


def _make_call(node: Call, depth: int) -> _Run:
    args = [_make(arg, depth + 1) for arg in node.args]
    if node.name == "now" and not args:
        return lambda context: context.now
    function = _FUNCTIONS.get(node.name)
    if function is None or len(args) != 1:
        message = f"cannot call {node.name}() with {len(args)} argument(s)"

        def refuse(context: _Context) -> Any:
            for arg in args:  # as a call does: its arguments first
                arg(context)
            raise EvaluationError(message)

        return refuse
    (arg,) = args
    return lambda context: function(arg(context))


# --- operators


def _unary(op: str, value: Any) -> Any:
    if op == "not":
        return not _truth("not", value)
    if op != "-":
        raise EvaluationError(f"unknown operator '{op}'")
    if _is_number(value):
        return -value
    raise EvaluationError(f"'-' needs a number, got {_kind(value)}")


def _make_binary(node: Binary, depth: int) -> _Run:
    op, left, right = node.op, _make(node.left, depth + 1), _make(node.right, depth + 1)
    if op in ("and", "or"):
        decided = op == "or"  # what the left side must be for the right to be skipped

        def logic(context: _Context) -> bool:
            if _truth(op, left(context)) == decided:
                return decided
            return _truth(op, right(context))

        return logic
    apply = _OPERATORS.get(op)
    if apply is None:  # only a hand-built tree can carry an operator the grammar lacks
        message = f"unknown operator '{op}'"

        def refuse(context: _Context) -> Any:
            left(context)
            right(context)
            raise EvaluationError(message)

        return refuse
    return lambda context: apply(op, left(context), right(context))


def _truth(op: str, value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise EvaluationError(f"'{op}' needs true or false, got {_kind(value)}")


def _equal(left: Any, right: Any) -> bool:
    """Strict equality: no bool/number mixing, no string/number mixing."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(_equal, left, right))
    return type(left) is type(right) and bool(left == right)


def _ordering(op: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return False
    numbers = _is_number(left) and _is_number(right)
    if not numbers and not (isinstance(left, str) and isinstance(right, str)):
        raise EvaluationError(f"cannot compare {_kind(left)} with {_kind(right)} using '{op}'")
    return bool(_COMPARE[op](left, right))


def _contains(op: str, container: Any, item: Any) -> bool:
    if container is None:
        return False
    if isinstance(container, list | tuple):
        return any(_equal(element, item) for element in container)
    if not isinstance(container, str):
        raise EvaluationError(f"'{op}' needs a list or a string to look in, got {_kind(container)}")
    if item is None:
        return False
    if not isinstance(item, str):
        raise EvaluationError(f"'{op}' finds only a string in a string, got {_kind(item)}")
    return item in container


def _matches(left: Any, right: Any) -> bool:
    pattern = _need_string("matches", right)
    if left is None:
        return False
    return _compiled(pattern).search(_need_string("matches", left)) is not None


REGEX_ERRORS = (re.error, RecursionError, OverflowError)
"""What `re.compile` raises for a pattern it cannot compile (deep nesting, huge repeats)."""


def regex_problem(err: BaseException) -> str:
    """Why a pattern did not compile, in words for flow authors."""
    if isinstance(err, re.error):
        return err.msg
    if isinstance(err, RecursionError):
        return "groups nested too deeply"
    return "a repeat count is too large"


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except REGEX_ERRORS as err:
        raise EvaluationError(f"bad regular expression {pattern!r}: {regex_problem(err)}") from None


def _arithmetic(op: str, left: Any, right: Any) -> Any:
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if not (_is_number(left) and _is_number(right)):
        raise EvaluationError(f"'{op}' needs two numbers, got {_kind(left)} and {_kind(right)}")
    if op in ("/", "%") and right == 0:
        raise EvaluationError("division by zero")
    try:
        return _ARITHMETIC[op](left, right)
    except OverflowError:  # a huge whole number met a decimal one
        raise EvaluationError(f"'{op}' result is too large") from None


_COMPARE: Mapping[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITHMETIC: Mapping[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "%": operator.mod,
}
_OPERATORS: Mapping[str, Callable[[str, Any, Any], Any]] = {
    "==": lambda _, left, right: _equal(left, right),
    "!=": lambda _, left, right: not _equal(left, right),
    "in": lambda op, left, right: _contains(op, right, left),
    "not in": lambda op, left, right: not _contains(op, right, left),
    "contains": _contains,
    "matches": lambda _, left, right: _matches(left, right),
    **dict.fromkeys(_COMPARE, _ordering),
    **dict.fromkeys(_ARITHMETIC, _arithmetic),
}


# --- values


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _need_string(op: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    raise EvaluationError(f"'{op}' needs a string, got {_kind(value)}")


def _kind(value: Any) -> str:
    """A value's type in the flow language's words, for error messages."""
    if value is None:
        return "null (a missing value)"
    if isinstance(value, bool):
        return "a bool"
    if _is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"
