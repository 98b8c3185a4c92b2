"""Change requests: a partner asks for a new time, format, place or link on a booking it can no longer edit."""
