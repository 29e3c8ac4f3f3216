"""Many commands in one round trip, packed in C: the engine's hot path without redis-py's
per-argument work.

A batched commit sends about 85 arguments per event; redis-py's pipeline encodes each one
in Python, and that was a third of the engine's CPU per event. hiredis, which redis-py
already uses to parse replies, packs a whole command in C. `Wire.call_many` packs every
command with it, writes them all at once on one of the client's pooled connections and
reads the replies in order, an error reply kept as its value rather than raised.

On a Redis Cluster client, which must route each command to the node of its key's slot,
the commands go through redis-py's cluster pipeline instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
        if not commands:
            return []
        if self._cluster:
            pipe: Any = self.client.pipeline()
            for name, *args in commands:  # it routes by the name, which must be text
                pipe.execute_command(name.decode() if isinstance(name, bytes) else name, *args)
            return list(pipe.execute(raise_on_error=False))
        pool = cast(redis.Redis, self.client).connection_pool  # not a Cluster: see above
        connection: Any = pool.get_connection()  # redis-py's connections are untyped
        try:
            connection.send_packed_command([b"".join(map(_pack, commands))])
            return [_reply(connection) for _ in commands]
        except BaseException:
            connection.disconnect()  # a connection with replies unread must not be reused
            raise
        finally:
            pool.release(connection)

    def run_script(
        self, script: Script, calls: Sequence[tuple[Sequence[str], Sequence[Any]]]
    ) -> list[Any]:
        """`script` once per (keys, args), by EVALSHA; a server that does not know the script
        yet (it restarted, or a Cluster node was promoted) is given it and those calls are
        sent again, which is safe since a call refused with NOSCRIPT did nothing."""
        if script.sha not in self._loaded:  # else a first batch would all come back NOSCRIPT
            self.client.script_load(script.script)
            self._loaded.add(script.sha)
        commands = [(b"EVALSHA", script.sha, len(keys), *keys, *args) for keys, args in calls]
        replies = self.call_many(commands)
        missing = [n for n, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:
            self.client.script_load(script.script)
            for n, reply in zip(
                missing, self.call_many([commands[n] for n in missing]), strict=True
            ):
                replies[n] = reply
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise reply
        return replies


def _reply(connection: Any) -> Any:
    try:
        return connection.read_response()
    except ResponseError as err:
        return err
