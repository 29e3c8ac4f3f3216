"""The HTML Parley writes outside the console (emails): Jinja with every value escaped.

Templates run in Jinja's sandbox, so one reads the facts it is given and never Python's
internals; the flow language's `render` writes plain text only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

_HTML = SandboxedEnvironment(autoescape=True)


def render_html(source: str, facts: Mapping[str, Any]) -> str:
    """An HTML template (Jinja) filled in from `facts`, each value escaped."""
    return _HTML.from_string(source).render(facts)
