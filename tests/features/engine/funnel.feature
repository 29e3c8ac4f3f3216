Feature: Each flow's funnel: triggered, engaged and completed visitors
  Engagement is a click, an answer or a filled promo card; completion is reaching any
  `end` step. Figures count unique visitors, so the same visitor counts once however
  often they trigger the flow, and a redelivered event changes nothing.

  Scenario: A visitor who clicks and reaches the end is triggered, engaged and completed
    Given the flow "win-back"
    And a new visitor "Ben" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    And the visitor clicks "Talk to a person"
    Then the funnel of flow "win-back" shows 1 triggered, 1 engaged and 1 completed

  Scenario: A visitor who never answers reaches the quiet end without engaging
    Given the flow "win-back"
    And a new visitor "Ben" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    And 1 day passes
    Then the funnel of flow "win-back" shows 1 triggered, 0 engaged and 1 completed
    And the funnel of flow "win-back" shows 0 completed after engaging

  Scenario: A visitor triggered twice counts once
    Given the flow "handoff"
    And a returning visitor "Ana" on messenger
    When the visitor says "agent"
    And bot hosting is turned on
    And the visitor says "agent please"
    Then the flow "handoff" was triggered 2 times
    And the funnel of flow "handoff" shows 1 triggered, 0 engaged and 1 completed

  Scenario: A redelivered event moves no figure twice
    Given the flow "handoff"
    And a returning visitor "Ana" on messenger
    When the visitor says "agent"
    And the same event is delivered again
    Then the flow "handoff" was triggered 1 time
    And the visitor was sent 1 message
