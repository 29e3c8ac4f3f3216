"""A flow's email and webhook commands, carried out once their transaction has committed.

The chat layer's `Deliveries` port (chat/ports.py): the email goes through the SMTP mailer
from the deployment's templates, the webhook is an HTTP POST. Both log failures and report
them; neither raises, so a bad template or a target that hangs up never stops the commands
behind it.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.request
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from channels.email import EmailFailed, Mailer, render_email

log = logging.getLogger(__name__)


class FlowDeliveries:
    """Flows' emails by `mailer` (None: no SMTP settings) from `templates`, and webhooks."""

    def __init__(self, mailer: Mailer | None, templates: Path, now: Callable[[], datetime]) -> None:
        self.mailer = mailer
        self.templates = templates
        self.now = now  # the service's clock: templates format times by it

    def email(self, command: Mapping[str, Any], facts: Mapping[str, Any]) -> bool:
        """Send a flow's email from its template; failures are logged, never fatal."""
        args = command["args"]
        if self.mailer is None:
            log.warning(
                "flow %s: email %r not sent, no SMTP settings", command["flow"], args["template"]
            )
            return False
        try:
            now = self.now().timestamp()
            text, html = render_email(self.templates, args["template"], facts, now)
            subject = args.get("subject") or args["template"].replace("-", " ").capitalize()
            self.mailer.send(args["to"], subject, text, html)
        except EmailFailed as err:
            log.warning("flow %s: %s", command["flow"], err)
            return False
        return True

    def webhook(self, command: Mapping[str, Any]) -> bool:
        """POST a flow's webhook body as JSON; failures are logged."""
        args = command["args"]
        body = json.dumps(
            {
                "flow": command["flow"],
                "visitor_id": command["visitor_id"],
                "conversation_id": command["conversation_id"],
                "data": args["body"],
            }
        )
        request = urllib.request.Request(
            args["url"],
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "Parley"},
        )
        try:
            with urllib.request.urlopen(request, timeout=args["timeout"]) as response:
                status: int = response.status
                return 200 <= status < 300
        except (OSError, http.client.HTTPException, ValueError) as err:  # URLError: OSError
            log.warning("webhook %s of flow %s failed: %s", args["url"], command["flow"], err)
            return False
