Feature: Switching bot hosting for many conversations at once
  Bot hosting on means flows may answer; off means people do. It can be switched for
  chosen conversations or for every assigned one in one request, and a second identical
  request changes nothing.

  Background:
    Given an agent "Ana" who sees only her own conversations
    And an ongoing conversation with "Carla"
    And an ongoing conversation with "Dan"
    And an ongoing conversation with "Eve" assigned to "Ana"

  Scenario: Hosting is switched off for chosen conversations
    When "Olga" turns bot hosting off for the conversations with "Carla" and "Dan"
    Then 2 conversations changed
    And bot hosting is off for the conversation with "Carla"

  Scenario: Switching again changes nothing
    When "Olga" turns bot hosting off for the conversations with "Carla" and "Dan"
    And "Olga" turns bot hosting off for the conversations with "Carla" and "Dan"
    Then 0 conversations changed

  Scenario: Hosting is switched on for all assigned conversations
    When "Olga" turns bot hosting on for all assigned conversations
    Then 1 conversations changed
    And bot hosting is on for the conversation with "Eve"
