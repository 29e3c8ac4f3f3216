"""Engine features, written with the same step library flow authors use (flowtest.steps)."""

from pytest_bdd import scenarios

scenarios("engine")
