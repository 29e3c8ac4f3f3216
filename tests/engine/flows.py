"""Flows the engine tests share."""

# Answers every message with its text, starting over at each one.
ECHO = """
id: echo
mode: restart
trigger:
  message_received:
start: answer
steps:
  answer:
    say: "You said {{ message.text }}"
    end: true
"""

# Offers a button at every message and waits for the click, an hour at most.
PICK = """
id: pick
trigger:
  message_received:
start: menu
steps:
  menu:
    say: "Pick"
    buttons:
      - {label: "A", goto: done}
    on: {timeout: {after: 1h, goto: done}}
  done:
    end: true
"""

# Nudges a visitor who has not written for a minute since the last agent or bot message.
NUDGE = """
id: nudge
trigger:
  visitor_timeout:
    after: 60s
start: nudge
steps:
  nudge:
    say: "Still there?"
    end: true
"""

# A visitor's message starts a 90-second wait, after which the flow asks once.
WAIT_THEN_ASK = """
id: nudge
trigger:
  message_received:
start: pause
steps:
  pause:
    wait: 90s
    next: done
  done:
    say: "Still there?"
    end: true
"""
