Feature: One email per wait, and what stops it
  One email goes out per waiting streak: more messages from the visitor send nothing more
  until an agent has replied. An agent's reply cancels the email, whether it was sent in
  Parley or from Meta's own Page inbox; the bot's messages do not, because the visitor is
  still waiting for a person.

  Background:
    Given a workspace of Olga, Ana and Bo that is emailed when a visitor has waited 10 minutes
    And the conversation with every visitor is assigned to Ana

  Scenario: More messages in the same wait send no more emails
    When "Carla" writes "hello" on the website
    And 5 minutes pass
    And "Carla" writes "anyone there?" on the website
    And 30 minutes pass
    Then Ana is emailed 1 time

  Scenario: After an agent's reply, a new wait can send a new email
    When "Carla" writes "hello" on the website
    And 10 minutes pass
    And Olga replies "Sorry, here now" to "Carla"
    And "Carla" writes "one more question" on the website
    And 10 minutes pass
    Then Ana is emailed 2 times

  Scenario: An agent's reply in Parley cancels the email
    When "Carla" writes "hello" on the website
    And 5 minutes pass
    And Olga replies "Hi Carla!" to "Carla"
    And 30 minutes pass
    Then nobody is emailed

  Scenario: A reply from Meta's Page inbox cancels the email too
    When "Carla" writes "Do you ship to Lisbon?" on Messenger
    And 5 minutes pass
    And someone replies "Yes we do!" to "Carla" from the Page inbox
    And 30 minutes pass
    Then nobody is emailed

  Scenario: The bot's answer does not cancel the email
    Given a flow that answers every message with "Thanks! A person will answer soon."
    When "Carla" writes "hello" on the website
    And 10 minutes pass
    Then the bot has answered "Carla" with "Thanks! A person will answer soon."
    And Ana is emailed 1 time
