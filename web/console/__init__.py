"""The agent console: server-rendered pages (Jinja, htmx) on the same chat services as the API.

Each page is a module that adds its routes to `blueprint`; importing them here registers them,
in the order the navigation bar lists them.
"""

from web.console import errors, inbox, live, signin, widget_script
from web.console.base import blueprint
from web.console.i18n import install_babel

__all__ = ["blueprint", "errors", "inbox", "install_babel", "live", "signin", "widget_script"]
