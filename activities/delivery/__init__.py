"""Delivery of the notification outbox: channels (SMTP, webhooks), texts, the dispatcher."""
