"""Parley's HTTP API: one Flask blueprint per resource, JSON errors, an OpenAPI document."""
