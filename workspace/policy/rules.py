"""A policy rule as workspace sees it: Casbin's ``ptype`` and values, plus where it came from.

Two kinds, both one line of ``policy.csv``:

- ``p, SUBJECT, PATTERN, ACTION, EFFECT``: SUBJECT may (``allow``) or may not
  (``deny``) do ACTION on datasets matching PATTERN;
- ``g, MEMBER, ROLE, PATTERN``: MEMBER holds ROLE on datasets matching
  PATTERN (a grant), or, between two roles, ROLE's permissions are part of
  MEMBER's (inheritance, on ``*``).
"""

from __future__ import annotations

from dataclasses import dataclass

from workspace.errors import InvalidInput
from workspace.policy import values

RuleRow = tuple[str, str, str, str, str]
"""``(ptype, v0, v1, v2, v3)`` with unused values empty: the database row's shape."""


@dataclass(frozen=True, slots=True)
class Rule:
    ptype: str
    values: tuple[str, ...]
    source: str = "api"
    """``file`` (from ``policy.csv``, replaced when it changes) or ``api``."""

    @staticmethod
    def grant(subject: str, role: str, pattern: str, *, source: str = "api") -> Rule:
        checked = (values.subject(subject), values.role(role), values.pattern(pattern))
        return Rule("g", checked, source)

    @staticmethod
    def permission(
        subject: str, pattern: str, action: str, effect: str = "allow", *, source: str = "api"
    ) -> Rule:
        checked = (
            values.subject(subject),
            values.pattern(pattern),
            values.action(action, wildcard=True),
            values.effect(effect),
        )
        return Rule("p", checked, source)

    @staticmethod
    def parse(fields: list[str], *, source: str) -> Rule:
        """A rule from the fields of one ``policy.csv`` line (already split on commas)."""
        ptype, rest = fields[0], fields[1:]
        if ptype == "p" and len(rest) == 4:
            return Rule.permission(*rest, source=source)
        if ptype == "g" and len(rest) == 3:
            return Rule.grant(*rest, source=source)
        raise InvalidInput(
            f"not a rule: {', '.join(fields)!r}",
            hint="write 'p, SUBJECT, PATTERN, ACTION, EFFECT' or 'g, MEMBER, ROLE, PATTERN'",
        )

    @staticmethod
    def from_row(row: RuleRow, source: str) -> Rule:
        ptype, *rest = row
        width = 4 if ptype == "p" else 3
        return Rule(ptype, tuple(rest[:width]), source)

    @property
    def subject(self) -> str:
        return self.values[0]

    @property
    def row(self) -> RuleRow:
        padded = (*self.values, "", "", "", "")[:4]
        return (self.ptype, padded[0], padded[1], padded[2], padded[3])

    def __str__(self) -> str:
        return ", ".join((self.ptype, *self.values))
