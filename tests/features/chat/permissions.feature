Feature: Who sees which conversations
  A member with "view all data" sees every conversation of the workspace. An agent
  limited to their own data sees only the conversations assigned to them, in every list
  and in every count.

  Background:
    Given an agent "Ana" who sees only her own conversations
    And an ongoing conversation with "Carla" assigned to "Ana"
    And an ongoing conversation with "Dan" assigned to "Olga"
    And an ended conversation with "Eve" assigned to "Ana"

  Scenario: An agent limited to own data sees only her conversations
    Then "Ana" sees the conversations of "Carla" and "Eve"

  Scenario: A member who may view all data sees every conversation
    Then "Olga" sees the conversations of "Carla" and "Dan" and "Eve"

  Scenario: An agent limited to own data counts only her conversations
    Then "Ana"'s dashboard shows 1 ongoing, 1 ended and 2 in all
