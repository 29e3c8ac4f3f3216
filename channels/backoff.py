"""How long a channel's background job waits before trying a remote service again.

One policy for every job that calls out (Messenger sends, Page syncs): what the remote side
said to wait (a usage header's time to regain access) when it said it, else a wait that
doubles with each failure in a row from `base`, capped at `cap`; then up to a fifth more at
random, so that many jobs throttled together do not all come back in the same second.
"""

from __future__ import annotations

import random
from collections.abc import Callable

JITTER = 0.2  # the random part, as a share of the wait


def retry_wait(
    failures: int,
    *,
    told: float | None = None,
    base: float = 2.0,
    cap: float = 300.0,
    chance: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after `failures` (1 for the first) failures in a row."""
    wait = told if told else min(cap, base * 2.0 ** max(0, failures - 1))
    return wait * (1.0 + JITTER * chance())
