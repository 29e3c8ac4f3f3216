Feature: Each construct of the language compiles into states and transitions
  `parley graph` draws the state machine a flow compiles into (Mermaid by default,
  `--format dot` for Graphviz). Steps are states; buttons, replies, answers, timeouts,
  waits, branches and `next` are the transitions between them.

  Scenario: Buttons, a free reply and a reply timeout each lead somewhere
    Given a flow file "nudge.yaml":
      """
      id: nudge
      trigger:
        visitor_timeout:
          after: 15m
      start: nudge
      steps:
        nudge:
          say: "Still there?"
          buttons:
            - {label: "Talk to a person", goto: handoff}
          on: {reply: handoff, timeout: {after: 1d, goto: quiet}}
        handoff:
          do: [{hosting: off}]
          end: true
        quiet:
          end: true
      """
    When it is drawn
    Then the diagram has "[*] --> nudge"
    And the diagram has "nudge --> handoff: button 'Talk to a person'"
    And the diagram has "nudge --> handoff: reply"
    And the diagram has "nudge --> quiet: no reply for 1d"
    And the diagram has "handoff --> [*]"

  Scenario: A question moves on by a valid or an invalid answer
    Given a flow file "email.yaml":
      """
      id: email
      trigger:
        conversation_started:
      start: ask_email
      steps:
        ask_email:
          ask: "Your email, please?"
          expect: email
          save: contact.email
          retries: 2
          on: {valid: thanks, invalid: sorry}
        thanks:
          end: true
        sorry:
          end: true
      """
    When it is drawn
    Then the diagram has "ask_email --> thanks: valid"
    And the diagram has "ask_email --> sorry: invalid"

  Scenario: A multiple-choice question lists its choices
    Given a flow file "plan.yaml":
      """
      id: plan
      trigger:
        conversation_started:
      start: which
      steps:
        which:
          ask: "Which plan?"
          expect: choice
          choices: [Basic, Pro]
          save: vars.plan
          on: {valid: done, invalid: done}
        done:
          say: "You chose {{ vars.plan }}."
          end: true
      """
    When it is checked
    Then the check passes

  Scenario: A promo card collects an email and moves on like a question
    Given a flow file "promo.yaml":
      """
      id: promo
      trigger:
        conversation_started:
      start: card
      steps:
        card:
          promo_card:
            title: "15% off"
            text: "Leave your email for the code."
            image: "https://example.com/promo.png"
          on: {valid: thanks, invalid: done}
        thanks:
          do: [{tag: promo-lead}]
          end: true
        done:
          end: true
      """
    When it is drawn
    Then the diagram has "card --> thanks: valid"

  Scenario: A wait pauses the flow, then `next` moves on
    Given a flow file "later.yaml":
      """
      id: later
      trigger:
        conversation_started:
      start: pause
      steps:
        pause:
          wait: 1h30m
          next: follow_up
        follow_up:
          say: "How did it go?"
          end: true
      """
    When it is drawn
    Then the diagram has "pause --> follow_up: after 1h30m"

  Scenario: A branch takes the first arm whose guard holds, else the last
    Given a flow file "route.yaml":
      """
      id: route
      trigger:
        message_received:
          keywords: [price, pricing]
      start: route
      steps:
        route:
          branch:
            - when: visitor.is_new
              goto: welcome
            - else: regular
        welcome:
          end: true
        regular:
          end: true
      """
    When it is drawn
    Then the diagram has "route --> welcome: when visitor.is_new"
    And the diagram has "route --> regular: else"

  Scenario: Every kind of action is accepted in `do`
    Given a flow file "actions.yaml":
      """
      id: actions
      trigger:
        conversation_started:
      vars:
        visits: 0
      start: act
      steps:
        act:
          do:
            - tag: [lead, spring]
            - untag: cold
            - set: {field: vars.visits, value: "{{ vars.visits + 1 }}"}
            - set: {field: contact.remark_name, value: "Lead {{ contact.name }}"}
            - assign: {agent: sales@example.com}
            - hosting: off
            - email: {template: welcome, to: "{{ contact.email }}", subject: "Hello"}
            - webhook: {url: "https://hooks.example.com/lead", timeout: 5s, body: {source: parley}}
            - end_conversation: true
          end: true
      """
    When it is checked
    Then the check passes

  Scenario: The same flow draws as a Graphviz graph
    Given a flow file "later.yaml":
      """
      id: later
      trigger:
        conversation_started:
      start: pause
      steps:
        pause:
          wait: 2h
          next: done
        done:
          end: true
      """
    When it is drawn as dot
    Then the diagram has ""pause" -> "done" [label="after 2h"];"

  Scenario: The flows shipped with Parley pass the strict check where email is set up
    When the shipped flows are checked on a server with SMTP configured
    Then the check passes
    And it reports "checked 4 file(s): 4 flow(s) ok, 0 error(s), 0 warning(s)"
