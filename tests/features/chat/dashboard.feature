Feature: The conversation dashboard
  Ongoing, ended and total conversations, under the same filters as the lists: by agent
  and by when the conversation was received.

  Background:
    Given an agent "Ana" who sees only her own conversations
    And an ongoing conversation with "Carla" assigned to "Ana" received on 2026-11-20
    And an ended conversation with "Dan" assigned to "Ana" received on 2026-11-21
    And an ongoing conversation with "Eve" received on 2026-11-21

  Scenario: The owner sees every conversation counted
    Then "Olga"'s dashboard shows 2 ongoing, 1 ended and 3 in all

  Scenario: Counted for one agent
    Then "Olga"'s dashboard shows 1 ongoing, 1 ended and 2 in all for Ana

  Scenario: Counted for one day of reception
    Then "Olga"'s dashboard shows 1 ongoing, 1 ended and 2 in all received on 2026-11-21
