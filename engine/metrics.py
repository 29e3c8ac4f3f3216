"""The funnel a flow promises, read back from Redis without scanning visitors.

Counters are kept per flow, per day and per shard, under two scopes: `all` and the flow
version. Unique-visitor figures (triggered, engaged, completed, completed after engaging,
per-step entries) are counted on the visitor's cohort day, the day of their first trigger,
so a sum over any range of days counts each visitor once. `triggers` and `retriggers`
count events on the day they happened.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.client import Client
from engine.errors import InvalidInput
from engine.keys import Keys, as_text
from engine.store import STATUSES

# A drill-down cursor: the last row's trigger time (epoch seconds, as Python writes a float),
# "~", its visitor id. Every string of this shape is a place in the list.
VISITOR_CURSOR = "^[0-9]{1,11}([.][0-9]{1,17})?~[^\\u0000]{1,200}$"


@dataclass(frozen=True, slots=True)
class Funnel:
    """One flow's figures over some days, for all versions or one."""

    flow_id: str
    scope: str  # "all" or a version
    triggers: int = 0
    retriggers: int = 0
    triggered: int = 0
    engaged: int = 0
    completed: int = 0
    completed_engaged: int = 0
    steps: dict[str, int] = field(default_factory=dict)

    @property
    def engagement_rate(self) -> float:
        """Engaged visitors / triggered visitors, in percent."""
        return _percent(self.engaged, self.triggered)

    @property
    def completion_rate(self) -> float:
        """Completed visitors / triggered visitors, in percent."""
        return _percent(self.completed, self.triggered)

    def as_json(self) -> dict[str, Any]:
        """The figures as a JSON-ready dict."""
        return {
            "flow": self.flow_id,
            "scope": self.scope,
            "triggers": self.triggers,
            "retriggers": self.retriggers,
            "triggered_visitors": self.triggered,
            "engaged_visitors": self.engaged,
            "completed_visitors": self.completed,
            "completed_after_engaging": self.completed_engaged,
            "engagement_rate": self.engagement_rate,
            "completion_rate": self.completion_rate,
            "steps": dict(self.steps),
        }


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _add(totals: dict[str, int], figures: dict[str, int]) -> None:
    for name, value in figures.items():
        totals[name] = totals.get(name, 0) + value


def _funnel(flow_id: str, scope: str, totals: dict[str, int]) -> Funnel:
    steps = {k[5:]: v for k, v in totals.items() if k.startswith("step:")}
    plain = {k: v for k, v in totals.items() if not k.startswith("step:")}
    return Funnel(flow_id, scope, steps=steps, **plain)


class Metrics:
    """Reads funnels and per-visitor drill-downs."""

    def __init__(self, client: Client, keys: Keys | None = None) -> None:
        self.redis = client
        self.keys = keys or Keys()

    def funnel(
        self, flow_id: str, days: Sequence[str] | None = None, version: str | None = None
    ) -> Funnel:
        """The flow's funnel over `days` (every day with figures when None)."""
        scope = version or "all"
        totals: dict[str, int] = {}
        for counters in self._days(flow_id, days).values():
            _add(totals, counters.get(scope, {}))
        return _funnel(flow_id, scope, totals)

    def daily(
        self, flow_id: str, days: Sequence[str] | None = None, version: str | None = None
    ) -> dict[str, Funnel]:
        """The flow's funnel of each day, oldest first (every day with figures when None)."""
        scope = version or "all"
        return {
            day: _funnel(flow_id, scope, counters.get(scope, {}))
            for day, counters in self._days(flow_id, days).items()
        }

    def by_version(self, flow_id: str, days: Sequence[str] | None = None) -> dict[str, Funnel]:
        """The funnel of each version with figures over `days`, by version."""
        totals: dict[str, dict[str, int]] = {}
        for counters in self._days(flow_id, days).values():
            for scope, figures in counters.items():
                if scope != "all":
                    _add(totals.setdefault(scope, {}), figures)
        return {scope: _funnel(flow_id, scope, totals[scope]) for scope in sorted(totals)}

    def _days(
        self, flow_id: str, days: Sequence[str] | None
    ) -> dict[str, dict[str, dict[str, int]]]:
        """Each day's counters, summed over the shards: day -> scope -> counter -> value."""
        shards = range(self.keys.shards)
        if days is None:
            pipe = self.redis.pipeline(transaction=False)
            for shard in shards:
                pipe.smembers(self.keys.metric_days(shard, flow_id))
            days = sorted({as_text(day) for found in pipe.execute() for day in found})
        pipe = self.redis.pipeline(transaction=False)
        for day in days:
            for shard in shards:
                pipe.hgetall(self.keys.metrics(shard, flow_id, day))
        replies = iter(pipe.execute())
        found: dict[str, dict[str, dict[str, int]]] = {}
        for day in days:
            scopes = found.setdefault(day, {})
            for counters in (next(replies) for _ in shards):
                for name, value in counters.items():
                    scope, _, metric = as_text(name).partition(":")
                    figures = scopes.setdefault(scope, {})
                    figures[metric] = figures.get(metric, 0) + int(value)
        return found

    def drill_down(
        self,
        flow_id: str,
        *,
        status: str | None = None,
        since: float | None = None,
        until: float | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Visitors of a flow, newest trigger first, a page at a time.

        Filter by status (completed, engaged, not_engaged) and by last-trigger time;
        pass the returned cursor to get the next page (None when there is none).
        """
        after = None if cursor is None else _decode_cursor(cursor)
        top: float | str = after[0] if after else ("+inf" if until is None else until)
        low: float | str = "-inf" if since is None else since
        statuses = [status] if status else list(STATUSES)
        indexes = [
            self.keys.funnel_index(shard, flow_id, name)
            for shard in range(self.keys.shards)
            for name in statuses
        ]
        found = self._newest(indexes, (top, low), after, limit + 1)  # one more: is there a next?
        page = found[:limit]
        rows = self._rows(flow_id, [visitor for _, visitor in page])
        return rows, (_encode_cursor(*page[-1]) if len(found) > limit else None)

    def _newest(
        self,
        indexes: list[str],
        bounds: tuple[float | str, float | str],
        after: tuple[float, str] | None,
        limit: int,
    ) -> list[tuple[float, str]]:
        """The `limit` newest entries over many sorted sets, below the cursor `after`.

        It reads a few entries from every set, then more only from the sets that might
        still hold some of the newest: a page costs a round trip or two, not a read of
        `limit` entries from each of the hundreds of sets.
        """
        fetched: dict[str, list[tuple[float, str]]] = {index: [] for index in indexes}
        exhausted: set[str] = set()
        want = max(4, 2 * limit // len(indexes) + 1)
        pending, newest = list(indexes), []
        while pending:
            pipe = self.redis.pipeline(transaction=False)
            for index in pending:
                start = len(fetched[index])
                pipe.zrevrangebyscore(index, *bounds, start, want, withscores=True)
            for index, page in zip(pending, pipe.execute(), strict=True):
                fetched[index] += [(float(score), as_text(member)) for member, score in page]
                if len(page) < want:
                    exhausted.add(index)
            candidates = (i for items in fetched.values() for i in items)
            newest = sorted((i for i in candidates if after is None or i < after), reverse=True)
            newest = newest[:limit]
            floor = newest[-1] if len(newest) == limit else None
            pending = [
                index
                for index in indexes
                if index not in exhausted and (floor is None or fetched[index][-1] >= floor)
            ]
            want *= 2
        return newest

    def _rows(self, flow_id: str, visitor_ids: list[str]) -> list[dict[str, Any]]:
        pipe = self.redis.pipeline(transaction=False)
        for visitor_id in visitor_ids:
            pipe.hget(self.keys.funnel(self.keys.shard(visitor_id), flow_id), visitor_id)
        return [json.loads(raw) for raw in pipe.execute() if raw]


def _encode_cursor(score: float, visitor_id: str) -> str:
    return f"{score!r}~{visitor_id}"


def _decode_cursor(cursor: str) -> tuple[float, str]:
    if not re.search(VISITOR_CURSOR, cursor):
        raise InvalidInput("cursor", "not a cursor this API returned")
    score, _, visitor_id = cursor.partition("~")
    return float(score), visitor_id


_PROMETHEUS = (
    ("parley_flow_triggers_total", "counter", "Times the flow's trigger fired.", "triggers"),
    (
        "parley_flow_retriggers_total",
        "counter",
        "Triggers while the flow was running.",
        "retriggers",
    ),
    (
        "parley_flow_triggered_visitors",
        "gauge",
        "Visitors the flow was triggered for.",
        "triggered",
    ),
    ("parley_flow_engaged_visitors", "gauge", "Visitors who engaged with the flow.", "engaged"),
    ("parley_flow_completed_visitors", "gauge", "Visitors who reached an end step.", "completed"),
)


def prometheus_text(funnels: Sequence[Funnel]) -> str:
    """The funnels in Prometheus' text exposition format."""
    lines = []
    for name, kind, help_text, field_name in _PROMETHEUS:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        lines += [f'{name}{{flow="{f.flow_id}"}} {getattr(f, field_name)}' for f in funnels]
    name = "parley_flow_step_visitors"
    lines += [f"# HELP {name} Visitors who entered the step.", f"# TYPE {name} gauge"]
    for funnel in funnels:
        lines += [
            f'{name}{{flow="{funnel.flow_id}",step="{step}"}} {count}'
            for step, count in funnel.steps.items()
        ]
    return "\n".join(lines) + "\n"
