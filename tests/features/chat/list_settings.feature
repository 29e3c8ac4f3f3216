Feature: Each agent chooses how their own conversation list looks
  Whether visitor tags show, and whether the remark name comes before the channel's
  name, are settings of each member for their own list; they change nobody else's.

  Background:
    Given an agent "Ben" who sees all conversations
    And an ongoing conversation with "Carla Díaz"
    And "Olga" sets the remark name of "Carla Díaz" to "Carla (wholesale)"

  Scenario: By default the remark name comes first and tags show
    Then "Ben" sees "Carla Díaz" listed as "Carla (wholesale)" with tags

  Scenario: One agent's settings apply to their list alone
    When "Ben" chooses to see channel names first and no visitor tags
    Then "Ben" sees "Carla Díaz" listed as "Carla Díaz" without tags
    And "Olga" sees "Carla Díaz" listed as "Carla (wholesale)" with tags
