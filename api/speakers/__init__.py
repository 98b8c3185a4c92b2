"""Speakers from the expert network and their availability."""
