Feature: Timers and runs survive a restart
  State and timers live in Redis, so a restarted Parley picks up where it was.

  Scenario: A pending visitor timeout fires after Parley restarts
    Given the flow "win-back"
    And a returning visitor "Ana" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And Parley restarts
    And 15 minutes pass
    Then the visitor is sent "Welcome back, Ana! Anything we can do for you today?"

  Scenario: A run waiting for a click goes on after Parley restarts
    Given the flow "win-back"
    And a new visitor "Ben" on messenger
    When the visitor says "Hi"
    And the agent replies "How can I help?"
    And 15 minutes pass
    And Parley restarts
    And the visitor clicks "Get a coupon"
    Then the visitor is asked "Your email, please?"
