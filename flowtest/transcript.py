"""A small command language to play a visitor by hand or from a transcript file.

One command per line (a line starting with `#` is a comment):
  start                  the conversation starts
  say TEXT               the visitor writes (a line without a command does the same)
  click LABEL            the visitor clicks a button
  submit TEXT            the visitor fills in a form (a promo card's email)
  agent TEXT             an agent replies in Parley
  agent-offline TEXT     an agent replies from the channel's own app (off-platform)
  take                   an agent takes the conversation
  hosting on|off         bot hosting is switched
  wait DURATION          time passes (15m, 1h30m, 2d); timers fire on the way
  end                    the conversation ends
"""

from __future__ import annotations

from collections.abc import Callable

from dsl.durations import format_duration, parse_duration
from flowtest.simulator import Refused, Simulator


def transcript_help() -> str:
    """The command list, as shown by `help` in `parley simulate`."""
    return (__doc__ or "").split("\n", 2)[2].rstrip()


class TranscriptError(ValueError):
    """A line the transcript language does not understand."""


def play(sim: Simulator, line: str) -> list[str]:
    """Carry out one transcript line and describe what the visitor saw and Parley did."""
    line = line.strip()
    if not line or line.startswith("#"):
        return []
    word, _, rest = line.partition(" ")
    seen_sent, seen_done = len(sim.conversation.sent), len(sim.conversation.done)
    action = _COMMANDS.get(word)
    try:
        if action is None:
            _say(sim, line)
        else:
            action(sim, rest.strip())
    except Refused as err:
        raise TranscriptError(str(err)) from err
    return _describe(sim, seen_sent, seen_done)


def _describe(sim: Simulator, seen_sent: int, seen_done: int) -> list[str]:
    lines = []
    for message in sim.conversation.sent[seen_sent:]:
        buttons = "".join(f" [{b['label']}]" for b in message.get("buttons", []))
        title = f"{message['title']}: " if message["kind"] == "promo_card" else ""
        lines.append(f"  bot {message['kind']}: {title}{message.get('text', '')}{buttons}")
    for done in sim.conversation.done[seen_done:]:
        details = ", ".join(f"{k}={v}" for k, v in done.items() if k != "kind")
        lines.append(f"  parley {done['kind']}: {details}")
    for timer in sim.engine.store.load(sim.conversation.visitor_id)[0].timers.values():
        left = format_duration(max(int(timer.due - sim.clock.now()), 0))
        lines.append(f"  timer {timer.key} fires in {left}")
    return lines


def _say(sim: Simulator, text: str) -> None:
    sim.emit("message.received", text=text)


def _click(sim: Simulator, label: str) -> None:
    try:
        sim.click(label)
    except LookupError as err:
        raise TranscriptError(f"no button {label!r} was sent") from err


def _hosting(sim: Simulator, switch: str) -> None:
    if switch not in ("on", "off"):
        raise TranscriptError("hosting takes on or off")
    sim.switch_hosting(switch == "on")


def _take(sim: Simulator, _: str) -> None:
    sim.take()


def _wait(sim: Simulator, duration: str) -> None:
    try:
        sim.advance(parse_duration(duration))
    except ValueError as err:
        raise TranscriptError(str(err)) from err


def _start(sim: Simulator, _: str) -> None:
    sim.emit("conversation.started")


def _submit(sim: Simulator, text: str) -> None:
    sim.emit("input.submitted", text=text)


def _agent(sim: Simulator, text: str) -> None:
    sim.emit("message.sent", sender="agent", text=text)


def _agent_offline(sim: Simulator, text: str) -> None:
    sim.emit("message.sent", sender="agent", text=text, off_platform=True)


def _end(sim: Simulator, _: str) -> None:
    sim.end()


_COMMANDS: dict[str, Callable[[Simulator, str], None]] = {
    "start": _start,
    "say": _say,
    "click": _click,
    "submit": _submit,
    "agent": _agent,
    "agent-offline": _agent_offline,
    "take": _take,
    "hosting": _hosting,
    "wait": _wait,
    "end": _end,
}

COMMAND_NAMES = tuple(_COMMANDS)
