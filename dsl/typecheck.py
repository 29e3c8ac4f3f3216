"""Static checks of expressions against the vocabulary: fields, functions, types and regexes.

`infer` walks the whole tree and reports every issue, not just the first. A sub-expression
that already has an issue is given the type `any`, so one mistake is reported once instead of
again by every operator above it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from dsl.errors import ExpressionSyntaxError
from dsl.evaluate import REGEX_ERRORS, regex_problem
from dsl.expressions import MAX_DEPTH, Binary, Call, ListExpr, Literal, Node, Path, Unary
from dsl.vocabulary import FIELDS, FUNCTIONS, VARS_ROOT, Type, field_type


@dataclass(frozen=True)
class TypeIssue:
    """One problem found in an expression; `offset` counts from 0 in the expression's text."""

    offset: int
    message: str
    rule: str
    hint: str | None = None


_ORDERING = frozenset({"<", "<=", ">", ">="})
_EQUALITY = frozenset({"==", "!="})
_ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})
_LOGIC = frozenset({"and", "or"})
_MEMBERSHIP = frozenset({"in", "not in"})
_ARTICLE = {"any": "a value of any type", "null": "null", "list": "a list", "bool": "a bool"}


def infer(node: Node) -> tuple[Type, tuple[TypeIssue, ...]]:
    """The type of an expression and every issue found in it."""
    checker = _Checker()
    result = checker.visit(node)
    return result, tuple(checker.issues)


def _fits(actual: Type, allowed: tuple[Type, ...]) -> bool:
    return actual == "any" or actual in allowed


def _described(kind: Type) -> str:
    return _ARTICLE.get(kind, f"a {kind}")


def _did_you_mean(word: str, choices: list[str]) -> str | None:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"did you mean '{close[0]}'?" if close else None


class _Checker:
    """Walks one expression, collecting issues; recursion is bounded by the parser's depth cap."""

    def __init__(self) -> None:
        self.issues: list[TypeIssue] = []
        self._depth = 0

    def report(self, offset: int, message: str, rule: str, hint: str | None = None) -> None:
        """Record one issue."""
        self.issues.append(TypeIssue(offset, message, rule, hint))

    def visit(self, node: Node) -> Type:
        """The type of `node`, recording issues found in it."""
        self._depth += 1
        if self._depth > MAX_DEPTH:  # only a hand-built tree can get here; parsed ones are capped
            raise ExpressionSyntaxError("expression nested too deeply", node.offset)
        try:
            return self._dispatch(node)
        finally:
            self._depth -= 1

    def _dispatch(self, node: Node) -> Type:
        match node:
            case Literal():
                return _literal_type(node.value)
            case ListExpr():
                for item in node.items:
                    self.visit(item)
                return "list"
            case Path():
                return self.path(node)
            case Call():
                return self.call(node)
            case Unary():
                return self.unary(node)
            case Binary():
                return self.binary(node)

    # --- fields and functions

    def path(self, node: Path) -> Type:
        """A field read: its vocabulary type, or `any` after reporting an unknown field."""
        found = field_type(node.parts)
        if found is not None:
            return found
        root = node.parts[0]
        if root not in FIELDS:
            self._unknown_root(node)
        elif len(node.parts) == 1:
            self._bare_root(node)
        elif node.parts[1] not in FIELDS[root]:
            hint = _did_you_mean(node.parts[1], list(FIELDS[root]))
            message = f"unknown field '{node.parts[1]}' on {root}"
            self.report(node.part_offset(1), message, "unknown-field", hint)
        else:
            message = f"'{root}.{node.parts[1]}' has no fields"
            self.report(node.part_offset(2), message, "unknown-field")
        return "any"

    def _unknown_root(self, node: Path) -> None:
        root = node.parts[0]
        if len(node.parts) == 1:  # a bare word is most often text that lost its quotes
            hint = f'to compare with the text, quote it: "{root}"'
        else:
            hint = _did_you_mean(root, list(FIELDS)) or f"flows can read {', '.join(FIELDS)}"
        self.report(node.offset, f"unknown name '{root}'", "unknown-field", hint)

    def _bare_root(self, node: Path) -> None:
        root = node.parts[0]
        example = "vars.coupon_code" if root == VARS_ROOT else f"{root}.id"
        message = f"'{root}' needs a field name"
        self.report(node.offset, message, "unknown-field", f"for example '{example}'")

    def call(self, node: Call) -> Type:
        """A function call: checks name, arity and argument types."""
        arg_types = [self.visit(arg) for arg in node.args]
        signature = FUNCTIONS.get(node.name)
        if signature is None:
            hint = _did_you_mean(node.name, list(FUNCTIONS))
            self.report(node.offset, f"unknown function '{node.name}'", "unknown-function", hint)
            return "any"
        if len(arg_types) != len(signature.params):
            self.report(node.offset, _arity_message(node, len(signature.params)), "arity")
            return signature.result
        for arg, actual, allowed in zip(node.args, arg_types, signature.params, strict=True):
            if not _fits(actual, allowed):
                wanted = " or ".join(_described(kind) for kind in allowed)
                message = f"{node.name}() needs {wanted}, got {_described(actual)}"
                self.report(arg.offset, message, "type-mismatch")
        return signature.result

    # --- operators

    def unary(self, node: Unary) -> Type:
        """`not x` needs a bool, `-x` a number."""
        operand = self.visit(node.operand)
        wanted: Type = "bool" if node.op == "not" else "number"
        if not _fits(operand, (wanted,)):
            message = f"'{node.op}' needs {_described(wanted)}, got {_described(operand)}"
            self.report(node.operand.offset, message, "type-mismatch")
        return wanted

    def binary(self, node: Binary) -> Type:
        """Any infix operator; both sides are always checked."""
        left, right = self.visit(node.left), self.visit(node.right)
        op = node.op
        if op in _LOGIC:
            return self._logic(node, left, right)
        if op in _ARITHMETIC:
            return self._arithmetic(node, left, right)
        if op in _EQUALITY or op in _ORDERING:
            self._comparison(node, left, right)
        elif op in _MEMBERSHIP:
            self._container(node, node.right, right, node.left, left)
        elif op == "contains":
            self._container(node, node.left, left, node.right, right)
        elif op == "matches":
            self._matches(node, left, right)
        return "bool"

    def _logic(self, node: Binary, left: Type, right: Type) -> Type:
        for side, kind in ((node.left, left), (node.right, right)):
            if not _fits(kind, ("bool",)):
                message = f"'{node.op}' needs true/false on both sides, got {_described(kind)}"
                self.report(side.offset, message, "type-mismatch")
        return "bool"

    def _arithmetic(self, node: Binary, left: Type, right: Type) -> Type:
        if node.op == "+" and (joined := self._plus(node, left, right)) is not None:
            return joined
        for side, kind in ((node.left, left), (node.right, right)):
            if not _fits(kind, ("number",)):
                message = f"'{node.op}' needs numbers, got {_described(kind)}"
                self.report(side.offset, message, "type-mismatch")
        return "number"

    def _plus(self, node: Binary, left: Type, right: Type) -> Type | None:
        """`+` on strings joins them; None means it is a numeric addition."""
        if left == right == "any":
            return "any"  # could be either at run time
        if "string" not in (left, right):
            return None
        if _fits(left, ("string",)) and _fits(right, ("string",)):
            return "string"
        message = f"cannot add {_described(left)} and {_described(right)} with '+'"
        hint = "'+' joins two strings or adds two numbers"
        self.report(node.offset, message, "type-mismatch", hint)
        return "any"

    def _comparison(self, node: Binary, left: Type, right: Type) -> None:
        if "any" in (left, right) or _comparable(node.op, left, right):
            return
        message = f"cannot compare {left} with {right} using '{node.op}'"
        self.report(node.offset, message, "type-mismatch")

    def _container(
        self, node: Binary, container: Node, c_type: Type, item: Node, i_type: Type
    ) -> None:
        """`item in container` and `container contains item`."""
        if not _fits(c_type, ("list", "string")):
            message = f"'{node.op}' needs a list or a string to look in, got {_described(c_type)}"
            self.report(container.offset, message, "type-mismatch")
        elif c_type == "string" and not _fits(i_type, ("string",)):
            message = f"only a string can be found in a string, got {_described(i_type)}"
            self.report(item.offset, message, "type-mismatch")

    def _matches(self, node: Binary, left: Type, right: Type) -> None:
        for side, kind in ((node.left, left), (node.right, right)):
            if not _fits(kind, ("string",)):
                message = f"'matches' needs strings on both sides, got {_described(kind)}"
                self.report(side.offset, message, "type-mismatch")
        pattern = node.right
        if isinstance(pattern, Literal) and isinstance(pattern.value, str):
            try:
                re.compile(pattern.value)
            except REGEX_ERRORS as err:
                message = f"bad regular expression: {regex_problem(err)}"
                self.report(pattern.offset, message, "bad-regex")


def _literal_type(value: object) -> Type:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    return "number"


def _comparable(op: str, left: Type, right: Type) -> bool:
    if op in _EQUALITY:
        return left == right or "null" in (left, right)
    return left == right and left in ("number", "string")


def _arity_message(node: Call, wanted: int) -> str:
    takes = {0: "no arguments", 1: "1 argument"}.get(wanted, f"{wanted} arguments")
    return f"{node.name}() takes {takes}, got {len(node.args)}"
