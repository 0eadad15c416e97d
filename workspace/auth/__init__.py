"""Who is calling: local peers by Unix uid (passwords and tokens come later)."""

from workspace.auth.identity import Caller, bootstrap_admin, find_local, resolve_local

__all__ = ["Caller", "bootstrap_admin", "find_local", "resolve_local"]
