Feature: Many files, and files that are not flows at all
  `parley check` takes files and folders. Flow ids are unique across them; a bad file is
  reported and set aside while the good ones still compile; and any input, however
  broken or hostile, gets a located error instead of a crash.

  Scenario: Two files may not use the same flow id
    Given a flow file "a.yaml":
      """
      id: greet
      trigger:
        conversation_started:
      start: done
      steps:
        done:
          end: true
      """
    And a flow file "b.yaml":
      """
      # the same id again
      id: greet
      trigger:
        conversation_started:
      start: done
      steps:
        done:
          end: true
      """
    When they are checked together
    Then it reports "b.yaml:2:5: error: flow id 'greet' is already used by a.yaml [duplicate-id]"

  Scenario: A bad file is set aside and the good ones still compile
    Given a flow file "good.yaml":
      """
      id: good
      trigger:
        conversation_started:
      start: done
      steps:
        done:
          end: true
      """
    And a flow file "bad.yaml":
      """
      id: bad
      trigger:
        conversation_started:
      start: nowhere
      steps:
        done:
          end: true
      """
    When they are checked together
    Then the check fails
    And it reports "checked 2 file(s): 1 flow(s) ok, 1 error(s), 0 warning(s)"

  Scenario: An empty file says what a flow needs
    Given a flow file "empty.yaml":
      """
      # nothing here yet
      """
    When it is checked
    Then it reports "empty.yaml:1:1: error: the file is empty; a flow needs at least id, trigger and steps [empty]"

  Scenario: Broken YAML is located
    Given a flow file "broken.yaml":
      """
      id: broken
      steps: [one, two
      start: one
      """
    When it is checked
    Then it reports "broken.yaml:3:6: error: broken YAML: while parsing a flow sequence did not find expected ',' or ']' [yaml-syntax]"

  Scenario: A file that is not UTF-8 text is refused at the first bad byte
    Given a flow file "latin1.yaml" holding the bytes 69 64 3a 20 63 61 66 e9 0a
    When it is checked
    Then it reports "latin1.yaml:1:8: error: not UTF-8 text: byte 0xe9 [encoding]"
    And it hints "save the file as UTF-8"

  Scenario: Aliases that would expand into millions of values are refused
    Given a flow file "bomb.yaml":
      """
      a: &a [x, x, x, x, x, x, x, x, x, x]
      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
      d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
      e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
      f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
      """
    When it is checked
    Then it reports "bomb.yaml:1:17: error: more than 100,000 values (counting alias expansions) [yaml-size]"

  Scenario: Deep nesting is refused before it can exhaust the parser
    Given a flow file "deep.yaml" nesting 200 lists
    When it is checked
    Then it reports "deep.yaml:2:71: error: nesting deeper than 64 levels [yaml-depth]"

  Scenario: A multi-megabyte file is refused without being parsed
    Given a flow file "huge.yaml" of 3000000 bytes of comments
    When it is checked
    Then it reports "huge.yaml:1:1: error: file is 3,000,080 bytes; flows are limited to 1 MiB [file-size]"

  Scenario: A file named twice is checked once, so it does not clash with itself
    Given a flow file "greet.yaml":
      """
      id: greet
      trigger:
        conversation_started:
      start: done
      steps:
        done:
          end: true
      """
    When it is named twice on the command line
    Then the check passes
    And it reports "checked 1 file(s): 1 flow(s) ok, 0 error(s), 0 warning(s)"

  Scenario: In a folder, flow files are found whatever the case of their extension
    Given a flow file "GREET.YAML":
      """
      id: greet
      trigger:
        conversation_started:
      start: done
      steps:
        done:
          end: true
      """
    When the folder is checked
    Then the check passes
    And it reports "checked 1 file(s): 1 flow(s) ok, 0 error(s), 0 warning(s)"
