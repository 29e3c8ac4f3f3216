"""Email over SMTP: the settings, a mailer, and the templates flows send.

A flow's `email: {template: coupon, to: ..., subject: ...}` renders `emails/coupon.txt` with
the same `{{ }}` templates flows use, and `emails/coupon.html` when present with Jinja (every
value HTML-escaped), over the contact's and the conversation's facts. Without SMTP settings
nothing is sent and the attempt is logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from jinja2 import TemplateError

from channels.errors import ChannelError
from chat.html import render_html
from chat.ports import Undelivered
from dsl.errors import EvaluationError, ExpressionSyntaxError
from dsl.evaluate import render
from dsl.expressions import parse_template

Security = Literal["starttls", "ssl", "none"]
log = logging.getLogger(__name__)


class EmailFailed(ChannelError, Undelivered):
    """An email that could not be sent or built; the message says why."""


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to send email (PARLEY_SMTP_* variables)."""

    host: str
    port: int = 587
    security: Security = "starttls"
    user: str | None = None
    password: str | None = None
    sender: str = "parley@example.com"
    timeout: float = 10.0


class Mailer:
    """Sends plain-text emails, with an HTML part when one is given."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, to: str, subject: str, text: str, html: str | None = None) -> None:
        """Send one email; raises EmailFailed with the server's or the network's reason."""
        try:
            message = _message(self.settings.sender, to, subject, text, html)
        except ValueError as err:  # a header that cannot be sent, such as a line break in it
            raise EmailFailed(f"the email to {to} cannot be built: {err}") from err
        try:
            with self._connect() as smtp:
                if self.settings.user:
                    smtp.login(self.settings.user, self.settings.password or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as err:
            raise EmailFailed(f"sending to {to} failed: {err}") from err

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.security == "ssl":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp


def _message(sender: str, to: str, subject: str, text: str, html: str | None) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def render_email(
    folder: Path, template: str, facts: Mapping[str, Any], now: float
) -> tuple[str, str | None]:
    """The text (and HTML, if the template has one) of `template`, filled in from `facts`."""
    parts: list[str | None] = []
    for suffix in (".txt", ".html"):
        path = folder / f"{template}{suffix}"
        if not path.is_file():
            parts.append(None)
            continue
        try:
            source = path.read_text(encoding="utf-8")
            if suffix == ".html":
                parts.append(render_html(source, facts))
            else:
                parts.append(render(parse_template(source), facts, now))
        except (
            ExpressionSyntaxError,
            EvaluationError,
            TemplateError,
            OSError,
            UnicodeDecodeError,
        ) as err:
            raise EmailFailed(f"email template {path}: {err}") from err
    text, html = parts
    if text is None:
        raise EmailFailed(f"no email template {folder / (template + '.txt')}")
    return text, html
