"""Helpers for tests that run the real daemon and CLI as real processes."""
