Feature: Steps and the ways between them are checked before a flow runs
  A flow is a graph of steps. `parley check` makes sure every step moves on in one
  clear way, every name it points to exists, every visitor can reach an end, and no
  loop spins without waiting for the visitor or the clock.

  Scenario: A goto to a step that does not exist suggests the nearest name
    Given a flow file "menu.yaml":
      """
      id: menu
      trigger:
        conversation_started:
      start: menu
      steps:
        menu:
          say: "What do you need?"
          buttons:
            - {label: "Pricing", goto: pricng}
        pricing:
          say: "Plans start at 10 EUR."
          end: true
      """
    When it is checked
    Then it reports "menu.yaml:9:34: error: no step named 'pricng' [unknown-step]"
    And it hints "did you mean 'pricing'?"
    And it reports "checked 1 file(s): 0 flow(s) ok, 1 error(s), 0 warning(s)"

  Scenario: A step nothing leads to is a warning, which --strict turns into a failure
    Given a flow file "menu.yaml":
      """
      id: menu
      trigger:
        conversation_started:
      start: hello
      steps:
        hello:
          say: "Hello!"
          end: true
        forgotten:
          end: true
      """
    When it is checked with --strict
    Then the check fails
    And it reports "menu.yaml:9:3: warning: step 'forgotten' is never reached from 'hello' [unreachable]"

  Scenario: A warning alone does not fail the normal check
    Given a flow file "menu.yaml":
      """
      id: menu
      trigger:
        conversation_started:
      start: hello
      steps:
        hello:
          end: true
        forgotten:
          end: true
      """
    When it is checked
    Then the check passes
    And it reports "checked 1 file(s): 1 flow(s) ok, 0 error(s), 1 warning(s)"

  Scenario: A step from which no end can be reached is an error
    Given a flow file "trap.yaml":
      """
      id: trap
      trigger:
        conversation_started:
      start: ask
      steps:
        ask:
          say: "Say something"
          on: {reply: ask}
      """
    When it is checked
    Then it reports "trap.yaml:6:3: error: from step 'ask' no path leads to a step with `end: true` [no-end]"

  Scenario: A loop that never waits would spin forever, so it is refused
    Given a flow file "spin.yaml":
      """
      id: spin
      trigger:
        conversation_started:
      start: one
      steps:
        one:
          next: two
        two:
          branch:
            - when: contact.email == null
              goto: one
            - else: done
        done:
          end: true
      """
    When it is checked
    Then it reports "spin.yaml:6:3: error: step 'one' is in a loop that never waits for the visitor or the clock [spin-loop]"
    And it hints "add a wait, buttons, an ask or an `on: reply` somewhere in the loop"

  Scenario: A loop through a wait is fine
    Given a flow file "poll.yaml":
      """
      id: poll
      trigger:
        conversation_started:
      start: one
      steps:
        one:
          wait: 1h
          next: two
        two:
          branch:
            - when: contact.email == null
              goto: one
            - else: done
        done:
          end: true
      """
    When it is checked
    Then the check passes

  Scenario: A step must say how it moves on
    Given a flow file "stuck.yaml":
      """
      id: stuck
      trigger:
        conversation_started:
      start: hello
      steps:
        hello:
          say: "Hello!"
      """
    When it is checked
    Then it reports "stuck.yaml:6:3: error: step 'hello' has no way on [step-shape]"
    And it hints "add next, end: true, buttons, ask, branch or on"

  Scenario: A step moves on in one way only
    Given a flow file "torn.yaml":
      """
      id: torn
      trigger:
        conversation_started:
      start: hello
      steps:
        hello:
          say: "Hello!"
          next: bye
          end: true
        bye:
          end: true
      """
    When it is checked
    Then it reports "torn.yaml:6:3: error: step 'hello' moves on in more than one way: end and next [step-shape]"

  Scenario: A question needs both a valid and an invalid exit
    Given a flow file "email.yaml":
      """
      id: email
      trigger:
        conversation_started:
      start: ask
      steps:
        ask:
          ask: "Your email?"
          expect: email
          on: {valid: done}
        done:
          end: true
      """
    When it is checked
    Then it reports "email.yaml:6:3: error: ask and promo_card steps need `on: {valid: step, invalid: step}` [step-shape]"

  Scenario: An answer can only be saved where a flow may write
    Given a flow file "save.yaml":
      """
      id: save
      trigger:
        conversation_started:
      start: ask
      steps:
        ask:
          ask: "Your name?"
          expect: text
          save: contact.name
          on: {valid: done, invalid: done}
        done:
          end: true
      """
    When it is checked
    Then it reports "save.yaml:9:11: error: 'contact.name' cannot be written by a flow [readonly-field]"
    And it hints "flows may write contact.email, contact.phone, contact.remark_name and vars.<name>"

  Scenario: A variable that is read but never set is a warning
    Given a flow file "vars.yaml":
      """
      id: vars
      trigger:
        conversation_started:
      start: hello
      steps:
        hello:
          say: "Your code is {{ vars.code }}"
          end: true
      """
    When it is checked
    Then it reports "vars.yaml:7:10: warning: vars.code is read but never set [unset-var]"

  Scenario: A duration outside its sensible range is an error
    Given a flow file "slow.yaml":
      """
      id: slow
      trigger:
        visitor_timeout:
          after: 90d
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "slow.yaml:4:12: error: 90d is out of range: use between 10s and 30d [duration-range]"
