"""Calendars: invites and subscribable feeds in iCalendar form."""
