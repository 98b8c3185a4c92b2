"""Tests for the webhooks package."""
