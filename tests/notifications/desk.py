"""A support desk for notification tests: Parley with an SMTP server, widget visitors and a
team of three, on a virtual clock."""

from __future__ import annotations

import contextlib
import email
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from channels.email import SmtpSettings
from channels.messenger.settings import MessengerSettings
from chat.members import add_member, create_workspace, issue_token
from chat.models import Workspace
from engine.ports import ManualClock
from server import create_app
from settings import Settings
from tests.conftest import SmtpServer
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes.graph_state import Page
from web.services import Services

PUBLIC_URL = "https://parley.example.com"


@dataclass
class Desk:
    """Parley, its SMTP server, the team's API tokens and the visitors' widget tokens."""

    app: Flask
    client: FlaskClient
    smtp: SmtpServer
    clock: ManualClock
    tokens: dict[str, str] = field(default_factory=dict)  # first name -> API token
    member_ids: dict[str, int] = field(default_factory=dict)
    visitors: dict[str, tuple[int, str]] = field(default_factory=dict)  # conversation, token
    graph: FakeGraphApi | None = None  # Meta's side, when the desk has a Messenger Page
    page: Page | None = None
    psids: dict[str, str] = field(default_factory=dict)  # Messenger visitors' PSIDs

    @property
    def services(self) -> Services:
        found: Services = self.app.extensions["parley"]
        return found

    def api(self, who: str, method: str, url: str, body: Any = None, status: int = 200) -> Any:
        """Call the API as a member; the answer's JSON."""
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        response = self.client.open(url, method=method, json=body, headers=headers)
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def writes(self, visitor: str, text: str) -> int:
        """A widget visitor writes (starting their conversation the first time)."""
        if visitor not in self.visitors:
            started = self.client.post("/widget/conversations", json={"name": visitor})
            found = started.get_json()
            self.visitors[visitor] = (found["conversation_id"], found["visitor_token"])
        conversation_id, token = self.visitors[visitor]
        response = self.client.post(
            f"/widget/conversations/{conversation_id}/messages",
            json={"text": text},
            headers={"X-Visitor-Token": token},
        )
        assert response.status_code == 201, response.get_json()
        self.services.settle()
        return conversation_id

    def writes_on_messenger(self, visitor: str, text: str) -> None:
        """A visitor writes to the desk's Facebook Page."""
        assert self.graph is not None
        assert self.page is not None
        sent = self.graph.visitor_message(self.page.id, self.psids.get(visitor), text=text)
        self.psids[visitor] = sent.sender
        self._meta_delivers()

    def replies_from_the_page_inbox(self, visitor: str, text: str) -> None:
        """Someone answers the visitor from Meta's Page inbox, outside Parley."""
        assert self.graph is not None
        assert self.page is not None
        self.graph.page_reply(self.page.id, self.psids[visitor], text)
        self._meta_delivers()

    def _meta_delivers(self) -> None:
        assert self.graph is not None
        for request in self.graph.take_webhooks():
            response = self.client.post(
                "/webhooks/messenger", data=request.body, headers=dict(request.headers)
            )
            assert response.status_code == 200
        self.services.settle()

    def replies(self, agent: str, visitor: str, text: str) -> None:
        """An agent answers in Parley."""
        conversation_id = self.visitors[visitor][0]
        self.api(agent, "POST", f"/conversations/{conversation_id}/messages", {"text": text}, 201)
        self.services.settle()

    def assign(self, visitor: str, agent: str) -> None:
        """The owner assigns the visitor's conversation to an agent."""
        conversation_id = self.visitors[visitor][0]
        body = {"assignee_id": self.member_ids[agent]}
        self.api("Olga", "POST", f"/conversations/{conversation_id}/assign", body)
        self.services.settle()

    def minutes_pass(self, minutes: float) -> None:
        """Time passes (for Meta too); the workers do what fell due."""
        self.clock.advance(minutes * 60)
        if self.graph is not None:
            self.graph.advance(minutes * 60)
        self.services.settle()

    def emails(self) -> list[EmailMessage]:
        """What the SMTP server accepted, parsed."""
        found = []
        for envelope in self.smtp.received:
            raw = envelope.content or b""
            data = raw if isinstance(raw, bytes) else raw.encode()
            parsed = email.message_from_bytes(data, policy=default)
            assert isinstance(parsed, EmailMessage)
            found.append(parsed)
        return found

    def recipients(self) -> list[str]:
        """Who was emailed, in order."""
        return [str(message["To"]) for message in self.emails()]


def desk_settings(
    redis_url: str, db_url: str, tmp_path: Path, smtp: SmtpServer, graph: FakeGraphApi | None = None
) -> Settings:
    """Settings of a desk: the test's Redis, database, SMTP server and Graph API, no flows."""
    flows = tmp_path / "flows"
    flows.mkdir(parents=True, exist_ok=True)
    return Settings(
        redis_url=redis_url,
        database_url=db_url,
        data_dir=tmp_path / "var",
        flows_dir=flows,
        smtp=SmtpSettings(host="127.0.0.1", port=smtp.port, security="none", timeout=5),
        public_url=PUBLIC_URL,
        messenger=MessengerSettings(
            app_id=graph.app_id, app_secret=graph.app_secret, graph_api_url=graph.url
        )
        if graph
        else MessengerSettings(),
    )


@contextlib.contextmanager
def open_desk(
    redis_url: str,
    db_url: str,
    tmp_path: Path,
    smtp: SmtpServer,
    clock: ManualClock,
    graph: FakeGraphApi | None = None,
) -> Iterator[Desk]:
    """A desk whose owner Olga and agents Ana and Bo are emailed after 10 minutes; with
    `graph`, a Facebook Page of it is connected too."""
    app = create_app(desk_settings(redis_url, db_url, tmp_path, smtp, graph), clock)
    desk = Desk(app, app.test_client(), smtp, clock, graph=graph)
    with desk.services.sessions.begin() as session:
        _, owner, desk.tokens["Olga"] = create_workspace(
            session, "Acme", "olga@example.com", "Olga"
        )
        desk.member_ids["Olga"] = owner.id
        workspace = session.scalars(select(Workspace)).one()
        for name in ("Ana", "Bo"):
            member = add_member(session, workspace, f"{name.lower()}@example.com", name, "agent")
            session.flush()
            desk.tokens[name], desk.member_ids[name] = issue_token(session, member), member.id
    desk.api("Olga", "PATCH", "/settings/notifications", {"email": True, "after_minutes": 10})
    if graph is not None:
        desk.page = graph.add_page(name="Acme Shoes")
        body = {"page_id": desk.page.id, "name": desk.page.name, "access_token": desk.page.token}
        desk.api("Olga", "POST", "/channels/messenger/pages", body, status=201)
    try:
        yield desk
    finally:
        desk.services.close()
