"""What the engine has not got through yet, read from Redis for a metrics scrape.

Per shard: events not yet delivered to a worker (`waiting`, a stream's lag) and events
delivered but not acknowledged (`pending`); the same for the command outboxes; the timers in
the schedule, and those already due that no worker has fired. It costs two round trips
whatever the number of shards: the streams' groups and every shard's list of minutes first,
then one small count per minute that holds timers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from engine.client import Client
from engine.keys import Keys
from engine.worker import GROUP as WORKER_GROUP

# Redis 6.2 reports no `lag`: its stand-in is a read of the entries after the group's last
# delivered one, this many at most per shard (a larger backlog shows as this number).
LAG_READ_LIMIT = 1_000


@dataclass(frozen=True, slots=True)
class StreamBacklog:
    """One shard's stream as one consumer group sees it."""

    waiting: int  # entries no consumer of the group has been given yet
    pending: int  # entries given to a consumer and not acknowledged

    @property
    def outstanding(self) -> int:
        """Entries not yet done with."""
        return self.waiting + self.pending


@dataclass(frozen=True, slots=True)
class Backlog:
    """The engine's backlog at one moment."""

    events: tuple[StreamBacklog, ...]  # by shard, for the engine's workers
    commands: tuple[StreamBacklog, ...]  # by shard, for the group carrying commands out
    timers_pending: int
    timers_due: int  # due at the time given, not fired yet


def read_backlog(client: Client, keys: Keys, now: float, command_group: str) -> Backlog:
    """The backlog of every shard; timers count as due when due at `now` or earlier."""
    shards = range(keys.shards)
    pipe = client.pipeline(transaction=False)
    for shard in shards:
        _ask_stream(pipe, keys.events(shard))
        _ask_stream(pipe, keys.commands(shard))
        pipe.zrange(keys.timer_buckets(shard), 0, -1)
    replies = pipe.execute(raise_on_error=False)
    streams, buckets = [], []
    for shard in shards:
        events_info, events_length, commands_info, commands_length, minutes = replies[
            5 * shard : 5 * shard + 5
        ]
        streams.append((keys.events(shard), WORKER_GROUP, events_info, events_length))
        streams.append((keys.commands(shard), command_group, commands_info, commands_length))
        buckets += [(shard, int(minute)) for minute in _ok(minutes, [])]
    backlogs, (pending, due) = _second_round(client, keys, now, streams, buckets)
    return Backlog(tuple(backlogs[0::2]), tuple(backlogs[1::2]), pending, due)


def _ask_stream(pipe: Any, stream: str) -> None:
    pipe.xinfo_groups(stream)
    pipe.xlen(stream)


def _second_round(
    client: Client,
    keys: Keys,
    now: float,
    streams: list[tuple[str, str, Any, Any]],
    buckets: list[tuple[int, int]],
) -> tuple[list[StreamBacklog], tuple[int, int]]:
    """Count the timers of each minute and, where Redis gave no lag, the waiting entries."""
    now_bucket, now_offset = Keys.timer_slot(now, due=False)
    pipe = client.pipeline(transaction=False)
    for shard, bucket in buckets:
        pipe.zcard(keys.timers(shard, bucket))
        if bucket == now_bucket:
            pipe.zcount(keys.timers(shard, bucket), "-inf", now_offset)
    seen = [_seen(pipe, *stream) for stream in streams]
    replies = iter(pipe.execute())
    pending = due = 0
    for _, bucket in buckets:
        count = int(next(replies))
        pending += count
        if bucket < now_bucket:
            due += count
        elif bucket == now_bucket:
            due += int(next(replies))
    backlogs = [
        StreamBacklog(len(next(replies)) if waiting is None else waiting, held)
        for waiting, held in seen
    ]
    return backlogs, (pending, due)


def _seen(pipe: Any, stream: str, group: str, info: Any, length: Any) -> tuple[int | None, int]:
    """(waiting, pending) of `group` on `stream` from XINFO GROUPS; waiting None when Redis
    gave no lag, after queueing on `pipe` the read that stands in for it."""
    found = next((g for g in _ok(info, []) if g["name"] in (group, group.encode())), None)
    if found is None:  # no group yet (or no stream): every entry waits for it
        return int(_ok(length, 0)), 0
    lag = found.get("lag")  # absent before Redis 7; null when Redis cannot tell
    if lag is not None:
        return int(lag), int(found["pending"])
    last = found["last-delivered-id"]
    last = last if isinstance(last, bytes) else str(last).encode()
    pipe.xrange(stream, min=b"(" + last, max="+", count=LAG_READ_LIMIT)
    return None, int(found["pending"])


def _ok(reply: Any, default: Any) -> Any:
    """A pipeline reply, or `default` for the error Redis gives about a key not there."""
    if isinstance(reply, redis.ResponseError):
        if "no such key" not in str(reply).lower():
            raise reply
        return default
    return reply
