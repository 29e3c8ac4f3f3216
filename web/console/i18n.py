"""The console's languages: English (the source) and Simplified Chinese, through Flask-Babel.

The language of a page is the signed-in member's own choice (Settings), else the one this
browser chose on the sign-in page (a cookie), else the best of the browser's Accept-Language.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g, request
from flask_babel import Babel

LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
DEFAULT = "en"
LANGUAGE_COOKIE = "parley_lang"
# Babel names the catalog of zh_CN by its full tag, zh_Hans_CN (Simplified script, China).
TRANSLATIONS = Path(__file__).parent / "translations"


def install_babel(app: Flask) -> None:
    """Translate the console's templates and messages by `choose_language`."""
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    Babel(app, locale_selector=choose_language)


def choose_language() -> str:
    """The member's language, else the cookie's, else the browser's best, else English."""
    member = g.get("parley_member")
    for choice in (member.language if member else None, request.cookies.get(LANGUAGE_COOKIE)):
        if choice in LANGUAGES:
            return choice
    for tag, _quality in request.accept_languages:
        language = from_tag(tag)
        if language:
            return language
    return DEFAULT


def from_tag(tag: str) -> str | None:
    """The console language for a BCP 47 tag such as zh-CN, zh-Hans or en-GB; None if none."""
    primary = tag.replace("_", "-").split("-")[0].lower()
    return {"en": "en", "zh": "zh_CN"}.get(primary)


def html_lang(language: str) -> str:
    """The `lang` attribute of a page in `language`."""
    return language.replace("_", "-")
