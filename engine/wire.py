"""Many commands in one round trip, packed in C: the engine's hot path without redis-py's
per-argument work.

A batched commit sends about 85 arguments per event; redis-py's pipeline encodes each one
in Python, and that was a third of the engine's CPU per event. hiredis, which redis-py
already uses to parse replies, packs a whole command in C. `Wire.call_many` packs every
command with it, writes them all at once on one of the client's pooled connections and
reads the replies in order, an error reply kept as its value rather than raised.
`Wire.sending` does the same in pieces: each piece is written as soon as it is given and
the replies are read at the end, so the server works through the first pieces while the
caller prepares the next (a batch's commits, see `RedisStore.commit_many`).

On a Redis Cluster client, which must route each command to the node of its key's slot,
the commands go through redis-py's cluster pipeline instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import redis
from hiredis import pack_command
from redis.commands.core import Script
from redis.exceptions import NoScriptError, ResponseError

from engine.client import Client

Command = tuple[bytes | str | int | float, ...]
# hiredis' stub declares a one-element tuple; it packs a tuple of any length
_pack = cast(Callable[[Command], bytes], pack_command)


class Wire:
    """Sends lists of commands for one client and returns their replies."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._cluster = isinstance(client, redis.RedisCluster)
        self._loaded: set[str] = set()  # scripts given to the server by this process

    def call_many(self, commands: Sequence[Command]) -> list[Any]:
        """Every command's reply, in order; an error reply is a `ResponseError` in the list."""
        with self.sending() as sent:
            sent.send(commands)
            return sent.replies()

    @contextmanager
    def sending(self) -> Iterator[Sending]:
        """Commands sent as they are given, their replies read at the end, in order: the
        server runs the first ones while the caller prepares the next (on a Cluster client
        they are only collected, and all go out when the replies are asked for).

        Leaving the block before the replies were read drops the connection, which must
        not be reused with replies unread; what was sent may have run all the same, or
        part of it. Callers send only what is safe so: the engine's commits check the
        state's revision and the events they apply are recognised when redelivered."""
        sending = Sending(self.client, self._cluster)
        try:
            yield sending
        finally:
            sending.close()

    def run_script(
        self, script: Script, calls: Iterable[tuple[Sequence[str], Sequence[Any]]]
    ) -> list[Any]:
        """`script` once per (keys, args), by EVALSHA; see `script_replies` for a server
        that does not know the script."""
        with self.sending() as sent:
            self.send_script(sent, script, calls)
            return self.script_replies(sent, script)

    def send_script(
        self, sent: Sending, script: Script, calls: Iterable[tuple[Sequence[str], Sequence[Any]]]
    ) -> None:
        """Send `script` once per (keys, args), by EVALSHA; `script_replies` reads them."""
        if script.sha not in self._loaded:  # else a first batch would all come back NOSCRIPT
            self.client.script_load(script.script)
            self._loaded.add(script.sha)
        sent.send([(b"EVALSHA", script.sha, len(keys), *keys, *args) for keys, args in calls])

    def script_replies(self, sent: Sending, script: Script) -> list[Any]:
        """The replies of what was sent on `sent`, every command a call of `script`.

        A server that did not know the script (it restarted, or a Cluster node was
        promoted) is given it and those calls are sent again, which is safe since a call
        refused with NOSCRIPT did nothing."""
        replies = sent.replies()
        missing = [n for n, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:
            self.client.script_load(script.script)
            again = self.call_many([sent.commands[n] for n in missing])
            for n, reply in zip(missing, again, strict=True):
                replies[n] = reply
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise reply
        return replies


class Sending:
    """Commands on their way on one pooled connection (see `Wire.sending`)."""

    def __init__(self, client: Client, cluster: bool) -> None:
        self.client = client
        self.cluster = cluster
        self.commands: list[Command] = []
        self._connection: Any = None  # redis-py's connections are untyped
        self._unread = 0

    def send(self, commands: Sequence[Command]) -> None:
        """Send the commands now (on a Cluster client: keep them for `replies`)."""
        self.commands += commands
        if self.cluster or not commands:
            return
        if self._connection is None:
            pool = cast(redis.Redis, self.client).connection_pool
            self._connection = pool.get_connection()
        self._connection.send_packed_command([b"".join(map(_pack, commands))])
        self._unread += len(commands)

    def replies(self) -> list[Any]:
        """Every reply of what was sent, in order; an error reply is a `ResponseError`.
        Asked for once per block (a Cluster client would send everything again)."""
        if self.cluster:
            pipe: Any = self.client.pipeline()
            for name, *args in self.commands:  # it routes by the name, which must be text
                pipe.execute_command(name.decode() if isinstance(name, bytes) else name, *args)
            return list(pipe.execute(raise_on_error=False)) if self.commands else []
        replies = [_reply(self._connection) for _ in range(self._unread)]
        self._unread = 0
        return replies

    def close(self) -> None:
        """Give the connection back, or drop it if replies are still unread."""
        if self._connection is None:
            return
        if self._unread:
            self._connection.disconnect()
        cast(redis.Redis, self.client).connection_pool.release(self._connection)
        self._connection = None


def _reply(connection: Any) -> Any:
    try:
        return connection.read_response()
    except ResponseError as err:
        return err
