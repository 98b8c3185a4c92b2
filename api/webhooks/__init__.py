"""Webhooks: partner subscriptions, signed event delivery and the delivery worker.

How an event travels: a service writes an ``OutboxEvent`` in the same transaction as its change
(``api.outbox.emit``); the worker (``flask --app wsgi webhooks deliver``) fans each event out into
one ``WebhookDelivery`` per matching active endpoint, with the body redacted for that subscriber
(``dispatch.data_for``), then sends it signed as Standard Webhooks describes, retrying with
exponential backoff (``worker``). ``ssrf`` guards target URLs at registration and at every send;
``transport`` connects only to the address that was checked. The payloads and headers a
receiver sees are documented in the OpenAPI ``webhooks`` section (``schemas.register_openapi``).
"""
