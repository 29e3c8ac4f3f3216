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

  Scenario: A variable that is read but never set is a warning at the spot it is read
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
    Then it reports "vars.yaml:7:27: warning: vars.code is read but never set [unset-var]"

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

  Scenario: A zero wait is out of range, not silently no wait
    Given a flow file "pause.yaml":
      """
      id: pause
      trigger:
        conversation_started:
      start: pause
      steps:
        pause:
          wait: 0s
          next: done
        done:
          end: true
      """
    When it is checked
    Then it reports "pause.yaml:7:11: error: 0s is out of range: use between 1s and 30d [duration-range]"

  Scenario: A zero webhook timeout is out of range, not silently the default
    Given a flow file "hook.yaml":
      """
      id: hook
      trigger:
        conversation_started:
      start: done
      steps:
        done:
          do:
            - webhook: {url: "https://hooks.example.com/lead", timeout: 0s}
          end: true
      """
    When it is checked
    Then it reports "hook.yaml:8:67: error: 0s is out of range: use between 1s and 30s [duration-range]"

  Scenario: A branch arm without a target is a step-shape finding only
    Given a flow file "route.yaml":
      """
      id: route
      trigger:
        conversation_started:
      start: route
      steps:
        route:
          branch:
            - when: visitor.is_new
            - else: done
        done:
          end: true
      """
    When it is checked
    Then it reports "route.yaml:8:9: error: each branch arm but the last has `when` and `goto`; `else` comes last [step-shape]"
    And it reports 1 error(s)

  Scenario: A missing step after a broken guard is reported at its goto
    Given a flow file "route.yaml":
      """
      id: route
      trigger:
        conversation_started:
      start: route
      steps:
        route:
          branch:
            - when: visitor.is_new and
              goto: welcom
            - else: done
        done:
          end: true
      """
    When it is checked
    Then it reports "route.yaml:9:15: error: no step named 'welcom' [unknown-step]"

  Scenario: A promo card step cannot also have buttons
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
            image: "https://example.com/promo.png"
          buttons:
            - {label: "No thanks", goto: done}
          on: {valid: done, invalid: done}
        done:
          end: true
      """
    When it is checked
    Then it reports "card.yaml:6:3: error: a step asks one thing: use ask, buttons or promo_card, not several [step-shape]"

  Scenario: A question's reply is its answer, so `on: reply` there is refused
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
          on: {valid: done, invalid: done, reply: done}
        done:
          end: true
      """
    When it is checked
    Then it reports "email.yaml:6:3: error: `on: reply` is never taken on ask and promo_card steps: the reply is the answer [step-shape]"

  Scenario: The texts of a webhook body are templates, checked like any other
    Given a flow file "hook.yaml":
      """
      id: hook
      trigger:
        conversation_started:
      start: done
      steps:
        done:
          do:
            - webhook:
                url: "https://hooks.example.com/lead"
                body: {lead: {email: "{{ contact.emial }}"}}
          end: true
      """
    When it is checked
    Then it reports "hook.yaml:10:44: error: unknown field 'emial' on contact [unknown-field]"

  Scenario: A variable read twice in one message is reported once, at its first read
    Given a flow file "vars.yaml":
      """
      id: vars
      trigger:
        conversation_started:
      start: hello
      steps:
        hello:
          say: "{{ vars.code }}, again: {{ vars.code }}"
          end: true
      """
    When it is checked
    Then it reports "vars.yaml:7:14: warning: vars.code is read but never set [unset-var]"
    And it reports "checked 1 file(s): 1 flow(s) ok, 0 error(s), 1 warning(s)"
