"""Steps for the flow-language features: write flow files, run `parley`, read what it says."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_bdd import given, parsers, scenarios, then, when

from cli import main

scenarios("dsl")

SHIPPED_FLOWS = Path(__file__).resolve().parents[3] / "flows"


@dataclass
class Run:
    """What one `parley` command printed and how it exited."""

    output: str
    exit_code: int


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder the flow files are written to; commands run inside it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(runner: CliRunner, *args: str) -> Run:
    result = runner.invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Run(result.output, result.exit_code)


@given(parsers.parse('a flow file "{name}":'), target_fixture="files")
def flow_file(
    workdir: Path, name: str, docstring: str, request: pytest.FixtureRequest
) -> list[str]:
    files: list[str] = request.getfixturevalue("files") if "files" in request.fixturenames else []
    (workdir / name).write_text(docstring + "\n", encoding="utf-8")
    return [*files, name]


@given(parsers.parse('a flow file "{name}" with CRLF line ends:'), target_fixture="files")
def crlf_flow_file(workdir: Path, name: str, docstring: str) -> list[str]:
    (workdir / name).write_bytes((docstring + "\n").replace("\n", "\r\n").encode("utf-8"))
    return [name]


@given(
    parsers.parse('a flow file "{name}" whose name is a number of {digits:d} digits'),
    target_fixture="files",
)
def long_number_flow_file(workdir: Path, name: str, digits: int) -> list[str]:
    (workdir / name).write_text(f"id: big\nname: {'9' * digits}\n", encoding="utf-8")
    return [name]


@given(parsers.parse('a flow file "{name}" holding the bytes {data}'), target_fixture="files")
def flow_file_bytes(workdir: Path, name: str, data: str) -> list[str]:
    (workdir / name).write_bytes(bytes.fromhex(data.replace(" ", "")))
    return [name]


@given(parsers.parse('a flow file "{name}" of {size:d} bytes of comments'), target_fixture="files")
def huge_flow_file(workdir: Path, name: str, size: int) -> list[str]:
    line = "# " + "x" * 77 + "\n"
    (workdir / name).write_text(line * (size // len(line) + 1), encoding="utf-8")
    return [name]


@given(parsers.parse('a flow file "{name}" nesting {depth:d} lists'), target_fixture="files")
def deep_flow_file(workdir: Path, name: str, depth: int) -> list[str]:
    (workdir / name).write_text("id: x\nsteps: " + "[" * depth + "]" * depth + "\n")
    return [name]


@when("it is checked", target_fixture="run")
@when("they are checked together", target_fixture="run")
def checked(cli_runner: CliRunner, files: list[str]) -> Run:
    return _run(cli_runner, "check", *files)


@when("it is named twice on the command line", target_fixture="run")
def checked_twice(cli_runner: CliRunner, files: list[str]) -> Run:
    return _run(cli_runner, "check", files[-1], files[-1])


@when("the folder is checked", target_fixture="run")
def folder_checked(cli_runner: CliRunner) -> Run:
    return _run(cli_runner, "check", ".")


@when("it is checked with --strict", target_fixture="run")
def checked_strictly(cli_runner: CliRunner, files: list[str]) -> Run:
    return _run(cli_runner, "check", "--strict", *files)


@when("it is checked with --format json", target_fixture="run")
def checked_as_json(cli_runner: CliRunner, files: list[str]) -> Run:
    return _run(cli_runner, "check", "--format", "json", *files)


@when("the shipped flows are checked on a server with SMTP configured", target_fixture="run")
def shipped_checked(cli_runner: CliRunner) -> Run:
    result = cli_runner.invoke(
        main,
        ["check", "--strict", str(SHIPPED_FLOWS)],
        env={"PARLEY_SMTP_HOST": "mail.example.com"},
    )
    return Run(result.output, result.exit_code)


@when("it is drawn", target_fixture="run")
def drawn(cli_runner: CliRunner, files: list[str]) -> Run:
    return _run(cli_runner, "graph", files[-1])


@when("it is drawn as dot", target_fixture="run")
def drawn_as_dot(cli_runner: CliRunner, files: list[str]) -> Run:
    return _run(cli_runner, "graph", "--format", "dot", files[-1])


@when("the schema is printed", target_fixture="run")
def schema_printed(cli_runner: CliRunner) -> Run:
    return _run(cli_runner, "schema")


@then("the check passes")
def check_passes(run: Run) -> None:
    assert run.exit_code == 0, run.output


@then("the check fails")
def check_fails(run: Run) -> None:
    assert run.exit_code == 1, run.output


@then(parsers.parse('it reports "{line}"'))
def reports(run: Run, line: str) -> None:
    assert line in run.output.splitlines(), run.output


@then(parsers.parse('it hints "{hint}"'))
def hints(run: Run, hint: str) -> None:
    assert f"  hint: {hint}" in run.output.splitlines(), run.output


@then(parsers.parse("it reports {count:d} error(s)"))
def error_count(run: Run, count: int) -> None:
    assert f", {count} error(s)," in run.output, run.output


@then("it shows:")
def shows(run: Run, docstring: str) -> None:
    assert docstring in run.output, run.output


@then(parsers.parse("the JSON lists one {severity} at line {line:d}, column {col:d}, rule {rule}"))
def json_lists(run: Run, severity: str, line: int, col: int, rule: str) -> None:
    found = json.loads(run.output)
    assert [(d["severity"], d["line"], d["col"], d["rule"]) for d in found] == [
        (severity, line, col, rule)
    ]


@then(parsers.parse('the diagram has "{line}"'))
def diagram_has(run: Run, line: str) -> None:
    assert run.exit_code == 0, run.output
    assert line in [text.strip() for text in run.output.splitlines()], run.output


@then(parsers.parse("the schema names the trigger kinds {kinds}"))
def schema_names(run: Run, kinds: str) -> None:
    trigger = json.loads(run.output)["properties"]["trigger"]["properties"]
    assert sorted(trigger) == sorted(k.strip() for k in kinds.split(","))
