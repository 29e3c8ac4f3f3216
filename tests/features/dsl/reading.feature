Feature: The YAML of a flow file is read safely, and its surprises are explained
  Flow authors write YAML, and YAML has corners: tags, odd numbers, merge keys, control
  characters, Windows line ends. Whatever corner a flow file runs into, `parley check`
  answers with a located finding, never with a crash.

  Scenario: A value that does not fit its explicit tag is refused at the value
    Given a flow file "tagged.yaml":
      """
      id: tagged
      name: !!bool maybe
      """
    When it is checked
    Then the check fails
    And it reports "tagged.yaml:2:7: error: YAML reads 'maybe' as a bool, but it is not a valid bool [yaml-type]"
    And it hints "remove the !!bool tag"

  Scenario: A number tag on text that is no number is refused
    Given a flow file "tagged.yaml":
      """
      id: tagged
      name: !!int abc
      """
    When it is checked
    Then it reports "tagged.yaml:2:7: error: YAML reads 'abc' as an int, but it is not a valid int [yaml-type]"

  Scenario: A number tag with nothing after it is refused
    Given a flow file "tagged.yaml":
      """
      id: tagged
      name: !!float ""
      """
    When it is checked
    Then it reports "tagged.yaml:2:7: error: YAML reads '' as a float, but it is not a valid float [yaml-type]"

  Scenario: A plain word YAML takes for a number but cannot read as one asks for quotes
    Given a flow file "hex.yaml":
      """
      id: hex
      name: 0x_
      """
    When it is checked
    Then it reports "hex.yaml:2:7: error: YAML reads '0x_' as an int, but it is not a valid int [yaml-type]"
    And it hints "put it in quotes: "0x_""

  Scenario: A number of more than 4,300 digits is refused
    Given a flow file "big.yaml" whose name is a number of 5000 digits
    When it is checked
    Then it reports "big.yaml:2:7: error: number too large (more than 4,300 digits) [yaml-type]"

  Scenario: A control character is reported where it stands, counting characters, not bytes
    Given a flow file "bell.yaml" holding the bytes 69 64 3a 20 c3 a9 07 0a
    When it is checked
    Then it reports "bell.yaml:1:6: error: unacceptable character U+0007: control characters are not allowed [encoding]"
    And it hints "remove the character"

  Scenario: A YAML merge key is refused with its own message
    Given a flow file "merge.yaml":
      """
      id: merge
      trigger:
        <<: {conversation_started: }
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "merge.yaml:3:3: error: YAML merge keys (<<) are not supported [yaml-syntax]"

  Scenario: A custom tag on a key is refused like one on a value
    Given a flow file "weird.yaml":
      """
      id: weird
      !weird trigger:
        conversation_started:
      start: done
      steps:
        done:
          end: true
      """
    When it is checked
    Then it reports "weird.yaml:2:1: error: YAML tag !weird is not allowed in flows [yaml-tag]"

  Scenario: In a file with Windows line ends, a finding in a block of text is at the exact spot
    Given a flow file "windows.yaml" with CRLF line ends:
      """
      id: windows
      trigger:
        conversation_started:
      start: done
      steps:
        done:
          say: |
            Hello
            and {{ contact.emial }}
          end: true
      """
    When it is checked
    Then it shows:
      """
      windows.yaml:9:22: error: unknown field 'emial' on contact [unknown-field]
        9 |       and {{ contact.emial }}
                                 ^
      """
