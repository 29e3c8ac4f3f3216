"""Testing flows without Python: a simulator and a Gherkin step library (`parley test`)."""
