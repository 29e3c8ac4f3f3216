Feature: Running a flow for a visitor
  A run moves through the flow's steps: it says things, waits for buttons, answers,
  replies or time, and ends at an `end` step. Bot messages go out through the chat layer.

  Scenario: A message with buttons waits for the visitor's click
    Given the flow "win-back"
    And a new visitor "Ben" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    Then the visitor sees the buttons "Talk to a person", "Get a coupon"

  Scenario: A button leads to its step
    Given the flow "win-back"
    And a new visitor "Ben" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    And the visitor clicks "Get a coupon"
    Then the visitor is asked "Your email, please?"

  Scenario: A valid answer is saved to the contact and the flow goes on
    Given the flow "win-back"
    And a new visitor "Ben" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    And the visitor clicks "Get a coupon"
    And the visitor says "ben@example.com"
    Then the contact's email is "ben@example.com"
    And the visitor is sent "Thanks! Check your inbox."
    And the contact is tagged "coupon-sent"
    And an email "coupon" is sent to "ben@example.com"

  Scenario: An invalid answer is asked again while retries last
    Given the flow "win-back"
    And a new visitor "Ben" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    And the visitor clicks "Get a coupon"
    And the visitor says "not an email"
    Then the visitor is asked "Your email, please?"
    And the trace of flow "win-back" says "answer not valid: asked again"

  Scenario: When the retries run out the invalid exit is taken
    Given the flow "win-back"
    And a new visitor "Ben" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    And the visitor clicks "Get a coupon"
    And the visitor says "one"
    And the visitor says "two"
    And the visitor says "three"
    Then the visitor is sent "Connecting you with a person now."
    And bot hosting is off

  Scenario: A hand-off turns bot hosting off and leaves the conversation to the team's agents
    Given the flow "handoff"
    And a returning visitor "Ana" on messenger
    When the visitor says "Can I talk to a human, please?"
    Then the visitor is sent "Sure, let me get a person for you."
    And bot hosting is off
    And the contact is tagged "support"
    And the conversation is unassigned

  Scenario: A keyword of several words matches them as a phrase
    Given the flow:
      """
      id: hours
      trigger:
        message_received:
          keywords: [opening hours]
      start: answer
      steps:
        answer:
          say: "We are open 9 to 5."
          end: true
      """
    And a new visitor "Ben" on widget
    When the visitor says "What are your Opening  Hours?"
    Then the visitor is sent "We are open 9 to 5."

  Scenario: Keywords match whole words only
    Given the flow "handoff"
    And a returning visitor "Ana" on messenger
    When the visitor says "Is this reagent in stock?"
    Then the visitor is sent nothing

  Scenario: A flow that is running is not started again, and the re-trigger is counted
    Given the flow:
      """
      id: menu
      trigger:
        message_received:
          keywords: [menu]
      start: choose
      steps:
        choose:
          say: "Pick one"
          buttons:
            - {label: "Prices", goto: done}
        done:
          end: true
      """
    And a new visitor "Ben" on widget
    When the visitor says "menu"
    And the visitor says "menu please"
    Then the visitor was sent 1 message
    And the flow "menu" was triggered 1 time
    And the trace of flow "menu" says "already running: re-trigger counted"

  Scenario: With mode restart a new trigger starts the flow over
    Given the flow:
      """
      id: menu
      mode: restart
      trigger:
        message_received:
          keywords: [menu]
      start: choose
      steps:
        choose:
          say: "Pick one"
          buttons:
            - {label: "Prices", goto: done}
        done:
          end: true
      """
    And a new visitor "Ben" on widget
    When the visitor says "menu"
    And the visitor says "menu please"
    Then the visitor was sent 2 messages
    And the flow "menu" was triggered 2 times

  Scenario: A run stops when an agent takes the conversation
    Given the flow "win-back"
    And a new visitor "Ben" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    And an agent takes the conversation
    Then the trace of flow "win-back" says "run ended: conversation state became assigned"

  Scenario: A step's reply timeout moves the run on
    Given the flow:
      """
      id: check-in
      trigger:
        conversation_started:
      start: ask
      steps:
        ask:
          say: "Did you find what you need?"
          on: {reply: done, timeout: {after: 2h, goto: nudge}}
        nudge:
          say: "Still here if you need us."
          end: true
        done:
          end: true
      """
    And a new visitor "Ben" on widget
    When the conversation starts
    And 2 hours pass
    Then the visitor is sent "Still here if you need us."

  Scenario: A wait pauses the run, then it goes on
    Given the flow:
      """
      id: later
      trigger:
        conversation_started:
      start: pause
      steps:
        pause:
          wait: 1h
          next: ask
        ask:
          say: "How did it go?"
          end: true
      """
    And a new visitor "Ben" on widget
    When the conversation starts
    And 59 minutes pass
    Then the visitor is sent nothing
    When 1 minute passes
    Then the visitor is sent "How did it go?"

  Scenario: A remark name given by an agent is what flows call the visitor
    Given the flow "win-back"
    And a returning visitor "Ana" on messenger
    And the visitor's remark name is "Ana (VIP lead)"
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    Then the visitor is sent "Welcome back, Ana (VIP lead)! Anything we can do for you today?"

  Scenario: A webhook's body is filled in from the visitor's facts
    Given the flow:
      """
      id: lead
      trigger:
        message_received:
          keywords: [price]
      start: notify
      steps:
        notify:
          do:
            - webhook: {url: "https://hooks.example.com/lead", body: {who: "{{ contact.name }}", hot: true}}
          end: true
      """
    And a new visitor "Ben" on widget
    When the visitor says "price?"
    Then a webhook to "https://hooks.example.com/lead" is sent with the body {"who": "Ben", "hot": true}
