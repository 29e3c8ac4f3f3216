"""The engine's packed round trips: replies in order, errors as values, scripts reloaded.

On the session's one Redis (`one_redis`): the packed path is one server's. A Cluster's
commands go through redis-py's cluster pipeline, which parses replies its own way (SET's is
True); the store's and the leases' tests run it on the Cluster.
"""

from __future__ import annotations

import uuid

import pytest
import redis

from engine.wire import Wire


@pytest.fixture
def key() -> str:
    return f"test-wire:{uuid.uuid4().hex}"


def test_replies_come_back_in_order_with_an_error_reply_as_its_value(
    one_redis: redis.Redis, key: str
) -> None:
    replies = Wire(one_redis).call_many(
        [(b"SET", key, 7), (b"INCRBY", key, 2.5), (b"INCRBY", key, 3), (b"GET", key)]
    )
    assert replies[0] == b"OK"
    assert isinstance(replies[1], redis.ResponseError)
    assert replies[2:] == [10, b"10"]


def test_a_script_the_server_forgot_is_loaded_again_and_run_once(
    one_redis: redis.Redis, key: str
) -> None:
    script = one_redis.register_script("return redis.call('INCR', KEYS[1])")
    wire = Wire(one_redis)
    assert wire.run_script(script, [([key], [])]) == [1]
    one_redis.script_flush()
    assert wire.run_script(script, [([key], []), ([key], [])]) == [2, 3]


def test_a_failing_script_raises_its_error(one_redis: redis.Redis, key: str) -> None:
    script = one_redis.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        Wire(one_redis).run_script(script, [([key], ["x"])])


def test_a_script_the_server_forgets_between_two_pieces_is_loaded_again_for_the_second(
    one_redis: redis.Redis, key: str
) -> None:
    script = one_redis.register_script("return redis.call('INCR', KEYS[1])")
    wire = Wire(one_redis)
    with wire.sending() as sent:
        wire.send_script(sent, script, [([key], [])])
        one_redis.script_flush()  # a restart, say: the first piece may have run or not
        wire.send_script(sent, script, [([key], []), ([key], [])])
        assert wire.script_replies(sent, script) == [1, 2, 3]
