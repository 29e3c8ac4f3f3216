Feature: Getting the email out
  The waiting timer lives in Redis with the engine's other timers, so it survives restarts.
  An email the mail server refuses is tried again later, and when it cannot be sent at all
  the conversation's notifications say why. Switching the emails off stops those not yet
  sent.

  Background:
    Given a workspace of Olga, Ana and Bo that is emailed when a visitor has waited 10 minutes
    And the conversation with every visitor is assigned to Ana

  Scenario: The wait survives a restart of Parley
    When "Carla" writes "hello" on the website
    And Parley restarts
    And 10 minutes pass
    Then Ana is emailed 1 time

  Scenario: An email the mail server refuses is tried again a minute later
    Given the mail server refuses the next email with "451 4.3.0 try again later"
    When "Carla" writes "hello" on the website
    And 10 minutes pass
    Then nobody is emailed
    And the notification about "Carla" is "pending", saying "try again later"
    When 1 minute passes
    Then Ana is emailed 1 time

  Scenario: An email that keeps failing is given up with the reason
    Given the mail server refuses every email with "554 5.7.1 mailbox unavailable"
    When "Carla" writes "hello" on the website
    And 2 hours pass, 10 minutes at a time
    Then the notification about "Carla" is "failed", saying "mailbox unavailable"

  Scenario: Switching the emails off stops one waiting for its retry
    Given the mail server refuses the next email with "451 4.3.0 try again later"
    When "Carla" writes "hello" on the website
    And 10 minutes pass
    And Olga switches the emails off
    And 30 minutes pass
    Then nobody is emailed
    And the notification about "Carla" is "cancelled", saying "switched off"
