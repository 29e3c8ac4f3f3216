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
