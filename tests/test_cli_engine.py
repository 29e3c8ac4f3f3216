"""The engine's commands as authors use them: simulate a transcript, test features."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_simulate_plays_a_transcript_and_prints_the_funnel(tmp_path: Path) -> None:
    transcript = tmp_path / "visit.txt"
    transcript.write_text("Hi\nagent How can I help?\nwait 15m\nclick Talk to a person\n")
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            str(ROOT / "flows/win-back.yaml"),
            "--returning",
            "--transcript",
            str(transcript),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "  bot say: Welcome back, Ana! Anything we can do for you today?" in result.output
    assert "  parley hosting: on=False" in result.output
    assert '"completed_visitors": 1' in result.output


def test_simulate_says_what_the_chat_layer_refuses_and_goes_on(tmp_path: Path) -> None:
    transcript = tmp_path / "visit.txt"
    transcript.write_text("agent How can I help?\nHi\nagent How can I help?\n")
    flow = str(ROOT / "flows/win-back.yaml")
    result = CliRunner().invoke(main, ["simulate", flow, "--transcript", str(transcript)])
    assert result.exit_code == 0, result.output
    refusal = "  ? Parley refuses this: the visitor has not written on Messenger yet"
    assert result.output.count(refusal) == 1  # the second reply, after "Hi", is taken


def test_simulate_refuses_a_flow_that_does_not_check(tmp_path: Path) -> None:
    flow = tmp_path / "bad.yaml"
    flow.write_text(
        "id: bad\ntrigger: {conversation_started: }\nstart: x\nsteps: {y: {end: true}}\n"
    )
    result = CliRunner().invoke(main, ["simulate", str(flow), "--transcript", str(flow)])
    assert result.exit_code == 1
    assert "no step named 'x'" in result.output


def test_parley_test_runs_an_authors_feature_file(tmp_path: Path) -> None:
    feature = tmp_path / "win_back.feature"
    feature.write_text(
        "Feature: Win back\n"
        "  Scenario: A quiet returning visitor is welcomed back\n"
        '    Given the flow "win-back"\n'
        '    And a returning visitor "Ana" on messenger\n'
        '    When the visitor says "Hello"\n'
        '    And the agent replies "Hi"\n'
        "    And 15 minutes pass\n"
        '    Then the visitor is sent "Welcome back, Ana! Anything we can do for you today?"\n'
        "  Scenario: A wrong expectation fails the run\n"
        '    Given the flow "win-back"\n'
        '    When the visitor says "Hello"\n'
        '    And the agent replies "Hi"\n'
        "    And 1 minute passes\n"
        '    Then the visitor is sent "Hello?"\n'
    )
    parley = Path(sys.executable).parent / "parley"
    done = subprocess.run(
        [str(parley), "test", str(feature), "--flows", str(ROOT / "flows")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout


def test_the_service_and_the_checker_import_no_test_tool() -> None:
    # `make run` installs the runtime dependencies only: `parley check` and `parley serve`
    # must start without pytest, hypothesis and the other test tools.
    code = (
        "import sys, cli, server\n"
        "tools = {'pytest', '_pytest', 'pytest_bdd', 'hypothesis', 'schemathesis', 'aiosmtpd'}\n"
        "print(sorted(m for m in sys.modules if m.partition('.')[0] in tools))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_check_warns_at_each_email_action_where_smtp_is_not_set() -> None:
    result = CliRunner().invoke(
        main, ["check", str(ROOT / "flows/win-back.yaml")], env={"PARLEY_SMTP_HOST": ""}
    )
    assert result.exit_code == 0, result.output
    assert "win-back.yaml:40:9: warning: this flow sends email" in result.output
    assert "[email-without-smtp]" in result.output


def test_check_is_quiet_about_email_where_smtp_is_set() -> None:
    env = {"PARLEY_SMTP_HOST": "mail.example.com"}
    result = CliRunner().invoke(main, ["check", str(ROOT / "flows/win-back.yaml")], env=env)
    assert "email-without-smtp" not in result.output
    assert "0 warning(s)" in result.output
