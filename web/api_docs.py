"""The API reference for people, at `/docs`: the vendored Redoc renders `/openapi.json`.

Nothing comes from the internet: the script is a file of web/static/vendor, the fonts are the
system's, and the page's Content-Security-Policy keeps the browser on this origin (Redoc's
sidebar would otherwise fetch Redocly's logo from their CDN).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template_string

blueprint = Blueprint("api_docs", __name__)

_SYSTEM_FONTS = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
_THEME = {
    "typography": {
        "fontFamily": _SYSTEM_FONTS,
        "headings": {"fontFamily": _SYSTEM_FONTS},
        "code": {"fontFamily": "ui-monospace, Menlo, Consolas, monospace"},
    }
}
# Redoc styles itself with inline <style> elements and runs its search in a blob: worker.
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src blob:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Parley API</title>
  <style>body { margin: 0; }</style>
</head>
<body>
  <redoc spec-url="{{ url_for('openapi.openapi_json') }}" theme='{{ theme | tojson }}'></redoc>
  <script src="{{ url_for('console.static', filename='vendor/redoc.standalone.js') }}"></script>
</body>
</html>
"""


@blueprint.get("/docs")
def docs() -> Response:
    """The reference page: Redoc, started on the `<redoc>` element, loads the document."""
    response = Response(render_template_string(_PAGE, theme=_THEME), mimetype="text/html")
    response.headers["Content-Security-Policy"] = _POLICY
    return response
