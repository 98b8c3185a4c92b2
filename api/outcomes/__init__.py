"""Outcomes domain."""
