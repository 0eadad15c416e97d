"""Pointer files: the small, human-readable `PATH.ws` beside a tracked path.

A pointer names the dataset, version and manifest digest a tracked path
holds. It is meant for git: checking out an old commit brings back old
pointers, and `ws checkout` brings the data back to match them. The format is
TOML so that people and `tomllib` read it alike; it is written here by hand so
the field order (and so git diffs) stay stable.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from workspace.errors import InvalidInput

SUFFIX = ".ws"
_FIELDS = ("dataset", "version", "digest", "files", "bytes")


class Pointer(NamedTuple):
    """A named tuple rather than a dataclass: `ws status` reads pointers, and importing
    ``dataclasses`` (with ``inspect``) would be a third of its start-up."""

    dataset: str
    version: int
    digest: str
    files: int
    bytes: int


def pointer_name(tracked_name: str) -> str:
    """`data` -> `data.ws` (the pointer lives in the same directory as the data)."""
    return tracked_name.rstrip("/") + SUFFIX


def render(pointer: Pointer) -> str:
    return (
        f"# workspace pointer: dataset {pointer.dataset} version {pointer.version}.\n"
        "# Commit this file to git; `ws checkout` brings the data back to this version.\n"
        f'dataset = "{pointer.dataset}"\n'
        f"version = {pointer.version}\n"
        f'digest = "{pointer.digest}"\n'
        f"files = {pointer.files}\n"
        f"bytes = {pointer.bytes}\n"
    )


def parse(text: str, *, source: str) -> Pointer:
    """Read a pointer; ``source`` names the file in the error if it is malformed."""
    data = _plain(text)
    if data is None:
        import tomllib

        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _malformed(source, f"not valid TOML ({exc})") from exc
    missing = [name for name in _FIELDS if name not in data]
    if missing:
        raise _malformed(source, "missing " + ", ".join(missing))
    types = {"dataset": str, "version": int, "digest": str, "files": int, "bytes": int}
    for name, kind in types.items():
        if not isinstance(data[name], kind) or isinstance(data[name], bool):
            raise _malformed(source, f"{name} must be a {kind.__name__}")
    if data["version"] < 1:
        raise _malformed(source, "version must be 1 or more")
    return Pointer(**{name: data[name] for name in _FIELDS})


_COMMENT = re.compile("#[^\x00-\x08\x0a-\x1f\x7f]*")
_PLAIN = re.compile('([A-Za-z0-9_-]+) = (?:"([^"\\\\\x00-\x1f\x7f]*)"|(0|[1-9][0-9]*))')


def _plain(text: str) -> dict[str, Any] | None:
    """The TOML ``render`` writes (comments, ``key = "text"``, ``key = 123``), read without
    ``tomllib``, whose import is a fifth of a `ws status`; None for anything else (an edited
    or merged file), which ``tomllib`` then reads or refuses. Each accepted line means in
    TOML what it means here."""
    data: dict[str, Any] = {}
    for line in text.split("\n"):
        line = line.removesuffix("\r")
        if not line or _COMMENT.fullmatch(line):
            continue
        match = _PLAIN.fullmatch(line)
        if match is None or match.group(1) in data:
            return None
        key, string, number = match.groups()
        data[key] = string if string is not None else int(number)
    return data


def _malformed(source: str, why: str) -> InvalidInput:
    return InvalidInput(
        f"pointer file {source} is malformed: {why}",
        hint="restore it from git (`git checkout -- FILE`) or re-create it with `ws checkout PATH`",
    )
