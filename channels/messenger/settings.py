"""The Messenger app's settings, read from the environment.

`PARLEY_MESSENGER_APP_ID`, `PARLEY_MESSENGER_APP_SECRET` (signs the webhooks),
`PARLEY_MESSENGER_VERIFY_TOKEN` (the webhook handshake), `GRAPH_API_URL` (Meta's by default;
tests point it at a fake) and `PARLEY_MESSENGER_ALLOWED_TAGS`, the message tags an agent may
pick past the 7-day window, comma-separated: empty by default, since Meta retired the
update tags on 2026-04-27. `PARLEY_GRAPH_TIMEOUT`: seconds a Graph API call may take (10).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from channels.messenger.graph import DEFAULT_GRAPH_API_URL


@dataclass(frozen=True, slots=True)
class MessengerSettings:
    """The Meta app Parley's Pages are connected through; no secret means no webhooks."""

    app_id: str = ""
    app_secret: str = ""
    verify_token: str = ""
    graph_api_url: str = DEFAULT_GRAPH_API_URL
    allowed_tags: tuple[str, ...] = ()
    graph_timeout: float = 10.0  # seconds a Graph API call may take

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MessengerSettings:
        """The settings from `PARLEY_MESSENGER_*` and `GRAPH_API_URL`."""
        tags = env.get("PARLEY_MESSENGER_ALLOWED_TAGS", "")
        return cls(
            app_id=env.get("PARLEY_MESSENGER_APP_ID", ""),
            app_secret=env.get("PARLEY_MESSENGER_APP_SECRET", ""),
            verify_token=env.get("PARLEY_MESSENGER_VERIFY_TOKEN", ""),
            graph_api_url=env.get("GRAPH_API_URL") or DEFAULT_GRAPH_API_URL,
            allowed_tags=tuple(tag.strip().upper() for tag in tags.split(",") if tag.strip()),
            graph_timeout=_seconds(env.get("PARLEY_GRAPH_TIMEOUT") or "10"),
        )


def _seconds(raw: str) -> float:
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 300:
        raise ValueError(f"PARLEY_GRAPH_TIMEOUT must be seconds between 0 and 300, not {raw!r}")
    return seconds
