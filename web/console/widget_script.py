"""The website widget's public pages: the script a website embeds, and a demo website page.

Neither asks anyone to sign in: they are for a website's visitors, who are not members. The
script talks to the widget API (`web/widget.py`) as the visitor, with their visitor token.
`/widget.js` is served by this route rather than only from /static: its address is the one
website owners paste, whatever the static folder's layout, and it has a caching policy of
its own (an hour, then revalidated by ETag, since the pasted address never changes).
"""

from __future__ import annotations

from pathlib import Path

from flask import Response, send_from_directory, url_for

from web.console.base import blueprint, page
from web.services import services

STATIC = Path(__file__).resolve().parent.parent / "static"
SCRIPT_MAX_AGE = 3600  # seconds a browser keeps the script before asking whether it changed


@blueprint.get("/widget.js")
def widget_script() -> Response:
    """The widget's script, cached for an hour and then revalidated."""
    response = send_from_directory(
        STATIC, "widget.js", mimetype="text/javascript", max_age=SCRIPT_MAX_AGE
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/widget-demo")
def widget_demo() -> Response:
    """A demo website page with the widget embedded, and the snippet that embeds it."""
    public = services().settings.public_url.rstrip("/")  # the address websites reach Parley at
    return page("console/widget_demo.html", script_url=public + url_for("console.widget_script"))
