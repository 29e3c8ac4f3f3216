"""The flow language: YAML flows checked like a compiler and compiled to state machines."""
