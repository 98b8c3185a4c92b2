"""Masterclass registrations: seats, the waiting list, and the board members of many trusts who take them."""
