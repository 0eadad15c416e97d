"""The audit trail: one hash-chained, append-only event per state change."""

from workspace.audit.record import record
from workspace.audit.tags import Action

__all__ = ["Action", "record"]
