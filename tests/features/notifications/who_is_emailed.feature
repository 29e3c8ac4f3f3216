Feature: Who is emailed when a visitor waits
  A visitor who writes and hears nothing is a lost customer. When a visitor's message has
  waited the workspace's waiting time without an agent's reply, Parley emails the agent the
  conversation is assigned to, or, when nobody is assigned, every member of the workspace.

  Background:
    Given a workspace of Olga, Ana and Bo that is emailed when a visitor has waited 10 minutes

  Scenario: Nobody is assigned: every member is emailed
    When "Carla" writes "Do you ship to Lisbon?" on the website
    And 10 minutes pass
    Then Olga, Ana and Bo are each emailed "Carla has been waiting 10 minutes for a reply"
    And the email quotes "Do you ship to Lisbon?" and links to the conversation

  Scenario: The conversation is assigned: only its agent is emailed
    When "Carla" writes "Do you ship to Lisbon?" on the website
    And the conversation with "Carla" is assigned to Ana
    And 10 minutes pass
    Then only Ana is emailed

  Scenario: Nothing is sent before the waiting time is up
    When "Carla" writes "Do you ship to Lisbon?" on the website
    And 9 minutes pass
    Then nobody is emailed
