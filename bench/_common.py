"""Shared set-up for the engine benchmarks: a real Redis, generated flows, visitors, baselines.

Not a benchmark itself. The scripts beside it import it as `_common` (they run as
`python bench/NAME.py`, which puts this folder first on `sys.path`).
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import redis

from engine.client import Client
from engine.core import Engine
from engine.events import Event, EventType
from engine.flows import FlowRegistry
from engine.keys import Keys
from engine.ports import Clock
from engine.redis_server import EmbeddedRedis
from engine.store import RedisStore
from engine.wire import Wire
from engine.worker import collect_less_often

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z, ManualClock's default start
CHANNELS = ("widget", "messenger", "whatsapp", "widget")


# -- Redis ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Server:
    """The Redis a benchmark runs on."""

    client: redis.Redis
    name: str
    local_pid: int | None  # the redis-server this run started, else None


@contextmanager
def real_redis() -> Iterator[Server]:
    """A client on REDIS_URL, else on a redis-server started for this run."""
    url = os.environ.get("REDIS_URL")
    if url:
        client = redis.Redis.from_url(url)
        try:
            yield Server(client, f"REDIS_URL, redis {_server_version(client)}", None)
        finally:
            client.close()
        return
    folder = Path(tempfile.mkdtemp(prefix="parley-bench-", dir="/tmp"))
    try:
        with EmbeddedRedis(folder) as embedded:
            client = embedded.client()
            pid = int(client.info("server")["process_id"])
            name = f"embedded redis-server {_server_version(client)}, unix socket, AOF everysec"
            yield Server(client, name, pid)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _server_version(client: redis.Redis) -> str:
    info = client.info("server")
    return f"{info.get('redis_version', '?')}"


PLACEMENTS = ("split", "same", "none")


def place(server: Server, placement: str) -> str:
    """Pin this process and a local redis-server to CPUs; says what was done.

    On a small VM a round trip between processes on two CPUs costs several times one on a
    single CPU, and the scheduler moves them at will, so unpinned figures swing by 4x from
    run to run. `split` puts the client on the first CPU and the server on the second (as a
    Redis on its own core or host would be); `same` puts both on the first; `none` leaves
    the scheduler free. The baseline and the engine are measured under the same placement.
    """
    cpus = sorted(os.sched_getaffinity(0))
    if placement == "none" or len(cpus) < 2:
        return "not pinned"
    if server.local_pid is None:
        return "not pinned (REDIS_URL: not a server this run started)"
    tasks = Path(f"/proc/{server.local_pid}/task")
    server_cpu = cpus[1] if placement == "split" else cpus[0]
    for task in tasks.iterdir():  # every thread: the main one, AOF fsync, lazy free
        os.sched_setaffinity(int(task.name), {server_cpu})
    os.sched_setaffinity(0, {cpus[0]})
    return f"client on CPU {cpus[0]}, redis-server on CPU {server_cpu}"


def host_load() -> str:
    """The host's 1-minute load average: other work on a 2-core machine skews every figure."""
    return f"host load average (1 min) {os.getloadavg()[0]:.2f}"


def run_prefix(name: str) -> str:
    """A key prefix no other run uses, so a shared REDIS_URL server is not disturbed."""
    return f"bench-{os.getpid()}-{name}"


def drop_prefix(client: Client, prefix: str) -> None:
    """Delete every key under `prefix` (what this run wrote): one key a command, pipelined,
    so that it also runs on a Cluster (whose keys of one command must share a slot)."""
    pipe = client.pipeline(transaction=False)
    for key in client.scan_iter(match=f"{prefix}*", count=10_000):
        pipe.unlink(key)
        if len(pipe) >= 10_000:
            pipe.execute()
    pipe.execute()


def used_memory(client: redis.Redis) -> int:
    """The server's `used_memory` (INFO memory), in bytes."""
    return int(client.info("memory")["used_memory"])


def round_trips_per_second(client: redis.Redis, count: int = 5_000, runs: int = 3) -> float:
    """Baseline: redis-py single-command round trips per second (INCR, one per trip).

    The median of `runs` loops of `count` commands on a key of its own.
    """
    key = run_prefix("baseline")
    rates = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(count):
            client.incr(key)
        rates.append(count / (time.perf_counter() - started))
    client.delete(key)
    return statistics.median(rates)


FLOOR = "one script writing the state per event, sent as the engine sends it, no engine work"


def state_write_floor(
    client: redis.Redis, events: int = 6_400, state_bytes: int = 3_000, *, pipelined: bool = True
) -> float:
    """Events/s of one commit per event with no engine work at all.

    One script per visitor that only writes a state of `state_bytes` (the throughput
    workload's are ~3 KB), sent as the engine sends its commits (`engine.wire`): what Redis
    and the client cost. The engine keeps the states it committed (`engine.kept`), so a
    visitor's next event needs no load; the floor needs none either. Pipelined (all the
    commits in one round trip), it bounds a batched engine, which does that and more per
    event. Not pipelined, each commit waits for its reply as `Engine.handle` does: it
    bounds an unbatched one.
    """
    prefix = run_prefix("floor")
    script = client.register_script(
        "redis.call('HSET', KEYS[1], 'rev', ARGV[1], 'state', ARGV[2]) return 1"
    )
    wire = Wire(client)
    state = b"x" * state_bytes
    calls = [([f"{prefix}:{{p{n % 64}}}:visitor:v{n}"], [1, state]) for n in range(events)]
    started = time.perf_counter()
    if pipelined:
        wire.run_script(script, calls)
    else:  # each event's commit on its own, as Engine.handle does
        for call in calls:
            wire.run_script(script, [call])
    rate = events / (time.perf_counter() - started)
    drop_prefix(client, prefix)
    return rate


@dataclass(slots=True)
class Yardstick:
    """The baseline and both floors, measured together at several points of a run.

    Other work on a small host comes and goes through a run, so each is measured before
    every part and after, and the medians are used: a ratio and its floor stand on the same
    moments.
    """

    count: int = 5_000  # INCRs per baseline loop
    round_trips: list[float] = field(default_factory=list)
    pipelined: list[float] = field(default_factory=list)
    one_by_one: list[float] = field(default_factory=list)

    def measure(self, client: redis.Redis) -> None:
        """Measure the baseline and both floors once more."""
        self.round_trips.append(round_trips_per_second(client, self.count))
        self.pipelined.append(state_write_floor(client, 2_000))
        self.one_by_one.append(state_write_floor(client, 500, pipelined=False))

    @property
    def baseline(self) -> float:
        """Round trips per second, the median."""
        return statistics.median(self.round_trips)

    def floor(self, *, pipelined: bool = True) -> float:
        """A floor's events per second, the median."""
        return statistics.median(self.pipelined if pipelined else self.one_by_one)

    def lines(self) -> list[str]:
        """What was measured, to print."""
        rates = ", ".join(f"{rate:,.0f}" for rate in self.round_trips)
        piped, one = self.floor(), self.floor(pipelined=False)
        return [
            f"baseline: redis-py single-command round trips (INCR): {self.baseline:,.0f}/s "
            f"(median of {rates}: before each part and after)",
            f"floors ({FLOOR}; medians): pipelined {piped:,.0f} events/s = "
            f"{piped / self.baseline:.2f}x the baseline, one round trip after the other "
            f"{one:,.0f} = {one / self.baseline:.2f}x",
        ]


# -- targets -----------------------------------------------------------------------------------

UNITS: dict[str, Callable[[float], str]] = {
    "x": lambda value: f"{value:.2f}x",
    "/s": lambda value: f"{value:,.0f}/s",
    "s": lambda value: f"{value:.2f} s",
    "bytes": lambda value: f"{value:.1f} bytes",
}


@dataclass(frozen=True, slots=True)
class Target:
    """A speed target: the figure measured, its goal, and the floor this machine sets.

    The floor is the best figure this machine allows whatever the engine does, measured
    without the engine in the same run (e.g. Redis and redis-py doing only the engine's
    loads and writes). It is printed beside a miss, so a reader sees whether the goal is
    in reach here at all.
    """

    name: str  # says the goal, e.g. "batched >= 2x round trips"
    value: float
    goal: float
    floor: float
    unit: str  # a key of UNITS
    most: bool = False  # the goal is a most (bytes, lateness), not a least

    def reaches(self, value: float) -> bool:
        """Whether `value` meets the goal."""
        return value <= self.goal if self.most else value >= self.goal

    def line(self) -> str:
        """`target NAME: VALUE MET`, or `... MISSED (floor F)`, said out of reach if it is."""
        show = UNITS[self.unit]
        if self.reaches(self.value):
            return f"target {self.name}: {show(self.value)} MET"
        reach = "" if self.reaches(self.floor) else ": out of reach here"
        return f"target {self.name}: {show(self.value)} MISSED (floor {show(self.floor)}{reach})"


# -- flows -----------------------------------------------------------------------------------

# (trigger block, top-level lines) of the ten generated flows: three start with the
# conversation, four on the visitor's messages (three by keyword), three on silence.
TRIGGERS: tuple[tuple[str, str], ...] = (
    (
        "trigger:\n  conversation_started:\n"
        '    when: contact.channel == "widget" and visitor.is_new\n',
        "",
    ),
    ('trigger:\n  conversation_started:\n    when: contact.channel == "messenger"\n', ""),
    ("trigger:\n  conversation_started:\n", "when: '\"vip\" not in contact.tags'\n"),
    ("trigger:\n  message_received:\n    keywords: [price, pricing, cost]\n", ""),
    ("trigger:\n  message_received:\n    keywords: [order, delivery, shipping]\n", ""),
    ("trigger:\n  message_received:\n    keywords: [agent, human, person]\n", "mode: restart\n"),
    ("trigger:\n  message_received:\n    when: len(message.text) > 0\n", ""),
    ("trigger:\n  visitor_timeout:\n    after: 10m\n", ""),
    ("trigger:\n  visitor_timeout:\n    after: 20m\n    visitors: [returning]\n", ""),
    ("trigger:\n  visitor_timeout:\n    after: 45m\n", 'when: contact.channel == "widget"\n'),
)
ENDS = ("bye", "handoff", "done")


def _step(index: int, last: int, rng: random.Random) -> str:
    """Step `s{index}` of a generated flow; every exit leads forward, so runs always end."""
    name, after = f"s{index}", (f"s{index + 1}" if index < last else "bye")
    jump = f"s{min(index + 2 + rng.randrange(3), last)}" if index + 2 <= last else "done"
    kind = rng.choices(range(7), weights=(25, 15, 15, 15, 20, 5, 5))[0]
    if kind == 0:
        return (
            f"  {name}:\n    say: 'Hi {{{{ contact.display_name }}}}, can I help? ({index})'\n"
            f"    buttons:\n      - {{label: 'Yes please', goto: {after}}}\n"
            f"      - {{label: 'Not now', goto: {jump}}}\n"
            "      - {label: 'A person', goto: handoff}\n"
            f"    on: {{reply: {after}, timeout: {{after: 1d, goto: done}}}}\n"
        )
    if kind == 1:
        expect, save = rng.choice(
            (("email", "contact.email"), ("phone", "contact.phone"), ("number", "vars.amount"))
        )
        return (
            f"  {name}:\n    ask: 'Your {expect}, please?'\n    expect: {expect}\n"
            f"    save: {save}\n    retries: 1\n"
            f"    on: {{valid: {after}, invalid: {jump}, timeout: {{after: 1d, goto: done}}}}\n"
        )
    if kind == 2:
        return (
            f"  {name}:\n    branch:\n      - when: visitor.is_new and contact.email != null\n"
            f"        goto: {jump}\n      - when: '\"vip\" in contact.tags'\n"
            f"        goto: handoff\n      - else: {after}\n"
        )
    if kind == 3:
        return (
            f"  {name}:\n    do:\n      - tag: step-{index}\n"
            "      - set: {field: vars.visits, value: '{{ vars.visits + 1 }}'}\n"
            "      - set: {field: contact.remark_name, value: 'Lead {{ contact.name }}'}\n"
            f"    next: {after}\n"
        )
    if kind == 4:
        return (
            f"  {name}:\n    say: 'Thanks, {{{{ upper(contact.name) }}}}! "
            f"Visit {{{{ vars.visits }}}}'\n    next: {after}\n"
        )
    if kind == 5:
        return f"  {name}:\n    wait: 2h\n    next: {after}\n"
    return (
        f"  {name}:\n    promo_card:\n      title: 'Offer {index}'\n"
        "      text: 'Leave your email, {{ contact.display_name }}.'\n"
        "      image: 'https://example.com/offer.png'\n    retries: 1\n"
        f"    on: {{valid: {after}, invalid: {jump}, timeout: {{after: 2h, goto: done}}}}\n"
    )


def flow_text(index: int, steps: int, rng: random.Random) -> str:
    """Generated flow number `index` (0-9) with `steps` steps (the last three are ends)."""
    trigger, top = TRIGGERS[index % len(TRIGGERS)]
    last = steps - len(ENDS) - 1  # the last `s` step
    body = "".join(_step(i, last, rng) for i in range(last + 1))
    ends = (
        "  bye:\n    say: 'Bye {{ contact.display_name }}'\n    end: true\n"
        "  handoff:\n    say: 'Connecting you with a person.'\n"
        "    do:\n      - hosting: off\n      - assign: {agent: support@example.com}\n"
        "    end: true\n"
        "  done:\n    do:\n      - tag: flow-done\n    end: true\n"
    )
    return (
        f"id: bench-{index}\n{top}{trigger}vars:\n  visits: 0\n  amount: null\n"
        f"start: s0\nsteps:\n{body}{ends}"
    )


def write_flows(folder: Path, texts: Sequence[str]) -> list[Path]:
    """Write flow texts as YAML files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, text in enumerate(texts):
        path = folder / f"flow-{index:02}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def generated_flows(count: int = 10, steps: int = 50, seed: int = 11) -> list[str]:
    """The benchmark's flows: `count` generated flows of `steps` steps."""
    rng = random.Random(seed)
    return [flow_text(index, steps, rng) for index in range(count)]


def make_engine(client: Client, prefix: str, flow_texts: Sequence[str], clock: Clock) -> Engine:
    """An engine under key prefix `prefix`, with the flows loaded through FlowRegistry.load,
    in a process whose garbage collector is set as an engine worker process's
    (`collect_less_often`): the benchmarks measure the engine as it runs in production.

    Raises when the checker finds an error in any flow: benchmarking a flow the engine
    would refuse measures nothing.
    """
    keys = Keys(prefix=prefix)
    folder = Path(tempfile.mkdtemp(prefix="parley-flows-", dir="/tmp"))
    try:
        paths = write_flows(folder, flow_texts)
        registry = FlowRegistry(client, keys)
        report = registry.load(paths)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    errors = [d for d in report.diagnostics if d.severity == "error"]
    if errors or len(report.flows) != len(flow_texts):
        raise RuntimeError(f"generated flows do not check clean: {errors[:3]}")
    collect_less_often()
    return Engine(RedisStore(client, keys), registry, clock)


# -- visitors and events ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Visitor:
    """A generated visitor: the facts every event of theirs carries."""

    id: str
    conversation_id: str
    channel: str
    is_new: bool
    contact: dict[str, object]


def visitor(number: int) -> Visitor:
    """Visitor `number`: channels, new/returning and VIP tags vary with the number."""
    name = f"Visitor {number}"
    tags = ["vip"] if number % 10 == 0 else []
    contact: dict[str, object] = {"name": name, "display_name": name, "tags": tags}
    return Visitor(
        id=f"v{number:07}",
        conversation_id=f"c{number:07}",
        channel=CHANNELS[number % len(CHANNELS)],
        is_new=number % 3 != 0,
        contact=contact,
    )


def event(
    who: Visitor,
    event_id: str,
    kind: EventType,
    at: float,
    *,
    text: str | None = None,
    payload: str | None = None,
    sender: Literal["visitor", "agent", "bot"] = "visitor",
    timer: str | None = None,
    due: float | None = None,
) -> Event:
    """An event of `who`, in a hosted conversation."""
    return Event(
        id=event_id,
        type=kind,
        visitor_id=who.id,
        conversation_id=who.conversation_id,
        at=at,
        channel=who.channel,
        is_new=who.is_new,
        state="hosted",
        contact=who.contact,
        text=text,
        sender=sender,
        payload=payload,
        timer=timer,
        due=due,
    )


FIRST_MESSAGES = (
    "hi there",
    "what's the price of the pro plan?",
    "where is my order #1234",
    "I want to talk to a human",
    "hello, is anyone around",
    "does delivery cost extra?",
)
ANSWERS = ("ann@example.com", "+33 6 12 34 56 78", "42", "yes please", "not sure", "bob@example")
LOAD_CHUNK = 5_000  # visitors per untimed state read


class Workload:
    """Generated visitors and the events of their conversation, phase by phase.

    Every visitor starts a conversation, writes a first message (some with trigger
    keywords), clicks a button their run shows (when one does), writes a second message
    (answers: emails, phones, numbers, words) and gets an agent's message, which starts
    the silence clocks.
    """

    def __init__(self, visitors: int, seed: int) -> None:
        self.visitors = [visitor(number) for number in range(visitors)]
        self.by_id = {who.id: who for who in self.visitors}
        self.seed = seed

    def phases(self, engine: Engine) -> list[tuple[str, Callable[[], list[Event]]]]:
        """(label, events) of each phase; build each only after the one before was applied."""
        return [
            ("conversation.started", self.started),
            ("message.received (1st)", lambda: self.messages(1, FIRST_MESSAGES)),
            ("button.clicked", lambda: self.clicks(engine, 2)),
            ("message.received (2nd)", lambda: self.messages(3, ANSWERS)),
            ("message.sent (agent)", lambda: self.sent(4)),
        ]

    def started(self) -> list[Event]:
        """Every visitor starts a conversation."""
        return [event(v, f"{v.id}:start", "conversation.started", T0) for v in self.visitors]

    def messages(self, phase: int, texts: Sequence[str]) -> list[Event]:
        """Every visitor writes one message."""
        rng = random.Random(self.seed + phase)
        at = T0 + 60.0 * phase
        return [
            event(v, f"{v.id}:msg{phase}", "message.received", at, text=rng.choice(texts))
            for v in self.visitors
        ]

    def clicks(self, engine: Engine, phase: int) -> list[Event]:
        """A click on a button of a waiting run, for every visitor who has one (reads state)."""
        rng = random.Random(self.seed + phase)
        at = T0 + 60.0 * phase
        found = []
        for start in range(0, len(self.visitors), LOAD_CHUNK):
            chunk = self.visitors[start : start + LOAD_CHUNK]
            states = engine.store.load_many([v.id for v in chunk])
            for who, (state, _) in zip(chunk, states, strict=True):
                for run in state.runs.values():
                    flow = engine.flows.get(run.flow, run.version)
                    if not run.active or flow is None or not flow.step(run.step).buttons:
                        continue
                    index = rng.randrange(len(flow.step(run.step).buttons))
                    payload = f"{run.flow}|{run.number}|{run.step}|{index}"
                    found.append(
                        event(who, f"{who.id}:click{phase}", "button.clicked", at, payload=payload)
                    )
                    break
        return found

    def sent(self, phase: int) -> list[Event]:
        """An agent writes to every visitor: the silence clocks start."""
        at = T0 + 60.0 * phase
        return [
            event(v, f"{v.id}:sent{phase}", "message.sent", at, text="Let me check", sender="agent")
            for v in self.visitors
        ]

    def timer_event(self, visitor_id: str, timer: str, due: float, now: float) -> Event:
        """The event of a due timer, as `Engine.fire_due_timers` builds it."""
        who = self.by_id[visitor_id]
        return event(who, f"timer:{timer}", "timer.fired", now, timer=timer, due=due)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The `fraction` percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[rank]
