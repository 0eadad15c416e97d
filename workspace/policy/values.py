"""Validation of every value that may reach Casbin.

Casbin stores rules as comma-separated lines and compares values as plain
strings, so a comma, quote, newline or control character in a value could
forge or split a rule. Values are therefore checked against a small ASCII
allow-list before anything else sees them, and each kind of value has its own
shape: subjects never contain ``*``; patterns contain at most one ``*``, at
the end (a prefix match, as Casbin's ``keyMatch`` reads it); roles are short
lower-case words; actions and effects are closed sets.
"""

from __future__ import annotations

import re

from workspace.errors import InvalidInput

ACTIONS = ("read", "write", "maintain", "admin", "promote")
"""What a request may ask for: the role chain, weakest first, then ``promote`` (moving a
protected alias such as ``production``), which no role implies; ``*`` in a rule means all."""
EFFECTS = ("allow", "deny")
MAX_VALUE = 200
ADMIN_PREFIX = "admin:"

_CHARSET = re.compile(r"[A-Za-z0-9._@:/+$*-]+")
_ROLE = re.compile(r"[a-z][a-z0-9_-]{0,63}")
_HINT = (
    "policy values use letters, digits and . _ @ : / + $ - (and * at the end of a pattern); "
    "no commas, quotes, spaces or control characters"
)


def _plain(kind: str, value: object) -> str:
    """The checks every value shares: a non-empty, bounded, allow-listed ASCII string."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"the {kind} is empty", hint=_HINT)
    if len(value) > MAX_VALUE:
        raise InvalidInput(f"the {kind} is longer than {MAX_VALUE} characters", hint=_HINT)
    if not _CHARSET.fullmatch(value):
        bad = next(ch for ch in value if not _CHARSET.fullmatch(ch))
        raise InvalidInput(f"the {kind} {value!r} contains {bad!r}", hint=_HINT)
    return value


def subject(value: object) -> str:
    """A user (``alice``), a Unix group (``group:ml-team``) or a role name."""
    text = _plain("subject", value)
    if "*" in text:
        raise InvalidInput(f"the subject {text!r} contains '*'", hint="name one user or group")
    return text


def is_subject(value: str) -> bool:
    """For request groups: a Unix group whose name no rule could hold just matches nothing."""
    try:
        subject(value)
    except InvalidInput:
        return False
    return True


def role(value: object) -> str:
    text = _plain("role", value)
    if not _ROLE.fullmatch(text):
        raise InvalidInput(
            f"{text!r} is not a role name", hint="roles are lower-case words, e.g. writer"
        )
    return text


def pattern(value: object) -> str:
    """A dataset name, a prefix ending in ``*`` (``vision/*``), ``*``, or ``admin:NAME``."""
    text = _plain("pattern", value)
    if "*" in text[:-1]:
        raise InvalidInput(
            f"the pattern {text!r} has '*' before its end",
            hint="a pattern is a name, or a prefix followed by one '*' (vision/*)",
        )
    return text


def resource(value: object) -> str:
    """What a request is about: a dataset name or an admin resource (never a pattern)."""
    text = _plain("resource", value)
    if "*" in text:
        raise InvalidInput(f"the resource {text!r} contains '*'", hint="name one resource")
    return text


def action(value: object, *, wildcard: bool = False) -> str:
    allowed = (*ACTIONS, "*") if wildcard else ACTIONS
    if value not in allowed:
        raise InvalidInput(f"unknown action {value!r}", hint=f"use one of: {', '.join(allowed)}")
    assert isinstance(value, str)
    return value


def effect(value: object) -> str:
    if value not in EFFECTS:
        raise InvalidInput(f"unknown effect {value!r}", hint="use allow or deny")
    assert isinstance(value, str)
    return value


def covers(outer: str, inner: str) -> bool:
    """True when every name ``inner`` matches is matched by ``outer`` (both patterns)."""
    if not outer.endswith("*"):
        return outer == inner
    return inner.rstrip("*").startswith(outer[:-1])


def matches(name: str, pattern_: str) -> bool:
    """Casbin's ``keyMatch`` on our patterns: exact, or prefix before the final ``*``."""
    if pattern_.endswith("*"):
        return name.startswith(pattern_[:-1])
    return name == pattern_
