"""Dataset names and version references (`DATASET`, `DATASET@N`, `DATASET@NAME`).

Names are what access policies match, so they are strict: lower-case
segments ``[a-z0-9][a-z0-9._-]*`` joined by ``/``; no leading or trailing
slash, no empty, ``.`` or ``..`` segment.

After the ``@``, a number is a version; anything else is a *label*: a tag
(immutable) or an alias (movable). Both share one namespace per dataset (the
daemon refuses a tag named like an alias and the reverse) and neither can be
a plain number, so ``DATASET@NAME`` always means one thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workspace.errors import InvalidInput

_SEGMENT = r"[a-z0-9][a-z0-9._-]*"
_NAME = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Ref:
    """A parsed reference: ``version`` or ``label`` (a tag or an alias) or neither (= latest)."""

    dataset: str
    version: int | None = None
    label: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.dataset}@{self.version}"
        if self.label is not None:
            return f"{self.dataset}@{self.label}"
        return self.dataset


def validate_name(name: str) -> str:
    if len(name) > MAX_NAME or not _NAME.fullmatch(name) or _has_dot_segment(name):
        raise InvalidInput(
            f"{name!r} is not a valid dataset name",
            hint="use lower-case segments of a-z, 0-9, '.', '_', '-' joined by '/', "
            "e.g. vision/cats",
        )
    return name


def validate_tag(tag: str) -> str:
    return validate_label(tag, "tag")


def validate_alias(name: str) -> str:
    return validate_label(name, "alias")


def validate_label(label: str, kind: str = "tag or alias") -> str:
    """A tag's or an alias's name: the same rules, since ``DATASET@NAME`` may be either."""
    if len(label) > 100 or not _TAG.fullmatch(label) or label.isdigit():
        raise InvalidInput(
            f"{label!r} is not a valid {kind}",
            hint=f"a {kind} starts with a letter or digit, uses letters, digits, '.', '_', '-', "
            "and is not a plain number (that would read as a version)",
        )
    return label


def parse_ref(text: str) -> Ref:
    name, sep, suffix = text.partition("@")
    validate_name(name)
    if not sep:
        return Ref(name)
    if suffix.isdigit() and int(suffix) >= 1:
        return Ref(name, version=int(suffix))
    if suffix.isdigit():
        raise InvalidInput(f"version {suffix} does not exist: versions start at 1")
    return Ref(name, label=validate_label(suffix))


def _has_dot_segment(name: str) -> bool:
    return any(segment in (".", "..") for segment in name.split("/"))
