"""Credential tables (passwords, API tokens, revoked JWTs, login throttling)."""
