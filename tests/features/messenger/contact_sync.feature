Feature: Importing a Page's contacts
  When a Page is connected, its earlier conversations can be imported: the 100 most recent
  ones, or all of them, each contact with their last 20 messages. The import runs in the
  background, survives a worker dying in the middle, and can be run again safely.

  Background:
    Given the Page "Acme Shoes" is connected to Parley

  Scenario: Importing the most recent contacts takes the latest 100, 20 messages each
    Given a flow that says "Welcome!" when a conversation starts
    And the Page has 150 conversations of 25 messages each
    When the owner imports the Page's recent contacts
    And the import runs to the end
    Then the import is "done" with 100 contacts and 2000 messages
    And no flow spoke to anyone

  Scenario: Importing all contacts follows every page, even when a worker dies midway
    Given the Page has 1050 conversations of 2 messages each
    When the owner imports all of the Page's contacts
    And a worker dies while importing the second page
    And the import runs to the end
    Then the import is "done" with 1050 contacts and 2100 messages
    And it fetched more than 10 pages

  Scenario: Importing again adds only what is new
    Given the Page has 3 conversations of 4 messages each
    When the owner imports all of the Page's contacts
    And the import runs to the end
    And the owner imports all of the Page's contacts
    And the import runs to the end
    Then the import is "done" with 3 contacts and 0 messages
    And Parley holds 3 contacts and 12 messages
