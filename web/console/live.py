"""`GET /live`: the workspace's "changed" notices as server-sent events, for the open pages.

Each page keeps one stream open (`hx-sse:connect` in the base layout); a notice arrives as an
event named by its kind (`conversation`, `contact`) whose data is `{"kind", "id"}`, and the
page's parts that show such things re-fetch themselves (`hx-trigger="conversation from:#live"`).
A stream ends after LIVE_SECONDS and the browser opens the next one, so a web thread is never
held by a tab that went away; a comment line every HEARTBEAT seconds finds such tabs sooner.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from flask import Response
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from chat.models import Member
from web.console.base import blueprint, console_page
from web.services import services

LIVE_SECONDS = 60.0
HEARTBEAT = 15  # quiet seconds between two comment lines


@blueprint.get("/live")
@console_page
def live(_session: Session, member: Member) -> ResponseReturnValue:
    """The signed-in member's workspace's notices, for LIVE_SECONDS."""
    stream = _events(services().changes.listen(member.workspace_id, LIVE_SECONDS))
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # nginx: do not buffer
    return Response(stream, mimetype="text/event-stream", headers=headers)


def _events(notices: Iterator[dict[str, Any] | None]) -> Iterator[bytes]:
    yield b"retry: 2000\n\n"  # reconnect soon after a stream ends
    quiet = 0
    for notice in notices:
        if notice is None:
            quiet += 1
            if quiet >= HEARTBEAT:
                quiet = 0
                yield b": still here\n\n"
            continue
        quiet = 0
        yield b"event: %s\ndata: %s\n\n" % (notice["kind"].encode(), orjson.dumps(notice))
