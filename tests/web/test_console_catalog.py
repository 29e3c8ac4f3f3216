"""The console's Chinese catalog is complete, and its compiled copy is the catalog's."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "web/console/translations/zh_Hans_CN/LC_MESSAGES"
METHODS = [("web/console/**.py", "python"), ("web/console/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None}
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def source_messages() -> set[str]:
    """Every message the console's code and templates mark for translation."""
    found = extract_from_dir(str(ROOT), METHODS, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for *_, message, _, _ in found}


def test_every_console_message_has_a_chinese_translation_with_the_same_placeholders() -> None:
    with (CATALOG / "messages.po").open("rb") as po:
        catalog = read_po(po, locale="zh_CN")
    missing, broken = [], []
    for text in sorted(source_messages()):
        entry = catalog.get(text)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(text)
        elif sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(str(entry.string))):
            broken.append(text)
    assert not missing, f"run `make translations` and translate: {missing}"
    assert not broken, f"translations whose placeholders differ from the English: {broken}"


def test_the_compiled_catalog_is_the_current_one() -> None:
    with (CATALOG / "messages.po").open("rb") as po, (CATALOG / "messages.mo").open("rb") as mo:
        written, compiled = read_po(po), read_mo(mo)
    as_written = {m.id: m.string for m in written if m.id}
    as_compiled = {m.id: m.string for m in compiled if m.id}
    assert as_compiled == as_written, "run `make translations` to compile messages.po"


def test_a_browser_asking_for_chinese_gets_the_console_in_chinese(client: FlaskClient) -> None:
    html = client.get("/signin", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    text = html.get_data(as_text=True)
    assert '<html lang="zh-CN">' in text
    assert "<h1>登录 Parley</h1>" in text


def test_the_language_chosen_on_the_sign_in_page_wins_over_the_browser_s(
    client: FlaskClient,
) -> None:
    html = client.get("/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token
    client.post("/language", data={"csrf_token": token.group(1), "language": "zh_CN"})
    text = client.get("/signin", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>登录 Parley</h1>" in text


def test_the_console_s_scripts_and_styles_are_served(client: FlaskClient) -> None:
    served = {
        "/static/vendor/htmx.min.js": "text/javascript",
        "/static/vendor/hx-sse.min.js": "text/javascript",
        "/static/console.css": "text/css",
    }
    for path, mimetype in served.items():
        with client.get(path) as answer:  # a file response: closed, or it leaks the file
            assert (answer.status_code, answer.mimetype) == (200, mimetype), path
