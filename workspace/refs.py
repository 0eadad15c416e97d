"""Dataset names and version references (`DATASET`, `DATASET@N`, `DATASET@TAG`).

Names are what access policies match, so they are strict: lower-case
segments ``[a-z0-9][a-z0-9._-]*`` joined by ``/``; no leading or trailing
slash, no empty, ``.`` or ``..`` segment.
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
    """A parsed reference: ``version`` or ``tag`` or neither (= latest)."""

    dataset: str
    version: int | None = None
    tag: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.dataset}@{self.version}"
        if self.tag is not None:
            return f"{self.dataset}@{self.tag}"
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
    if len(tag) > 100 or not _TAG.fullmatch(tag) or tag.isdigit():
        raise InvalidInput(
            f"{tag!r} is not a valid tag",
            hint="a tag starts with a letter or digit, uses letters, digits, '.', '_', '-', "
            "and is not a plain number (that would read as a version)",
        )
    return tag


def parse_ref(text: str) -> Ref:
    name, sep, suffix = text.partition("@")
    validate_name(name)
    if not sep:
        return Ref(name)
    if suffix.isdigit() and int(suffix) >= 1:
        return Ref(name, version=int(suffix))
    if suffix.isdigit():
        raise InvalidInput(f"version {suffix} does not exist: versions start at 1")
    return Ref(name, tag=validate_tag(suffix))


def _has_dot_segment(name: str) -> bool:
    return any(segment in (".", "..") for segment in name.split("/"))
