"""Invitations by email (iMIP, RFC 6047): messages written with the booking change, sent by the worker.

How a message travels: a booking write reports itself (``api.bookings.events.booking_changed``), which
calls ``messages.on_booking_changed`` (registered by ``create_app``). That decides who is owed what
(``recipients``; request, update, cancel, reminder) and writes one ``EmailMessage`` row per person,
holding the whole RFC 5322 message (``compose``) with its ``Message-ID``, in the same transaction as
the change. The worker (``flask --app wsgi webhooks deliver``, which drains this queue too) claims
due rows with the same rules as webhook deliveries (``api.work_queue``) and hands the stored bytes to a
``transport``: SMTP (``BOARDROOM_SMTP_URL``) or ``.eml`` files in ``instance/mail/``. A retry sends the
same bytes, so the ``Message-ID`` never changes.
"""
