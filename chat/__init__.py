"""The chat layer: contacts, conversations and members in SQL (SQLAlchemy models and services)."""
