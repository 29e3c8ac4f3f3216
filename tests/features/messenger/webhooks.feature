Feature: Messenger webhooks
  Meta calls Parley's webhook with everything that happens on a connected Page: a visitor
  writes, taps a button, reads a reply; a message the Page sent comes back as an "echo".
  Parley answers at once, refuses anything not signed with the app secret, and stores each
  message once, however often Meta delivers it.

  Background:
    Given the Page "Acme Shoes" is connected to Parley

  Scenario: A webhook with a forged signature is refused and changes nothing
    When a webhook saying "Ana" wrote "hello" arrives signed with the wrong secret
    Then Parley answers 403
    And Parley has no contacts

  Scenario: A visitor's first message makes a contact and a conversation
    When "Ana" writes "Do you ship to Lisbon?"
    Then there is a contact "Ana Silva" with a Messenger conversation
    And the conversation with "Ana" has 1 visitor message

  Scenario: A delivery Meta retries is stored once
    When "Ana" writes "Do you ship to Lisbon?"
    And Meta delivers the same webhook twice more
    Then the conversation with "Ana" has 1 message

  Scenario: The echo of Parley's own reply is not stored again
    Given "Ana" wrote "Do you ship to Lisbon?" 1 hour ago
    When the agent replies "Yes, within 2 days"
    And Meta sends back the echo of that reply
    Then the reply is marked "sent"
    And the conversation with "Ana" has 1 agent message, none of them off-platform

  Scenario: The echo confirms a reply whose Send API answer never came
    Given "Ana" wrote "Do you ship to Lisbon?" 1 hour ago
    And Meta will carry out the next send but answer too late
    When the agent replies "Yes, within 2 days"
    Then the reply is marked "failed"
    When Meta sends back the echo of that reply
    Then the reply is marked "sent"
    And Messenger received only "Yes, within 2 days"

  Scenario: A reply sent from Meta's Page inbox is an off-platform agent reply
    Given "Ana" wrote "Do you ship to Lisbon?" 1 hour ago
    When someone answers "Yes we do!" from Meta's Page inbox
    Then the conversation with "Ana" has 1 agent message, 1 of them off-platform
    And the first response time of the conversation with "Ana" is 3600 seconds
