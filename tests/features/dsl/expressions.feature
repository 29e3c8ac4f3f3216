Feature: Expressions in guards and templates are checked at the character
  Guards (`when:`) and `{{ }}` interpolations use Parley's small expression language.
  Problems are reported at the exact character inside the expression.

  Scenario: A misspelt field is reported at the field, with the field it was probably meant to be
    Given a flow file "guard.yaml":
      """
      id: guard
      trigger:
        conversation_started:
      when: contact.emial != null
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "guard.yaml:4:15: error: unknown field 'emial' on contact [unknown-field]"
    And it hints "did you mean 'email'?"

  Scenario: A broken expression says what was expected, in the author's words
    Given a flow file "guard.yaml":
      """
      id: guard
      trigger:
        conversation_started:
      when: visitor.is_new and
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "guard.yaml:4:25: error: unexpected end of expression; expected a value after 'and' [expr-syntax]"

  Scenario: A single equals sign suggests the comparison
    Given a flow file "guard.yaml":
      """
      id: guard
      trigger:
        conversation_started:
      when: 'contact.channel = "messenger"'
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "guard.yaml:4:24: error: '=' is not an operator [expr-syntax]"
    And it hints "did you mean '=='?"

  Scenario: A regular expression that does not compile is found before the flow runs
    Given a flow file "guard.yaml":
      """
      id: guard
      trigger:
        message_received:
          when: 'message.text matches "order #(\d+"'
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "guard.yaml:4:33: error: bad regular expression: missing ), unterminated subpattern [bad-regex]"

  Scenario: Comparing values of different kinds is a type clash
    Given a flow file "guard.yaml":
      """
      id: guard
      trigger:
        conversation_started:
      when: contact.tags > 3
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "guard.yaml:4:7: error: cannot compare list with number using '>' [type-mismatch]"

  Scenario: A guard must be true or false
    Given a flow file "guard.yaml":
      """
      id: guard
      trigger:
        conversation_started:
      when: contact.email
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "guard.yaml:4:7: error: a guard must be true or false, but this is string [type-mismatch]"

  Scenario: A function is called with the right number of arguments
    Given a flow file "guard.yaml":
      """
      id: guard
      trigger:
        conversation_started:
      when: len() > 0
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "guard.yaml:4:7: error: len() takes 1 argument, got 0 [arity]"

  Scenario: An interpolation in a message is checked like a guard
    Given a flow file "hello.yaml":
      """
      id: hello
      trigger:
        conversation_started:
      start: hello
      steps:
        hello:
          say: "Hi {{ contact.display_nme }}!"
          end: true
      """
    When it is checked
    Then it reports "hello.yaml:7:25: error: unknown field 'display_nme' on contact [unknown-field]"
    And it hints "did you mean 'display_name'?"

  Scenario: An interpolation left open is reported where it opens
    Given a flow file "hello.yaml":
      """
      id: hello
      trigger:
        conversation_started:
      start: hello
      steps:
        hello:
          say: "Hi {{ contact.name !"
          end: true
      """
    When it is checked
    Then it reports "hello.yaml:7:14: error: unterminated '{{' [expr-syntax]"
    And it hints "close it with '}}'"

  Scenario: A regular expression with a repeat count too large to compile is found
    Given a flow file "guard.yaml":
      """
      id: guard
      trigger:
        message_received:
          when: 'message.text matches "a{99999999999999999999}"'
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "guard.yaml:4:33: error: bad regular expression: a repeat count is too large [bad-regex]"
