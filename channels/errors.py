"""The errors of the channels: one base, so a caller can tell a channel's failure from a bug."""

from __future__ import annotations


class ChannelError(Exception):
    """Base of every error a channel (Messenger, email) raises."""
