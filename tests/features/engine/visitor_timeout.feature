Feature: The "visitor did not reply in time" trigger
  A visitor_timeout flow starts when the visitor stays silent for `after` following an
  agent's or the bot's message. Its filters (new or returning visitor, conversation
  state) and its guard are checked when the clock runs out, on the facts of that moment.

  Scenario: A returning visitor who goes quiet is welcomed back
    Given the flow "win-back"
    And a returning visitor "Ana" on messenger
    And the conversation started
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    Then the visitor is sent "Welcome back, Ana! Anything we can do for you today?"

  Scenario: A new visitor who goes quiet gets the first-time wording
    Given the flow "win-back"
    And a new visitor "Ben" on messenger
    And the conversation started
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    Then the visitor is sent "Hi Ben, still there? We're happy to help you get started."

  Scenario: Nothing happens before the time is up
    Given the flow "win-back"
    And a new visitor "Ben" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 14 minutes pass
    Then the visitor is sent nothing

  Scenario: A reply from the visitor stops the clock
    Given the flow "win-back"
    And a returning visitor "Ana" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 10 minutes pass
    And the visitor says "Just looking, thanks"
    And 15 minutes pass
    Then the visitor is sent nothing

  Scenario: The flow does not act in a conversation whose state it does not list
    Given the flow "win-back"
    And a returning visitor "Ana" on messenger
    And the conversation is assigned
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    Then the visitor is sent nothing
    And the trace of flow "win-back" says "visitor_timeout skipped: conversation state assigned not in [hosted, unassigned]"

  Scenario: Only the visitors the flow lists are nudged
    Given the flow:
      """
      id: first-timers
      trigger:
        visitor_timeout:
          after: 5m
          visitors: [new]
      start: nudge
      steps:
        nudge:
          say: "Need a hand getting started?"
          end: true
      """
    And a returning visitor "Ana" on messenger
    When the visitor says "Hi"
    And the agent replies "Hello"
    And 5 minutes pass
    Then the visitor is sent nothing
    And the trace of flow "first-timers" says "visitor_timeout skipped: returning visitor not in [new]"

  Scenario: An agent reply from the native app does not start the clock by default
    Given the flow "win-back"
    And a returning visitor "Ana" on messenger
    When the agent replies "On it" off-platform
    And 15 minutes pass
    Then the visitor is sent nothing
    And the trace of flow "win-back" says "clock not started: off-platform reply"

  Scenario: A flow with off_platform true also listens to replies from the native app
    Given the flow "off-platform-follow-up"
    And a returning visitor "Ana" on messenger
    And the conversation is assigned
    When the agent replies "Here is your tracking number" off-platform
    And 1 day passes
    Then the visitor is sent "Hi Ana, did our answer help?"

  Scenario: The guard is checked when the clock runs out
    Given the flow "win-back"
    And a returning visitor "Ana" on messenger
    And the visitor has the tag "vip"
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    Then the visitor is sent nothing
    And the trace of flow "win-back" says "guard is false: not triggered"

  Scenario: A flow's own messages do not restart its clock
    Given the flow "win-back"
    And a returning visitor "Ana" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    And the visitor clicks "Talk to a person"
    And 1 day passes
    Then the visitor was sent 2 messages
