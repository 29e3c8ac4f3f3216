"""What browser tests check on a page: its accessibility (axe-core) and, for the docs, how
it looks."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "console"
FAILING_IMPACTS = ("critical", "serious")  # "moderate" and "minor" are reported by axe only


class AccessibilityViolations(AssertionError):
    """axe-core found serious or critical violations on a page; the message lists each."""


def check_accessibility(page: Page) -> None:
    """Run axe-core on the page as it is now; fail with every serious or critical violation:
    its rule id, impact, help and the selectors of the elements at fault."""
    violations = Axe().run(page).response["violations"]
    failing = [v for v in violations if v.get("impact") in FAILING_IMPACTS]
    if failing:
        raise AccessibilityViolations(_report(page.url, failing))


def _report(url: str, violations: Sequence[Mapping[str, Any]]) -> str:
    lines = [f"{len(violations)} serious or critical accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        lines.extend(f"    at {_selector(node['target'])}" for node in violation["nodes"])
    return "\n".join(lines)


def _selector(target: Sequence[str | Sequence[str]]) -> str:
    """axe's target: a selector per frame; a list of selectors where shadow roots cross."""
    return " >> ".join(part if isinstance(part, str) else " >>> ".join(part) for part in target)


def screenshot(page: Page, name: str, folder: Path = SCREENSHOTS) -> Path | None:
    """Save the page as docs/console/<name>.png when PARLEY_SCREENSHOTS=1, so the docs'
    screenshots come from the tests; otherwise do nothing. The file saved, or None."""
    if os.environ.get("PARLEY_SCREENSHOTS") != "1":
        return None
    if not name or Path(name).name != name:
        raise ValueError(f"a screenshot's name is a plain file name, not {name!r}")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path
