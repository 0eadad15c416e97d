"""The checkpoint file: one JSON line per checkpoint, outside the database.

``<audit_log_dir>/checkpoints.log`` is 0600 in a 0700 directory, appended
and fsynced. It is **created only** when the chain is empty (a new install,
see ``Checkpointer.attach``) or by an admin's explicit, audited reset
(``audit/reset.py``); appends never create it. So a file deleted (or
replaced by an empty one) while the log has events stays missing, and
``verify`` fails until an admin says why, instead of a fresh file silently
vouching for whatever the database now holds.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

CHECKPOINT_FILE = "checkpoints.log"
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
_CREATE = _APPEND | os.O_CREAT | os.O_EXCL


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain's head at one moment: event ``sequence`` had hash ``hash``."""

    sequence: int
    hash: str
    at: str

    def line(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":")) + "\n"

    @staticmethod
    def parse(line: str) -> Checkpoint | None:
        """A line of the checkpoint file, or None if it is not one (e.g. torn by a crash)."""
        try:
            data = json.loads(line)
            found = Checkpoint(int(data["sequence"]), str(data["hash"]), str(data["at"]))
        except (ValueError, KeyError, TypeError):
            return None
        return found if len(found.hash) == 64 else None


@dataclass(frozen=True, slots=True)
class CheckpointLog:
    """What the file holds: its checkpoints, how many lines were not checkpoints, and
    ``problem`` when the file itself could not be read (missing, unreadable)."""

    path: Path
    checkpoints: list[Checkpoint] = field(default_factory=list)
    unreadable_lines: int = 0
    problem: str | None = None


def checkpoint_file(directory: Path) -> Path:
    return directory / CHECKPOINT_FILE


def load_checkpoints(path: Path) -> CheckpointLog:
    """Every checkpoint in the file; a missing or unreadable file says so in ``problem``."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return CheckpointLog(path, problem="missing")
    except OSError as exc:
        return CheckpointLog(path, problem=f"unreadable ({exc.strerror or exc})")
    lines = [line for line in text.splitlines() if line.strip()]
    found = [cp for cp in map(Checkpoint.parse, lines) if cp is not None]
    return CheckpointLog(path, found, len(lines) - len(found))


def append_line(path: Path, line: str) -> None:
    """Append and fsync; ``FileNotFoundError`` if the file is gone (it is never recreated)."""
    _write(os.open(path, _APPEND), line)


def create(path: Path, first_line: str = "") -> None:
    """A new, private checkpoint file (``FileExistsError`` if there is one), made durable."""
    _write(os.open(path, _CREATE, 0o600), first_line)
    _fsync_directory(path.parent)


def set_aside(path: Path, now: datetime | None = None) -> Path | None:
    """Rename the file out of the way (kept for comparison); None if there was none."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
    target = path.with_name(f"{path.name}.{stamp}.set-aside")
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    _fsync_directory(path.parent)
    return target


def put_back(aside: Path, path: Path) -> None:
    """Undo ``set_aside`` (a reset that could not be recorded changes nothing)."""
    os.replace(aside, path)
    _fsync_directory(path.parent)


def prepare_directory(directory: Path) -> None:
    """The directory 0700 and an existing file 0600, whatever a previous owner left."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if directory.stat().st_mode & 0o077:
        directory.chmod(0o700)
    path = checkpoint_file(directory)
    if path.is_file() and path.stat().st_mode & 0o077:
        path.chmod(0o600)


def now_text() -> str:
    """A checkpoint's time: UTC, microseconds, ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write(fd: int, text: str) -> None:
    try:
        if text:
            os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
