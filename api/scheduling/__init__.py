"""Scheduling: speaker availability and the slot finder."""
