"""A flow's `email` action goes out over SMTP, rendered from its template, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from aiosmtpd.smtp import Envelope
from sqlalchemy.orm import Session

from channels.email import Mailer, SmtpSettings, render_email
from channels.flow_deliveries import FlowDeliveries
from chat.models import Conversation
from tests.chat.conftest import ExecutorFor


class SmtpServer(Protocol):
    """The `smtp_server` fixture of tests/conftest.py."""

    port: int
    received: list[Envelope]


def email_command(
    conversation: Conversation, template: str, key: str = "c-1:e1:0"
) -> dict[str, object]:
    return {
        "key": key,
        "kind": "email",
        "visitor_id": "c-1",
        "conversation_id": str(conversation.id),
        "flow": "promo",
        "args": {"template": template, "to": "ben@example.com", "subject": "Your code"},
    }


def deliveries(templates: Path, port: int) -> FlowDeliveries:
    mailer = Mailer(SmtpSettings(host="127.0.0.1", port=port, security="none"))
    return FlowDeliveries(mailer, templates, lambda: datetime.now(UTC))


def test_a_flow_email_is_rendered_and_sent_once(
    executor_for: ExecutorFor,
    session: Session,
    add_conversation: Callable[..., Conversation],
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    (tmp_path / "code.txt").write_text("Hello {{ contact.display_name }}, your code is X1.")
    (tmp_path / "code.html").write_text("<p>Hello {{ contact.display_name }}</p>")
    conversation = add_conversation(channel="widget")
    session.commit()
    chat = executor_for(deliveries=deliveries(tmp_path, smtp_server.port))
    chat.execute(email_command(conversation, "code"))
    chat.execute(email_command(conversation, "code"))  # redelivered: sent once
    assert len(smtp_server.received) == 1
    sent = smtp_server.received[0]
    assert sent.rcpt_tos == ["ben@example.com"]
    raw = sent.content or b""
    content = raw.decode() if isinstance(raw, bytes) else raw
    assert "Subject: Your code" in content
    assert "Hello Visitor, your code is X1." in content
    assert "<p>Hello Visitor</p>" in content


def test_a_missing_template_is_logged_and_nothing_is_sent(
    session: Session,
    add_conversation: Callable[..., Conversation],
    smtp_server: SmtpServer,
    tmp_path: Path,
) -> None:
    conversation = add_conversation(channel="widget")
    session.commit()
    sender = deliveries(tmp_path, smtp_server.port)
    assert sender.email(email_command(conversation, "nope"), {}) is False
    assert smtp_server.received == []


def test_an_smtp_server_that_is_away_is_logged_not_fatal(
    executor_for: ExecutorFor,
    session: Session,
    add_conversation: Callable[..., Conversation],
    tmp_path: Path,
) -> None:
    (tmp_path / "code.txt").write_text("Hello")
    conversation = add_conversation(channel="widget")
    session.commit()
    chat = executor_for(deliveries=deliveries(tmp_path, port=9))  # nothing listens on discard
    chat.execute(email_command(conversation, "code"))


def test_the_shipped_flow_templates_render() -> None:
    folder = Path(__file__).resolve().parents[2] / "emails"
    facts = {"contact": {"display_name": "Ana"}}
    for template in ("coupon", "promo-code"):
        text, _ = render_email(folder, template, facts, 0.0)
        assert "Hello Ana," in text
