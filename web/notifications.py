"""Settings → Online chat → New message notifications, and each conversation's emails."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from chat.inbox import find_conversation
from chat.models import Member, Notification, Workspace
from chat.notifications import change_notification_settings
from chat.permissions import require
from web import responses
from web.auth import member_request
from web.bodies import json_body
from web.responses import answer, read

blueprint = Blueprint("notifications", __name__)

MAX_WAIT_MINUTES = 7 * 24 * 60
SETTINGS_BODY = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "email": {"type": "boolean"},
        "after_minutes": {"type": "integer", "minimum": 1, "maximum": MAX_WAIT_MINUTES},
    },
}


@blueprint.get("/settings/notifications")
@member_request
def show(session: Session, member: Member) -> Response:
    """Whether members are emailed about waiting visitors, and after how many minutes."""
    return _settings(_workspace(session, member))


@blueprint.patch("/settings/notifications")
@member_request
def change(session: Session, member: Member) -> Response:
    """Switch the emails on or off, or change the waiting time (`settings.manage`).

    Off stops the emails not yet sent; a new waiting time applies to waiting streaks that
    start afterwards.
    """
    require(member, "settings.manage")
    body = json_body(SETTINGS_BODY)
    return _settings(change_notification_settings(session, member, **body))


@blueprint.get("/conversations/<id:conversation_id>/notifications")
@member_request
def sent_for(session: Session, member: Member, conversation_id: int) -> Response:
    """The emails about this conversation's waiting visitor: sent, pending or failed, why."""
    find_conversation(session, member, conversation_id)
    found = session.scalars(
        select(Notification)
        .where(Notification.conversation_id == conversation_id)
        .order_by(Notification.id)
    ).all()
    shown = [read(responses.Notification, n) for n in found]
    return answer(responses.Notifications(notifications=shown))


def _workspace(session: Session, member: Member) -> Workspace:
    workspace = session.get(Workspace, member.workspace_id)
    assert workspace is not None  # members are deleted with their workspace
    return workspace


def _settings(workspace: Workspace) -> Response:
    return answer(
        responses.NotificationSettings(
            email=workspace.notify_by_email, after_minutes=workspace.notify_after_minutes
        )
    )
