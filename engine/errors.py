"""Errors of the engine: one base, subclasses carrying the facts."""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine raises."""


class InvalidInput(EngineError):
    """An event or query the engine cannot accept; names the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class ConflictError(EngineError):
    """A visitor's state changed under us more times than we retry; the event is redelivered."""

    def __init__(self, visitor_id: str) -> None:
        self.visitor_id = visitor_id
        super().__init__(f"visitor {visitor_id}: state kept changing while the event was applied")
