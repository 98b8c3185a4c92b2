"""Demo bookings: filled in once bookings exist."""


def seed_bookings(session, rng, trusts, speakers, topics, partner, today=None) -> int:
    return 0
