"""The `parley` command line: check, draw and inspect flows."""

from __future__ import annotations

import json
import sys

import click

from dsl.graph import dot, mermaid
from dsl.pipeline import CheckReport, FlowCompiler
from dsl.structure import flow_schema


@click.group()
@click.version_option(package_name="parley")
def main() -> None:
    """Parley: automation flows for customer-service chat."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
def check(paths: tuple[str, ...], fmt: str, strict: bool) -> None:
    """Check flow files (directories: every *.yaml inside) like a compiler."""
    report = FlowCompiler().check_paths(paths)
    if fmt == "json":
        click.echo(json.dumps([d.as_json() for d in report.diagnostics], indent=2))
    else:
        _print_report(report)
    sys.exit(1 if report.failed(strict) else 0)


def _print_report(report: CheckReport) -> None:
    for result in report.files:
        for diagnostic in result.diagnostics:
            click.echo(diagnostic.render(result.source))
    errors = sum(d.severity == "error" for d in report.diagnostics)
    warnings = len(report.diagnostics) - errors
    click.echo(
        f"checked {len(report.files)} file(s): {len(report.flows)} flow(s) ok, "
        f"{errors} error(s), {warnings} warning(s)"
    )


@main.command()
def schema() -> None:
    """Print the flow JSON Schema (for editors and the yaml-language-server)."""
    click.echo(json.dumps(flow_schema(), indent=2))


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid")
def graph(path: str, fmt: str) -> None:
    """Draw one flow as a Mermaid state diagram (or Graphviz dot)."""
    report = FlowCompiler().check_paths([path])
    if not report.flows:
        _print_report(report)
        sys.exit(1)
    (compiled,) = report.flows
    click.echo(mermaid(compiled) if fmt == "mermaid" else dot(compiled))
