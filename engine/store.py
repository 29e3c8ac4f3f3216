"""The engine's Redis store: load a visitor's state, commit it with everything it caused.

A commit is one Lua script over keys of one shard (see `engine.keys`): it checks the
state's revision (a concurrent writer makes it fail, and the caller re-applies the event
on the fresh state), writes the state, moves the timer schedule, appends commands to the
outbox stream, moves the counters and drill-down rows, and records the trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

import orjson

from engine.client import Client
from engine.codec import dumps
from engine.effects import Effects
from engine.keys import BUCKET_MS, Keys, as_text
from engine.state import VisitorState
from engine.wire import Wire

TRACE_RECORDS = 50  # trace records kept per visitor
COMMAND_STREAM_LENGTH = 100_000  # approximate cap of each shard's command outbox
COMMIT_CHUNK = 16  # commits per write while a batch is applied (see commit_many)
STATUSES = ("completed", "engaged", "not_engaged")  # from the last a visitor reaches

# ARGV[1] expected revision, ARGV[2] state JSON, then the operations one after another:
# each is its name, its key (an index into KEYS) and its arguments, some of them counts of
# the pairs or keys that follow. Flat arguments, not a JSON list: decoding JSON in Lua was
# a third of a commit's Redis time; and one operation per thing the commit moves (a flow's
# counters of a day, a drill-down row with its index), since every argument costs packing.
# A timer goes into its minute's bucket and the minute into the shard's list of minutes
# (the list's index in KEYS comes first); the last timer out takes the minute off the
# list, so the list never names an empty bucket.
_COMMIT = """
local rev = tonumber(redis.call('HGET', KEYS[1], 'rev') or '0')
if rev ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'rev', rev + 1, 'state', ARGV[2])
local i = 3
while i <= #ARGV do
  local name, key = ARGV[i], KEYS[tonumber(ARGV[i + 1])]
  if name == 'schedule' then  -- minutes, offset, member, bucket
    redis.call('ZADD', key, ARGV[i + 3], ARGV[i + 4])
    redis.call('ZADD', KEYS[tonumber(ARGV[i + 2])], ARGV[i + 5], ARGV[i + 5])
    i = i + 6
  elseif name == 'unschedule' then  -- minutes, member, bucket
    redis.call('ZREM', key, ARGV[i + 3])
    if redis.call('EXISTS', key) == 0 then
      redis.call('ZREM', KEYS[tonumber(ARGV[i + 2])], ARGV[i + 4])
    end
    i = i + 5
  elseif name == 'count' then  -- days, day, n, then n (counter, delta) pairs
    local n = tonumber(ARGV[i + 4])
    for j = i + 5, i + 3 + 2 * n, 2 do redis.call('HINCRBY', key, ARGV[j], ARGV[j + 1]) end
    redis.call('SADD', KEYS[tonumber(ARGV[i + 2])], ARGV[i + 3])
    i = i + 5 + 2 * n
  elseif name == 'row' then  -- visitor, row, index, score, n, then n indexes it leaves
    local visitor = ARGV[i + 2]
    redis.call('HSET', key, visitor, ARGV[i + 3])
    redis.call('ZADD', KEYS[tonumber(ARGV[i + 4])], ARGV[i + 5], visitor)
    local n = tonumber(ARGV[i + 6])
    for j = i + 7, i + 6 + n do redis.call('ZREM', KEYS[tonumber(ARGV[j])], visitor) end
    i = i + 7 + n
  elseif name == 'unrow' then  -- visitor, n, then n indexes
    redis.call('HDEL', key, ARGV[i + 2])
    local n = tonumber(ARGV[i + 3])
    for j = i + 4, i + 3 + n do redis.call('ZREM', KEYS[tonumber(ARGV[j])], ARGV[i + 2]) end
    i = i + 4 + n
  elseif name == 'xadd' then  -- entry, cap
    redis.call('XADD', key, 'MAXLEN', '~', ARGV[i + 3], '*', 'command', ARGV[i + 2])
    i = i + 4
  elseif name == 'lpush' then  -- cap, n, then n records, oldest first
    local n = tonumber(ARGV[i + 3])
    redis.call('LPUSH', key, unpack(ARGV, i + 4, i + 3 + n))
    redis.call('LTRIM', key, 0, ARGV[i + 2] - 1)
    i = i + 4 + n
  elseif name == 'del' then
    redis.call('DEL', key)
    i = i + 2
  else
    return redis.error_reply('unknown commit operation ' .. name)
  end
end
return 1
"""


class RedisStore:
    """Visitor states, their effects, and the read side of timers, funnels and traces."""

    def __init__(self, client: Client, keys: Keys | None = None) -> None:
        self.redis = client
        self.keys = keys or Keys()
        self.wire = Wire(client)
        self._commit = client.register_script(_COMMIT)

    def load(self, visitor_id: str) -> tuple[VisitorState, int]:
        """The visitor's state and its revision (a fresh state at revision 0)."""
        return self.load_many([visitor_id])[0]

    def load_many(self, visitor_ids: Sequence[str]) -> list[tuple[VisitorState, int]]:
        """Several visitors' states in one round trip."""
        replies = self.wire.call_many(
            [
                (b"HMGET", self.keys.visitor(visitor_id), b"rev", b"state")
                for visitor_id in visitor_ids
            ]
        )
        found = []
        for visitor_id, (rev, text) in zip(visitor_ids, replies, strict=True):
            state = VisitorState.from_json(text) if text else VisitorState(visitor_id)
            found.append((state, int(rev or 0)))
        return found

    def commit(self, state: VisitorState, rev: int, effects: Effects) -> bool:
        """Write state and effects atomically; False when the revision moved meanwhile."""
        [done] = self.wire.run_script(self._commit, [self._commit_args(state, rev, effects)])
        return bool(done)

    def commit_many(self, items: Iterable[tuple[VisitorState, int, Effects]]) -> list[bool]:
        """Several commits, each atomic on its own, with their replies read in one wait.

        The commits are sent `COMMIT_CHUNK` at a time as `items` yields them, so Redis runs
        the first ones while the caller is still applying the events of the next: the
        wait at the end is for the last chunk only (on one Redis; a Cluster client sends
        them all at the end, one pipeline per master).
        """
        with self.wire.sending() as sent:
            chunk: list[tuple[list[str], list[Any]]] = []
            for state, rev, effects in items:
                chunk.append(self._commit_args(state, rev, effects))
                if len(chunk) == COMMIT_CHUNK:
                    self.wire.send_script(sent, self._commit, chunk)
                    chunk = []
            self.wire.send_script(sent, self._commit, chunk)
            return [bool(done) for done in self.wire.script_replies(sent, self._commit)]

    def _commit_args(
        self, state: VisitorState, rev: int, effects: Effects
    ) -> tuple[list[str], list[Any]]:
        ops = _Ops(self.keys.visitor(state.visitor_id))
        shard = self.keys.shard(state.visitor_id)
        self._timer_ops(ops, state.visitor_id, shard, effects)
        for command in effects.commands:
            ops.add("xadd", self.keys.commands(shard), command.to_json(), COMMAND_STREAM_LENGTH)
        for (flow_id, day), moves in _counters(effects).items():
            days = ops.index(self.keys.metric_days(shard, flow_id))
            pairs = [item for move in moves.items() for item in move]
            ops.add("count", self.keys.metrics(shard, flow_id, day), days, day, len(moves), *pairs)
        for flow_id, record in effects.funnel.items():
            if flow_id not in state.funnel:
                continue  # the visitor was forgotten later in this batch
            # a record's status only moves on (not engaged, engaged, completed), so the row
            # can only be leaving the indexes of the statuses before its own
            status = STATUSES.index(record.status)
            index, *before = (
                ops.index(self.keys.funnel_index(shard, flow_id, name))
                for name in STATUSES[status:]
            )
            row = state.drill_down_json(flow_id)
            funnel = self.keys.funnel(shard, flow_id)
            ops.add("row", funnel, state.visitor_id, row, index, record.last, len(before), *before)
        for flow_id in effects.forget:
            indexes = [ops.index(self.keys.funnel_index(shard, flow_id, s)) for s in STATUSES]
            funnel = self.keys.funnel(shard, flow_id)
            ops.add("unrow", funnel, state.visitor_id, len(indexes), *indexes)
        if effects.forgotten:
            ops.add("del", self.keys.trace(state.visitor_id))
            return ops.keys, [rev, state.to_json(), *ops.args]
        records = [
            dumps({"event": event_id, "lines": lines})
            for event_id, lines in effects.trace_records()
        ]
        if records:
            ops.add(
                "lpush", self.keys.trace(state.visitor_id), TRACE_RECORDS, len(records), *records
            )
        return ops.keys, [rev, state.to_json(), *ops.args]

    def _timer_ops(self, ops: _Ops, visitor_id: str, shard: int, effects: Effects) -> None:
        buckets = self.keys.timer_buckets(shard)
        for added, timer in effects.timers:
            bucket, offset = Keys.timer_slot(timer.due)
            member = Keys.timer_member(visitor_id, timer.key, timer.generation)
            key, minutes = self.keys.timers(shard, bucket), ops.index(buckets)
            if added:
                ops.add("schedule", key, minutes, offset, member, bucket)
            else:
                ops.add("unschedule", key, minutes, member, bucket)

    def due_timers(
        self, now: float, limit: int = 500, shards: Iterable[int] | None = None
    ) -> list[tuple[str, str, float]]:
        """Timers due at `now` in `shards` (default: all), up to `limit` per shard: (visitor
        id, `key@generation`, due).

        Only each shard's earliest minute is read: a minute wholly past is all due, and
        once its timers have fired, the next call reads the minute after it.
        """
        now_bucket, now_offset = Keys.timer_slot(now, due=False)
        found = self._buckets(now_bucket, 1, shards)
        pipe = self.redis.pipeline(transaction=False)
        for shard, bucket in found:
            top = now_offset if bucket == now_bucket else "+inf"
            pipe.zrangebyscore(self.keys.timers(shard, bucket), "-inf", top, 0, limit, True)
        due = []
        for (_, bucket), members in zip(found, pipe.execute(), strict=True):
            for member, offset in members:
                visitor_id, _, timer = as_text(member).partition("\x1f")
                due.append((visitor_id, timer, (bucket * BUCKET_MS + offset) / 1000))
        return due

    def next_due(self) -> float | None:
        """When the earliest pending timer of any shard falls due, or None."""
        found = self._buckets("+inf", 1)
        pipe = self.redis.pipeline(transaction=False)
        for shard, bucket in found:
            pipe.zrange(self.keys.timers(shard, bucket), 0, 0, withscores=True)
        earliest = pipe.execute()
        dues = [
            (bucket * BUCKET_MS + offset) / 1000
            for (_, bucket), first in zip(found, earliest, strict=True)
            for _, offset in first
        ]
        return min(dues, default=None)

    def pending_timers(self) -> int:
        """How many timers wait in all shards."""
        pipe = self.redis.pipeline(transaction=False)
        for shard, bucket in self._buckets("+inf", -1):
            pipe.zcard(self.keys.timers(shard, bucket))
        return sum(pipe.execute())

    def _buckets(
        self, until: int | str, count: int, shards: Iterable[int] | None = None
    ) -> list[tuple[int, int]]:
        """(shard, bucket) of each shard's first `count` minutes up to `until` (-1: all)."""
        shards = list(_all(self.keys, shards))
        pipe = self.redis.pipeline(transaction=False)
        for shard in shards:
            pipe.zrangebyscore(self.keys.timer_buckets(shard), "-inf", until, 0, count)
        found = pipe.execute()
        return [
            (shard, int(bucket))
            for shard, buckets in zip(shards, found, strict=True)
            for bucket in buckets
        ]

    def traces(self, visitor_id: str) -> list[dict[str, Any]]:
        """The visitor's latest trace records, newest first."""
        return [orjson.loads(raw) for raw in self.redis.lrange(self.keys.trace(visitor_id), 0, -1)]

    def read_commands(self, shards: Iterable[int] | None = None) -> list[dict[str, Any]]:
        """Every command in the outbox streams (for the simulator and tests)."""
        pipe = self.redis.pipeline(transaction=False)
        for shard in _all(self.keys, shards):
            pipe.xrange(self.keys.commands(shard))
        return [
            orjson.loads(cast(dict[bytes, bytes], fields)[b"command"])
            for entries in pipe.execute()
            for _, fields in entries
        ]


def _counters(effects: Effects) -> dict[tuple[str, str], dict[str, int]]:
    """The counter moves summed per (flow, day) and counter."""
    found: dict[tuple[str, str], dict[str, int]] = {}
    for move in effects.counters:
        moves = found.setdefault((move.flow, move.day), {})
        moves[move.name] = moves.get(move.name, 0) + move.delta
    return found


def _all(keys: Keys, shards: Iterable[int] | None) -> Iterable[int]:
    return range(keys.shards) if shards is None else shards


class _Ops:
    """Collects Lua operations and the KEYS they touch (Cluster needs every key declared)."""

    def __init__(self, visitor_key: str) -> None:
        self.keys = [visitor_key]
        self._index = {visitor_key: 1}
        self.args: list[Any] = []  # the commit script's ARGV after the state

    def add(self, name: str, key: str, *args: Any) -> None:
        """Append an operation on `key`."""
        self.args += (name, self.index(key), *args)

    def index(self, key: str) -> int:
        """The position of `key` in KEYS (1-based, as Lua counts), declaring it if new."""
        if key not in self._index:
            self.keys.append(key)
            self._index[key] = len(self.keys)
        return self._index[key]
