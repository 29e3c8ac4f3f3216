Feature: Messenger's reply window
  Messenger lets a Page answer a visitor for 24 hours after the visitor's last message. A
  person may still answer for 7 days: Parley adds Meta's HUMAN_AGENT tag by itself. After 7
  days a reply needs a message tag that the deployment allows, and by default it allows
  none, because Meta retired the update tags on 2026-04-27. Flows may only speak within the
  24 hours.

  Background:
    Given the Page "Acme Shoes" is connected to Parley

  Scenario Outline: An agent replies within 7 days without choosing anything
    Given "Ana" wrote "Where is my order?" <ago> ago
    When the agent replies "It left this morning"
    Then Messenger receives "It left this morning" sent as <how>

    Examples:
      | ago     | how                      |
      | 1 hour  | RESPONSE                 |
      | 3 days  | MESSAGE_TAG HUMAN_AGENT  |

  Scenario: After 7 days, with no tags allowed, the reply is refused and nothing is sent
    Given "Ana" wrote "Where is my order?" 8 days ago
    When the agent replies "Sorry for the wait"
    Then Parley refuses the reply with "window_closed", saying "the reply window closed"
    And Messenger receives nothing

  Scenario: After 7 days, the agent must pick one of the allowed tags
    Given the deployment allows the message tags "POST_PURCHASE_UPDATE, ACCOUNT_UPDATE"
    And "Ana" wrote "Where is my order?" 8 days ago
    When the agent replies "Sorry for the wait"
    Then Parley refuses the reply with "window_closed", saying "pick a message tag, one of POST_PURCHASE_UPDATE, ACCOUNT_UPDATE"
    When the agent replies "Your order was delivered" with the tag "POST_PURCHASE_UPDATE"
    Then Messenger receives "Your order was delivered" sent as MESSAGE_TAG POST_PURCHASE_UPDATE

  Scenario: A flow's message 30 hours after the visitor wrote is skipped
    Given a flow that says "Still there?" when the visitor has not replied for 6 hours
    And "Ana" wrote "Where is my order?" 1 day ago
    When the agent replies "Checking with the warehouse"
    And 6 hours pass
    Then the flow's "Still there?" is recorded as skipped because "the visitor last wrote 30 h ago"
    And Messenger received only "Checking with the warehouse"
