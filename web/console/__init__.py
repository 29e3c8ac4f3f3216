"""The agent console: server-rendered pages (Jinja, htmx) on the same chat services as the API.

Each page is a module that adds its routes to `blueprint` and its entry to the navigation bar
(`in_navigation`); importing them here registers them.
"""

from web.console import (
    analytics,
    conversation,
    errors,
    hosting,
    inbox,
    live,
    management,
    people,
    settings,
    settings_messenger,
    settings_team,
    signin,
    widget_script,
)
from web.console.base import blueprint
from web.console.i18n import install_babel

__all__ = [
    "analytics",
    "blueprint",
    "conversation",
    "errors",
    "hosting",
    "inbox",
    "install_babel",
    "live",
    "management",
    "people",
    "settings",
    "settings_messenger",
    "settings_team",
    "signin",
    "widget_script",
]
