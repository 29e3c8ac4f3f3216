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

  Scenario: Assigning a team is refused, with what to write instead
    Given a flow file "handoff.yaml":
      """
      id: handoff
      trigger:
        message_received:
      start: confirm
      steps:
        confirm:
          do:
            - assign: {team: support}
          end: true
      """
    When it is checked
    Then the check fails
    And it reports "handoff.yaml:8:18: error: unknown key 'team' in steps.confirm.do[0].assign [unknown-key]"
    And it hints "Parley has no teams: assign an agent by email or member id, or hand off with `hosting: off` and a `tag` the team filters its inbox by"

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

  Scenario: A step name that breaks the naming rule is reported at that name
    Given a flow file "names.yaml":
      """
      id: names
      trigger:
        conversation_started:
      start: done
      steps:
        done:
          end: true
        Later:
          end: true
      """
    When it is checked
    Then it reports "names.yaml:8:3: error: 'Later' is not a valid step name: expected a step name: lowercase letters, digits and _, not starting with a digit [name]"

  Scenario: A variable name that breaks the naming rule is reported at that name
    Given a flow file "names.yaml":
      """
      id: names
      trigger:
        conversation_started:
      vars:
        visits: 0
        Plan: null
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "names.yaml:6:3: error: 'Plan' is not a valid variable name: expected a variable name: lowercase letters, digits and _, not starting with a digit [name]"

  Scenario: A question without `expect` is reported at the question
    Given a flow file "ask.yaml":
      """
      id: ask
      trigger:
        conversation_started:
      start: question
      steps:
        question:
          say: "Hi!"
          ask: "Your email?"
          on: {valid: done, invalid: done}
        done:
          end: true
      """
    When it is checked
    Then it reports "ask.yaml:8:5: error: steps.question is missing 'expect', which 'ask' needs [missing-key]"

  Scenario: A flow without steps says that it needs one
    Given a flow file "none.yaml":
      """
      id: none
      trigger:
        conversation_started:
      start: done
      steps: {}
      """
    When it is checked
    Then it reports "none.yaml:5:8: error: steps must be a mapping with at least one step [shape]"

  Scenario: An empty `on` says what it may hold
    Given a flow file "on.yaml":
      """
      id: on
      trigger:
        conversation_started:
      start: wait
      steps:
        wait:
          say: "Hi!"
          on: {}
      """
    When it is checked
    Then it reports "on.yaml:8:9: error: steps.wait.on must be a mapping with at least one of reply, timeout, valid, invalid [shape]"

  Scenario: Trigger options of the wrong kind list the forms they may take
    Given a flow file "start.yaml":
      """
      id: start
      trigger:
        conversation_started: 5
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "start.yaml:3:25: error: trigger.conversation_started must be empty or a mapping of options (when, states), not a whole number [shape]"

  Scenario: A misspelt key inside trigger options is reported at the key
    Given a flow file "start.yaml":
      """
      id: start
      trigger:
        conversation_started:
          whn: visitor.is_new
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "start.yaml:4:5: error: unknown key 'whn' in trigger.conversation_started [unknown-key]"
    And it hints "did you mean 'when'?"

  Scenario: An empty keyword list is reported at the list
    Given a flow file "words.yaml":
      """
      id: words
      trigger:
        message_received:
          keywords: []
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "words.yaml:4:15: error: trigger.message_received.keywords must have at least 1 item [schema]"

  Scenario: A keyword without a letter or a digit is refused, as it would match no word
    Given a flow file "words.yaml":
      """
      id: words
      trigger:
        message_received:
          keywords: [help, "?"]
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "words.yaml:4:22: error: '?' is not a valid keyword: expected a word or phrase with at least one letter or digit [pattern]"

  Scenario: A keyword may be a phrase of several words
    Given a flow file "words.yaml":
      """
      id: words
      trigger:
        message_received:
          keywords: [opening hours, e-mail]
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then the check passes

  Scenario: Every trigger may say in which conversation states it acts
    Given a flow file "states.yaml":
      """
      id: states
      trigger:
        message_received:
          keywords: [agent]
          states: [hosted, unassigned, assigned]
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then the check passes

  Scenario: A conversation state is one of the known three
    Given a flow file "states.yaml":
      """
      id: states
      trigger:
        conversation_started:
          states: [hosted, asigned]
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "states.yaml:4:22: error: trigger.conversation_started.states[1] must be one of hosted, unassigned, assigned; got 'asigned' [enum]"
    And it hints "did you mean 'assigned'?"

  Scenario: A text that breaks its pattern is a pattern finding that names what is expected
    Given a flow file "card.yaml":
      """
      id: card
      trigger:
        conversation_started:
      start: card
      steps:
        card:
          promo_card:
            title: "15% off"
            image: "http://example.com/promo.png"
          on: {valid: done, invalid: done}
        done:
          end: true
      """
    When it is checked
    Then it reports "card.yaml:9:14: error: 'http://example.com/promo.png' is not a valid image address: expected an https:// address [pattern]"

  Scenario: A decimal duration without a unit suggests whole units
    Given a flow file "quiet.yaml":
      """
      id: quiet
      trigger:
        visitor_timeout:
          after: 1.5
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "quiet.yaml:4:12: error: duration 1.5 has no unit [duration-unit]"
    And it hints "durations count whole units: write 1m30s for 1.5 minutes or 1h30m for 1.5 hours"

  Scenario: A YAML boolean where a duration belongs asks for a duration, not for quotes
    Given a flow file "pause.yaml":
      """
      id: pause
      trigger:
        conversation_started:
      start: pause
      steps:
        pause:
          wait: yes
          next: done
        done:
          end: true
      """
    When it is checked
    Then it reports "pause.yaml:7:11: error: YAML reads yes as true or false, not as a duration [yaml-type]"
    And it hints "expected a duration such as 15m"

  Scenario: A duration is at most 20 characters long
    Given a flow file "pause.yaml":
      """
      id: pause
      trigger:
        conversation_started:
      start: pause
      steps:
        pause:
          wait: 100000000000000000000s
          next: done
        done:
          end: true
      """
    When it is checked
    Then it reports "pause.yaml:7:11: error: steps.pause.wait is too long: at most 20 characters [schema]"

  Scenario: A value to set is a single value, not a list
    Given a flow file "set.yaml":
      """
      id: set
      trigger:
        conversation_started:
      start: done
      steps:
        done:
          do:
            - set: {field: vars.plans, value: [basic, pro]}
          end: true
      """
    When it is checked
    Then it reports "set.yaml:8:41: error: steps.done.do[0].set.value must be text, a number, true or false, or null, not a list [type]"
