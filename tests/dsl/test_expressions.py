"""Expressions and templates: parsing, error wording, type checks and evaluation."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.errors import EvaluationError, ExpressionSyntaxError
from dsl.evaluate import evaluate, format_value, render, render_data
from dsl.expressions import (
    MAX_DEPTH,
    Binary,
    Call,
    ListExpr,
    Literal,
    Node,
    Path,
    Template,
    Unary,
    fields_read,
    parse_expression,
    parse_template,
)
from dsl.typecheck import TypeIssue, infer
from dsl.vocabulary import FIELDS, FUNCTIONS, field_type

NOW = 1_700_000_000.0
FACTS: dict[str, Any] = {
    "contact": {
        "name": "Ann",
        "email": "ann@example.com",
        "channel": "messenger",
        "tags": ["vip", "new"],
    },
    "conversation": {"status": "open", "tags": []},
    "visitor": {"is_new": True},
    "message": {"text": "Hello World"},
    "vars": {"count": 2, "price": 2.5, "empty": None, "items": [1, "a"], "deep": {"k": "v"}},
}


def sexpr(node: Node) -> str:
    """A compact, offset-free spelling of a tree, so expected shapes fit on one line."""
    match node:
        case Literal():
            return repr(node.value)
        case Path():
            return ".".join(node.parts)
        case ListExpr():
            return "[" + " ".join(sexpr(item) for item in node.items) + "]"
        case Call():
            return f"({node.name}() " + " ".join(sexpr(arg) for arg in node.args) + ")"
        case Unary():
            return f"({node.op} {sexpr(node.operand)})"
        case Binary():
            return f"({node.op} {sexpr(node.left)} {sexpr(node.right)})"


def run(text: str, facts: dict[str, Any] | None = None) -> Any:
    return evaluate(parse_expression(text), FACTS if facts is None else facts, NOW)


def syntax_error(text: str) -> ExpressionSyntaxError:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse_expression(text)
    return caught.value


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("a or b and c", "(or a (and b c))"),
        ("a and b or c", "(or (and a b) c)"),
        ("a or b or c", "(or (or a b) c)"),
        ("a and b and c", "(and (and a b) c)"),
        ("not a and b", "(and (not a) b)"),
        ("not a == b", "(not (== a b))"),
        ("not not a", "(not (not a))"),
        ("a + b * c", "(+ a (* b c))"),
        ("a - b - c", "(- (- a b) c)"),
        ("a / b % c", "(% (/ a b) c)"),
        ("a * (b + c)", "(* a (+ b c))"),
        ("-a * b", "(* (- a) b)"),
        ("- -a", "(- (- a))"),
        ("a == -1", "(== a (- 1))"),
        ("a + 1 < b * 2", "(< (+ a 1) (* b 2))"),
        ("(a or b) and c", "(and (or a b) c)"),
        ("a not in b or c contains d", "(or (not in a b) (contains c d))"),
        ("x matches 'y' and true", "(and (matches x 'y') True)"),
        ("a != b", "(!= a b)"),
        ("a <= b", "(<= a b)"),
        ("a >= b", "(>= a b)"),
        ("a > b", "(> a b)"),
        ("a in [1, b.c]", "(in a [1 b.c])"),
        ("len(lower(x)) > 0", "(> (len() (lower() x)) 0)"),
        ("now()", "(now() )"),
        ("android or notes", "(or android notes)"),
    ],
)
def test_precedence_and_associativity(text: str, tree: str) -> None:
    assert sexpr(parse_expression(text)) == tree


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"hi"', "hi"),
        ("'hi'", "hi"),
        ('"say \\"yes\\""', 'say "yes"'),
        ("'it\\'s'", "it's"),
        ('"a\\\\b"', "a\\b"),
        ('"line\\nnext\\ttab"', "line\nnext\ttab"),
        ('"\\d+"', "\\d+"),  # unknown escapes keep their backslash, for regexes
        ('"it\'s"', "it's"),
        ('""', ""),
        ("42", 42),
        ("3.25", 3.25),
        ("0", 0),
        ("true", True),
        ("false", False),
        ("null", None),
    ],
)
def test_literals(text: str, value: object) -> None:
    node = parse_expression(text)
    assert isinstance(node, Literal)
    assert node.value == value
    assert type(node.value) is type(value)


def test_lists() -> None:
    assert parse_expression('[1, "a", x.y]') == ListExpr(
        (Literal(1), Literal("a"), Path(("x", "y")))
    )
    assert parse_expression("[]") == ListExpr(())
    assert sexpr(parse_expression("[[1], []]")) == "[[1] []]"


def test_offsets_point_at_each_node() -> None:
    node = parse_expression('contact.email == "x" and not lower(y) in [1]')
    assert isinstance(node, Binary)
    comparison, negation = node.left, node.right
    assert isinstance(comparison, Binary)
    assert (node.offset, comparison.offset, comparison.right.offset) == (0, 0, 17)
    assert isinstance(negation, Unary)
    assert negation.offset == 25
    membership = negation.operand
    assert isinstance(membership, Binary)
    assert (membership.left.offset, membership.right.offset) == (29, 41)


def test_offsets_are_not_part_of_equality() -> None:
    assert parse_expression("  a == 1") == parse_expression("a == 1")
    assert Path(("contact", "email"), 4).part_offset(1) == 12


def test_parse_is_cached() -> None:
    assert parse_expression("vars.cached == 1") is parse_expression("vars.cached == 1")


@pytest.mark.parametrize(
    ("text", "message", "offset", "hint"),
    [
        ("a and", "unexpected end of expression; expected a value after 'and'", 5, None),
        ("a ==", "unexpected end of expression; expected a value after '=='", 4, None),
        ("a not in ", "unexpected end of expression; expected a value after 'not in'", 8, None),
        ("a and )", "expected a value after 'and'", 6, None),
        ("1 + (2 *)", "expected a value after '*'", 8, None),
        ("a)", "unexpected ')'", 1, "nothing was opened before it"),
        ("()", "unexpected ')'; expected a value", 1, None),
        ("and b", "unexpected 'and'; expected a value", 0, None),
        ("a b", "unexpected name 'b'; expected an operator", 2, None),
        ('a "b"', 'unexpected string "b"; expected an operator', 2, None),
        ("f(a b)", "unexpected name 'b'; expected an operator, ',' or ')'", 4, None),
        ("[1, 2)", "unexpected ')'; expected ',' or ']'", 5, None),
        ("(a", "unexpected end of expression; expected ')'", 2, None),
        ("[1, 2", "unexpected end of expression; expected ']'", 5, None),
        ('"abc', "unterminated string", 0, 'close it with "'),
        ("x == 'abc", "unterminated string", 5, "close it with '"),
        ("a = b", "'=' is not an operator", 2, "did you mean '=='?"),
        ("a && b", "'&&' is not an operator", 2, "did you mean 'and'?"),
        ("a || b", "'||' is not an operator", 2, "did you mean 'or'?"),
        ("!a", "'!' is not an operator", 0, "did you mean 'not'?"),
        ("a =< b", "'=<' is not an operator", 2, "did you mean '<='?"),
        ("a < b < c", "comparisons cannot be chained", 6, "join them with 'and': a < b and b < c"),
        ("a not b", "expected 'in' after 'not'", 6, "did you mean 'not in'?"),
        ("True", "names are written in lower case", 0, "did you mean 'true'?"),
        (
            "x == Contact.email",
            "names are written in lower case",
            5,
            "did you mean 'contact.email'?",
        ),
        ("contact.", "expected a field name after '.'", 8, None),
        ("a # b", "unexpected character '#'", 2, None),
        (
            "contact.name(1)",
            "'contact.name' is a field, not a function",
            0,
            "only functions can be called",
        ),
        ("", "empty expression", 0, "write a value or a condition here"),
        (" \n\t", "empty expression", 0, "write a value or a condition here"),
    ],
)
def test_syntax_errors_read_for_flow_authors(
    text: str, message: str, offset: int, hint: str | None
) -> None:
    err = syntax_error(text)
    assert (err.message, err.offset, err.hint) == (message, offset, hint)


def test_syntax_errors_never_show_lark_terminal_names() -> None:
    for text in ["a and", "a b", "(a", "f(,)", "[1,,2]", "a not", "- and", "a in in b"]:
        assert not any(name in syntax_error(text).message for name in ("_RPAR", "NAME", "$END"))


@pytest.mark.parametrize(
    "text",
    [
        "(" * 10_000,
        "(" * 10_000 + "1" + ")" * 10_000,
        "[" * 65 + "]" * 65,
        "not " * 100 + "true",
        "-" * 1_000 + "1",
        "1" + "+1" * 500,
        "f(" * 70 + ")" * 70,
    ],
)
def test_deep_nesting_is_a_syntax_error(text: str) -> None:
    assert syntax_error(text).message == "expression nested too deeply"


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert parse_expression('"' + "(" * 100 + '"') == Literal("(" * 100)


def test_nesting_up_to_the_limit_parses_checks_and_runs() -> None:
    text = "not " * (MAX_DEPTH - 1) + "true"
    node = parse_expression(text)
    assert infer(node) == ("bool", ())
    assert run(text) is False  # 63 negations of true
    assert run("(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH) == 1


def test_too_long() -> None:
    err = syntax_error("a" * 2_001)
    assert (err.message, err.offset) == ("expression too long (2001 characters)", 2_000)
    assert parse_expression("a" * 2_000) == Path(("a" * 2_000,))


def test_hand_built_deep_trees_are_refused_by_checker_and_evaluator() -> None:
    node: Node = Literal(True)
    for _ in range(MAX_DEPTH + 5):
        node = Unary("not", node)
    with pytest.raises(ExpressionSyntaxError):
        infer(node)
    with pytest.raises(EvaluationError):
        evaluate(node, FACTS, NOW)


@settings(max_examples=300, deadline=None, database=None)
@given(text=st.text())
def test_any_text_parses_or_raises_a_syntax_error(text: str) -> None:
    outcome: Node | ExpressionSyntaxError
    try:
        outcome = parse_expression(text)
    except ExpressionSyntaxError as err:  # anything else fails the test
        outcome = err
    if isinstance(outcome, ExpressionSyntaxError):
        assert outcome.message
        assert 0 <= outcome.offset <= max(len(text), 2_000)
    else:
        assert isinstance(outcome, Literal | ListExpr | Path | Call | Unary | Binary)


def test_fields_read() -> None:
    node = parse_expression('contact.email == vars.a or vars.a in [vars.b, 1] and len("x") > 0')
    assert fields_read(node) == {("contact", "email"), ("vars", "a"), ("vars", "b")}
    assert fields_read(parse_expression("1 + 2")) == frozenset()


# --- templates -----------------------------------------------------------------------------


def test_template_without_interpolation_is_plain_text() -> None:
    assert parse_template("Hello there") == Template(("Hello there",))
    assert parse_template("") == Template(())
    assert list(parse_template("a } b }}").expressions()) == []


def test_template_parts_and_offsets() -> None:
    text = "Hi {{ contact.display_name }}, you have {{vars.n + 1}} new"
    template = parse_template(text)
    first, second = template.expressions()
    assert template.parts == ("Hi ", first, ", you have ", second, " new")
    assert text[first.offset :].startswith("contact.display_name")
    assert isinstance(second, Binary)
    assert text[second.offset :].startswith("vars.n + 1")
    assert text[second.right.offset] == "1"


def test_template_braces_inside_strings() -> None:
    template = parse_template('{{ "}}" + x }}!')
    (node,) = template.expressions()
    assert sexpr(node) == "(+ '}}' x)"
    assert template.parts[-1] == "!"


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("Hi {{ contact.name", "unterminated '{{'", 3),
        ("Hi {{ }} there", "empty '{{ }}'", 3),
        ("Hi {{}}", "empty '{{ }}'", 3),
        (
            "ok {{ a }} then {{ a and }}",
            "unexpected end of expression; expected a value after 'and'",
            24,
        ),
        ('Hi {{ "abc }}', "unterminated string", 6),
        ("{{ a = 1 }}", "'=' is not an operator", 5),
    ],
)
def test_template_errors_point_into_the_whole_text(text: str, message: str, offset: int) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse_template(text)
    assert (caught.value.message, caught.value.offset) == (message, offset)


def test_render() -> None:
    facts = {**FACTS, "vars": {"n": 2.0, "f": 0.5, "flag": True, "l": [1, 2.0, None, "x"]}}
    text = "{{ contact.name }}|{{ contact.phone }}|{{ vars.n }}|{{ vars.f }}|"
    text += "{{ vars.flag }}|{{ vars.l }}"
    assert render(parse_template(text), facts, NOW) == "Ann||2|0.5|true|1, 2, , x"
    assert render(parse_template("plain"), facts, NOW) == "plain"
    assert render(parse_template("{{ upper(contact.name) + '!' }}"), facts, NOW) == "ANN!"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (False, "false"),
        (3, "3"),
        (3.0, "3"),
        (-1.5, "-1.5"),
        ([], ""),
        (["a", ["b"]], "a, b"),
    ],
)
def test_format_value(value: object, text: str) -> None:
    assert format_value(value) == text


# --- type checks ---------------------------------------------------------------------------


def issues(text: str) -> tuple[TypeIssue, ...]:
    return infer(parse_expression(text))[1]


@pytest.mark.parametrize(
    ("text", "rule", "message", "offset", "hint"),
    [
        (
            "contact.emial",
            "unknown-field",
            "unknown field 'emial' on contact",
            8,
            "did you mean 'email'?",
        ),
        (
            "1 == contact.emial",
            "unknown-field",
            "unknown field 'emial' on contact",
            13,
            "did you mean 'email'?",
        ),
        (
            "foo.bar",
            "unknown-field",
            "unknown name 'foo'",
            0,
            "flows can read contact, conversation, visitor, message, vars",
        ),
        ("contcat.email", "unknown-field", "unknown name 'contcat'", 0, "did you mean 'contact'?"),
        (
            "contact.channel == messenger",
            "unknown-field",
            "unknown name 'messenger'",
            19,
            'to compare with the text, quote it: "messenger"',
        ),
        ("contact", "unknown-field", "'contact' needs a field name", 0, "for example 'contact.id'"),
        ("vars", "unknown-field", "'vars' needs a field name", 0, "for example 'vars.coupon_code'"),
        ("contact.email.x", "unknown-field", "'contact.email' has no fields", 14, None),
        (
            "lowr(message.text)",
            "unknown-function",
            "unknown function 'lowr'",
            0,
            "did you mean 'lower'?",
        ),
        ("len()", "arity", "len() takes 1 argument, got 0", 0, None),
        ("now(1)", "arity", "now() takes no arguments, got 1", 0, None),
        ("lower(1)", "type-mismatch", "lower() needs a string, got a number", 6, None),
        ("len(true)", "type-mismatch", "len() needs a string or a list, got a bool", 4, None),
        ("contact.tags > 3", "type-mismatch", "cannot compare list with number using '>'", 0, None),
        ("'a' < 1", "type-mismatch", "cannot compare string with number using '<'", 0, None),
        ("null < 1", "type-mismatch", "cannot compare null with number using '<'", 0, None),
        (
            "contact.name == 1",
            "type-mismatch",
            "cannot compare string with number using '=='",
            0,
            None,
        ),
        ("1 - 'a'", "type-mismatch", "'-' needs numbers, got a string", 4, None),
        (
            "'a' + 1",
            "type-mismatch",
            "cannot add a string and a number with '+'",
            0,
            "'+' joins two strings or adds two numbers",
        ),
        ("-'a'", "type-mismatch", "'-' needs a number, got a string", 1, None),
        ("not 1", "type-mismatch", "'not' needs a bool, got a number", 4, None),
        (
            "true and 'x'",
            "type-mismatch",
            "'and' needs true/false on both sides, got a string",
            9,
            None,
        ),
        (
            "1 or false",
            "type-mismatch",
            "'or' needs true/false on both sides, got a number",
            0,
            None,
        ),
        (
            "'a' in 5",
            "type-mismatch",
            "'in' needs a list or a string to look in, got a number",
            7,
            None,
        ),
        (
            "1 not in 'abc'",
            "type-mismatch",
            "only a string can be found in a string, got a number",
            0,
            None,
        ),
        (
            "5 contains 1",
            "type-mismatch",
            "'contains' needs a list or a string to look in, got a number",
            0,
            None,
        ),
        (
            "contact.tags matches 'x'",
            "type-mismatch",
            "'matches' needs strings on both sides, got a list",
            0,
            None,
        ),
        (
            "message.text matches 'a('",
            "bad-regex",
            "bad regular expression: missing ), unterminated subpattern",
            21,
            None,
        ),
        (
            f"message.text matches '{'(' * 600}a{')' * 600}'",
            "bad-regex",
            "bad regular expression: groups nested too deeply",
            21,
            None,
        ),
        (
            "message.text matches 'a{99999999999999999999}'",
            "bad-regex",
            "bad regular expression: a repeat count is too large",
            21,
            None,
        ),
    ],
)
def test_type_issue(text: str, rule: str, message: str, offset: int, hint: str | None) -> None:
    assert issues(text) == (TypeIssue(offset, message, rule, hint),)


def test_every_issue_is_reported_once() -> None:
    found = issues("contact.emial == 1 and lowr(x.y) and len() > 0 and not 3")
    assert [(issue.rule, issue.offset) for issue in found] == [
        ("unknown-field", 8),
        ("unknown-field", 28),  # arguments are checked before the call
        ("unknown-function", 23),
        ("arity", 37),
        ("type-mismatch", 55),
    ]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("contact.email", "string"),
        ("contact.tags", "list"),
        ("visitor.is_new", "bool"),
        ("vars.anything", "any"),
        ("vars.a.b", "any"),
        ("1 + 2", "number"),
        ("'a' + contact.name", "string"),
        ("vars.a + vars.b", "any"),
        ("vars.a + 1", "number"),
        ("[1, 'a']", "list"),
        ("len(contact.tags)", "number"),
        ("upper(vars.x)", "string"),
        ("now() - 60", "number"),
        ("null", "null"),
        ("contact.email == null", "bool"),
        ("'vip' in contact.tags and message.text matches '^hi'", "bool"),
        ("contact.tags contains 'vip' or not visitor.is_new", "bool"),
        ("vars.x > 1 and vars.y", "bool"),
        ("'a' in 'abc'", "bool"),
        ("'b' < 'c'", "bool"),
    ],
)
def test_inferred_types(text: str, kind: str) -> None:
    assert infer(parse_expression(text)) == (kind, ())


def test_non_literal_regex_is_not_compiled_statically() -> None:
    assert issues("message.text matches vars.pattern") == ()


def test_type_issue_offsets_inside_a_template() -> None:
    (node,) = parse_template("Hi {{ contact.emial }}").expressions()
    (issue,) = infer(node)[1]
    assert issue.offset == 14


# --- evaluation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("contact.channel == 'messenger' and 'vip' in contact.tags", True),
        ("'vip' not in contact.tags", False),
        ("contact.tags contains 'new'", True),
        ("message.text matches 'W.rld$'", True),
        ("message.text matches '^World'", False),
        ("1 == 1.0", True),
        ("1 == '1'", False),
        ("true == 1", False),
        ("[1, 'a'] == vars.items", True),
        ("[1] != [true]", True),
        ("null == contact.phone", True),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("7 - 2 - 1", 4),
        ("7 / 2", 3.5),
        ("7 % 3", 1),
        ("-7 % 3", 2),
        ("-vars.price", -2.5),
        ("'ab' + 'cd'", "abcd"),
        ("vars.count >= 2 and vars.count < 3", True),
        ("'apple' < 'banana'", True),
        ("not visitor.is_new", False),
        ("false or vars.count > 1", True),
        ("'ell' in message.text", True),
        ("1 in vars.items", True),
        ("true in [1]", False),
        ("[1, 2]", [1, 2]),
        ("vars.deep.k", "v"),
        ("vars.count.k", None),
        ("vars.unset", None),
        ("lower(message.text)", "hello world"),
        ("upper(message.text)", "HELLO WORLD"),
        ("len(message.text)", 11),
        ("len(contact.tags)", 2),
        ("now()", NOW),
        ("now() - 60 < now()", True),
    ],
)
def test_evaluate(text: str, value: object) -> None:
    assert run(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("contact.phone < 3", False),  # ordering with null is false
        ("3 >= vars.empty", False),
        ("'vip' in conversation.assignee", False),  # a null container holds nothing
        ("'vip' not in conversation.assignee", True),
        ("conversation.assignee contains 'x'", False),
        ("null in 'abc'", False),
        ("null in [null]", True),
        ("contact.phone matches 'x'", False),
        ("vars.empty and true", False),  # null counts as false
        ("vars.empty or true", True),
        ("not vars.empty", True),
        ("lower(contact.phone)", None),
        ("upper(contact.phone)", None),
        ("len(contact.phone)", 0),
    ],
)
def test_null_handling(text: str, value: object) -> None:
    assert run(text) == value


def test_hand_built_unknown_operators_are_evaluation_errors() -> None:
    for node in (Binary("**", Literal(2), Literal(3)), Unary("+", Literal(2))):
        with pytest.raises(EvaluationError, match="unknown operator"):
            evaluate(node, FACTS, NOW)


def test_a_hand_built_tree_too_deep_fails_only_where_evaluation_reaches_it() -> None:
    deep: Node = Literal(True)
    for _ in range(MAX_DEPTH + 1):
        deep = Unary("not", deep)
    with pytest.raises(EvaluationError, match="nested too deeply"):
        evaluate(deep, FACTS, NOW)
    assert evaluate(Binary("or", Literal(True), deep), FACTS, NOW) is True


def test_missing_roots_read_as_null() -> None:
    assert run("contact.email == null", {}) is True


def test_and_or_short_circuit() -> None:
    assert run("false and 1 / 0 == 1") is False
    assert run("true or 'x' > 1") is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 / 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("1" + "0" * 400 + " * 1.5", "'*' result is too large"),
        ("1 + 'a'", "'+' needs two numbers, got a number and a string"),
        ("vars.empty + 1", "'+' needs two numbers, got null (a missing value) and a number"),
        ("'a' * 3", "'*' needs two numbers, got a string and a number"),
        ("'a' < 1", "cannot compare a string with a number using '<'"),
        ("1 and true", "'and' needs true or false, got a number"),
        ("true and 'x'", "'and' needs true or false, got a string"),
        ("not 'x'", "'not' needs true or false, got a string"),
        ("-'x'", "'-' needs a number, got a string"),
        ("1 in 5", "'in' needs a list or a string to look in, got a number"),
        ("1 in 'abc'", "'in' finds only a string in a string, got a number"),
        ("1 matches 'x'", "'matches' needs a string, got a number"),
        ("message.text matches vars.count", "'matches' needs a string, got a number"),
        (
            "message.text matches vars.bad",
            "bad regular expression '(': missing ), unterminated subpattern",
        ),
        (
            "message.text matches vars.huge",
            "bad regular expression 'a{99999999999999999999}': a repeat count is too large",
        ),
        ("lower(1)", "'lower()' needs a string, got a number"),
        ("len(1)", "len() needs a string or a list, got a number"),
        ("nope(1)", "cannot call nope() with 1 argument(s)"),
        ("now(1)", "cannot call now() with 1 argument(s)"),
        ("contact.nope", "flows cannot read 'contact.nope'"),
        ("nobody.home", "flows cannot read 'nobody.home'"),
    ],
)
def test_evaluation_errors(text: str, message: str) -> None:
    facts = {**FACTS, "vars": {**FACTS["vars"], "bad": "(", "huge": "a{99999999999999999999}"}}
    with pytest.raises(EvaluationError) as caught:
        run(text, facts)
    assert str(caught.value) == message


def test_a_pattern_nested_too_deeply_is_an_evaluation_error() -> None:
    facts = {**FACTS, "vars": {"deep": "(" * 600 + "a" + ")" * 600}}
    with pytest.raises(EvaluationError, match=r"groups nested too deeply$"):
        run("message.text matches vars.deep", facts)


def test_render_data_renders_every_template_into_plain_data() -> None:
    body = MappingProxyType(
        {"who": parse_template("{{ contact.name }}!"), "list": (parse_template("a"), 1, None)}
    )
    assert render_data(body, FACTS, 0) == {"who": "Ann!", "list": ["a", 1, None]}


# --- vocabulary ----------------------------------------------------------------------------


def test_vocabulary() -> None:
    assert field_type(("contact", "email")) == "string"
    assert field_type(("visitor", "is_new")) == "bool"
    assert field_type(("vars", "x")) == "any"
    assert field_type(("contact",)) is None
    assert field_type(("contact", "email", "x")) is None
    assert field_type(("contact", "nope")) is None
    assert list(FIELDS) == ["contact", "conversation", "visitor", "message", "vars"]
    assert FUNCTIONS["len"] == ((("string", "list"),), "number")
    with pytest.raises(TypeError):
        FIELDS["contact"]["x"] = "string"  # type: ignore[index]
