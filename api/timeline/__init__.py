"""A trust's story in one list: its interactions, bookings, outcomes and next steps, newest first."""
