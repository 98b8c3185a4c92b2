"""Webhooks: partner subscriptions, signed event delivery and the delivery worker."""
