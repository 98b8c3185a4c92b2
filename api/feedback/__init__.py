"""Attendee feedback: per-booking survey links (secret URLs, stored hashed), the public HTML form board
members answer without an account, the responses, and the report's ``attendee_feedback`` figures.

How a response reaches the figures:
- a coordinator creates a link for a delivered booking (``POST /api/v1/bookings/{id}/survey``); creating
  another rotates it (the old URL answers 404), and ``DELETE`` revokes it;
- ``GET /survey/{token}`` serves the form (``api.feedback.pages``, Jinja, no JavaScript needed); each POST
  stores one response, at most ``SURVEY_RATE_LIMIT`` (60 an hour) per link;
- a response whose optional name matches one of the booking's attendees (case and spacing ignored) is tied
  to that contact, so erasing the contact anonymises it (``erase_contact_responses``); the figures stay;
- the programme report adds ``attendee_feedback`` (``report_section``) by aggregating the responses of the
  bookings in its period directly: no stored roll-up, so nothing to register with ``api.derived``.
"""
