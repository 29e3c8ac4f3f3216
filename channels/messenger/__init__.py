"""Facebook Messenger: Meta's Graph API, webhooks, the reply window and contact sync."""
