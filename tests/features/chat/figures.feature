Feature: Each conversation's figures
  Messages, visitor messages, agent messages and the first response time are kept current
  on every message. The first response time runs from the visitor's first message to the
  first reply of a person; the bot's messages do not count.

  Scenario: First response time ignores the bot's messages
    Given an agent "Ana" who sees all conversations
    And an ongoing conversation with "Carla" assigned to "Ana"
    And in the conversation with "Carla" the visitor wrote at 10:00
    And in the conversation with "Carla" the bot wrote at 10:01
    And in the conversation with "Carla" "Ana" wrote at 10:05
    Then the first response time of the conversation with "Carla" is 300 seconds
