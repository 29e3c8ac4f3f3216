Feature: Changing a flow while visitors are inside it
  Every change to a flow file is a new version (named by a hash of its content).
  Visitors already inside the flow finish on the version they started; new runs use
  the newest. Reloading flows never drops a pending timer.

  Background:
    Given the flow:
      """
      id: survey
      mode: restart
      trigger:
        message_received:
          keywords: [survey]
      start: ask
      steps:
        ask:
          say: "Happy with us?"
          buttons:
            - {label: "Yes", goto: thanks}
          on: {timeout: {after: 1h, goto: bye}}
        thanks:
          say: "Thank you!"
          end: true
        bye:
          say: "Maybe next time."
          end: true
      """
    And a new visitor "Ben" on widget

  Scenario: A visitor inside the flow finishes on the version they started
    When the visitor says "survey"
    And the flow is changed to:
      """
      id: survey
      mode: restart
      trigger:
        message_received:
          keywords: [survey]
      start: ask
      steps:
        ask:
          say: "Did we do well?"
          buttons:
            - {label: "Yes", goto: thanks}
          on: {timeout: {after: 1h, goto: bye}}
        thanks:
          say: "Thanks a lot!"
          end: true
        bye:
          say: "Maybe next time."
          end: true
      """
    And the visitor clicks "Yes"
    Then the visitor is sent "Thank you!"
    And the visitor is not sent "Thanks a lot!"

  Scenario: A new run uses the newest version
    When the flow is changed to:
      """
      id: survey
      mode: restart
      trigger:
        message_received:
          keywords: [survey]
      start: ask
      steps:
        ask:
          say: "Did we do well?"
          end: true
      """
    And the visitor says "survey"
    Then the visitor is sent "Did we do well?"

  Scenario: A pending timer still fires after the flows are reloaded
    When the visitor says "survey"
    And the flow is changed to:
      """
      id: survey
      trigger:
        message_received:
          keywords: [survey]
      start: ask
      steps:
        ask:
          say: "Did we do well?"
          end: true
      """
    And 1 hour passes
    Then the visitor is sent "Maybe next time."
