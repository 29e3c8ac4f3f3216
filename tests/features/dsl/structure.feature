Feature: A flow file's structure is checked like a compiler would
  Flow authors run `parley check` on their YAML. Every problem is reported as
  `file:line:col: error: message [rule]`, pointing at the key or value at fault,
  with the source line, a caret under the spot and a hint where one helps.

  Scenario: A well-formed flow passes the check
    Given a flow file "hello.yaml":
      """
      id: hello
      trigger:
        conversation_started:
      start: greet
      steps:
        greet:
          say: "Hello!"
          end: true
      """
    When it is checked
    Then the check passes
    And it reports "checked 1 file(s): 1 flow(s) ok, 0 error(s), 0 warning(s)"

  Scenario: A misspelt key is reported at the key, with the key it was probably meant to be
    Given a flow file "hello.yaml":
      """
      id: hello
      trigger:
        conversation_started:
      start: greet
      steps:
        greet:
          sya: "Hello!"
          end: true
      """
    When it is checked
    Then the check fails
    And it reports "hello.yaml:7:5: error: unknown key 'sya' in steps.greet [unknown-key]"
    And it hints "did you mean 'say'?"

  Scenario: The report shows the source line with a caret under the spot
    Given a flow file "hello.yaml":
      """
      id: hello
      trigger:
        conversation_started:
      start: greet
      steps:
        greet:
          say: "Hello!"
          ned: true
      """
    When it is checked
    Then it shows:
      """
      hello.yaml:8:5: error: unknown key 'ned' in steps.greet [unknown-key]
        8 |     ned: true
                ^
        hint: did you mean 'end'?
      """

  Scenario: A missing required key is named
    Given a flow file "hello.yaml":
      """
      id: hello
      trigger:
        conversation_started:
      steps:
        greet:
          end: true
      """
    When it is checked
    Then it reports "hello.yaml:1:1: error: the flow is missing 'start' [missing-key]"

  Scenario: A key written twice is an error, not silently the last one
    Given a flow file "hello.yaml":
      """
      id: hello
      trigger:
        conversation_started:
      start: greet
      steps:
        greet:
          say: "Hello!"
          say: "Hi!"
          end: true
      """
    When it is checked
    Then it reports "hello.yaml:8:5: error: duplicate key 'say' [duplicate-key]"

  Scenario: A YAML 1.1 boolean where text belongs asks for quotes
    Given a flow file "ask.yaml":
      """
      id: ask
      trigger:
        conversation_started:
      start: question
      steps:
        question:
          say: "Shall we call you?"
          buttons:
            - {label: yes, goto: done}
            - {label: no, goto: done}
        done:
          end: true
      """
    When it is checked
    Then it reports "ask.yaml:9:17: error: YAML reads yes as true or false, not as text [yaml-type]"
    And it reports "ask.yaml:10:17: error: YAML reads no as true or false, not as text [yaml-type]"
    And it hints "put it in quotes: "no""

  Scenario: A duration without a unit asks for one
    Given a flow file "quiet.yaml":
      """
      id: quiet
      trigger:
        visitor_timeout:
          after: 15
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "quiet.yaml:4:12: error: duration 15 has no unit [duration-unit]"
    And it hints "add a unit: 15s, 15m, 15h or 15d"

  Scenario: A clock-like duration, which YAML 1.1 reads as a number, asks for a unit
    Given a flow file "quiet.yaml":
      """
      id: quiet
      trigger:
        visitor_timeout:
          after: 10:00
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "quiet.yaml:4:12: error: duration 10:00 has no unit (YAML reads it as the number 600) [duration-unit]"
    And it hints "write it with units, for example 10m, 10h or 1h30m"

  Scenario: A value outside its allowed choices suggests the nearest one
    Given a flow file "quiet.yaml":
      """
      id: quiet
      trigger:
        visitor_timeout:
          after: 15m
          visitors: [new, returnin]
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "quiet.yaml:5:21: error: trigger.visitor_timeout.visitors[1] must be one of new, returning; got 'returnin' [enum]"
    And it hints "did you mean 'returning'?"

  Scenario: A flow id must be lowercase words joined by dashes
    Given a flow file "bad-id.yaml":
      """
      id: Win Back
      trigger:
        conversation_started:
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "bad-id.yaml:1:5: error: 'Win Back' is not a valid flow id: expected the flow's id, unique across files: lowercase letters, digits and - [name]"

  Scenario: A trigger names exactly one kind
    Given a flow file "two.yaml":
      """
      id: two
      trigger:
        conversation_started:
        message_received:
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "two.yaml:3:3: error: trigger must be exactly one trigger: conversation_started, message_received, visitor_timeout [shape]"

  Scenario: Findings are available as JSON for editors and CI
    Given a flow file "hello.yaml":
      """
      id: hello
      trigger:
        conversation_started:
      start: greet
      steps:
        greet:
          sya: "Hello!"
          end: true
      """
    When it is checked with --format json
    Then the JSON lists one error at line 7, column 5, rule unknown-key

  Scenario: The JSON Schema behind the check is printed for editors
    When the schema is printed
    Then the schema names the trigger kinds conversation_started, message_received, visitor_timeout
