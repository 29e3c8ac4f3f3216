Feature: Remark names, given from the chat, show everywhere
  Agents give a customer a remark name from the conversation's contact panel. There is
  one contact record, so the name shows at once in the contact list and in every
  conversation list, and contacts can be filtered by it.

  Background:
    Given an ongoing conversation with "Carla Díaz"

  Scenario: A remark name set in the chat shows in the contact list
    When "Olga" sets the remark name of "Carla Díaz" to "Carla (wholesale)"
    Then "Olga"'s contact list shows "Carla (wholesale)"

  Scenario: A remark name set in the chat shows in the conversation list
    When "Olga" sets the remark name of "Carla Díaz" to "Carla (wholesale)"
    Then "Olga" sees the conversations of "Carla (wholesale)"

  Scenario: Contacts can be filtered by remark name
    Given an ongoing conversation with "Dan Brown"
    When "Olga" sets the remark name of "Carla Díaz" to "Carla (wholesale)"
    Then filtering contacts by the remark name "Carla (wholesale)" finds only "Carla Díaz"
