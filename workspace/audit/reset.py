"""Starting a new checkpoint file, on an admin's word, in the audit log itself.

A checkpoint file that is missing, unreadable or empty while the chain has
events makes ``verify`` fail (``no_checkpoint``): the daemon never starts a
new file on its own, because a fresh file would vouch for whatever the
database holds now, a recomputed chain included. When an admin knows why the
file is gone (a restored backup, a moved ``audit_log_dir``), they say so:

1. the old file, if any, is renamed aside (kept, for comparison);
2. a new, empty file is created;
3. an ``audit:checkpoint:reset`` event with the admin's reason and what the
   old file held is appended, in its own transaction;
4. the head (that event) is checkpointed into the new file.

If step 3 fails, steps 1 and 2 are undone. The running daemon's
``Checkpointer`` needs no telling: it appends to whatever file is at the path.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from workspace.audit.checkpoint_file import (
    Checkpoint,
    CheckpointLog,
    append_line,
    checkpoint_file,
    create,
    load_checkpoints,
    now_text,
    prepare_directory,
    put_back,
    set_aside,
)
from workspace.audit.record import record
from workspace.audit.tags import Action
from workspace.db import Database
from workspace.db.queries import audit as queries
from workspace.errors import InvalidInput, WorkspaceError

MAX_REASON = 500


@dataclass(frozen=True, slots=True)
class Reset:
    path: Path
    previous: str
    set_aside: Path | None
    checkpoint: Checkpoint


def reset_checkpoints(db: Database, directory: Path, *, actor: str, reason: str) -> Reset:
    """Set the old checkpoint file aside and start a new one at the head (audited)."""
    reason = _valid_reason(reason)
    path = checkpoint_file(directory)
    try:
        prepare_directory(directory)
        previous = describe(load_checkpoints(path))
        aside = set_aside(path)
        create(path)
    except OSError as exc:
        raise WorkspaceError(f"cannot start a new checkpoint file at {path}: {exc.strerror}",
                             hint="check that the daemon's user owns audit_log_dir") from exc
    try:
        head = _record_reset(db, actor, reason, previous, aside)
    except BaseException:
        _undo(path, aside)
        raise
    checkpoint = Checkpoint(head[0], head[1], now_text())
    append_line(path, checkpoint.line())
    return Reset(path, previous, aside, checkpoint)


def describe(log: CheckpointLog) -> str:
    """What a checkpoint file held, in words (recorded with the reset)."""
    if log.problem is not None:
        return log.problem
    if not log.checkpoints:
        return "empty"
    last = max(cp.sequence for cp in log.checkpoints)
    return f"{len(log.checkpoints)} checkpoints, the last for event {last}"


def _record_reset(db: Database, actor: str, reason: str, previous: str,
                  aside: Path | None) -> tuple[int, str]:
    with db.write() as session:
        record(session, actor=actor, action=Action.AUDIT_CHECKPOINT_RESET,
               detail={"reason": reason, "previous_file": previous,
                       "set_aside_as": None if aside is None else aside.name})
    with db.read() as session:
        head = queries.head(session)
    assert head is not None  # the reset event itself, at least
    return head


def _undo(path: Path, aside: Path | None) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
    if aside is not None:
        with contextlib.suppress(OSError):
            put_back(aside, path)


def _valid_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON or not reason.isprintable():
        raise InvalidInput("a checkpoint reset needs a reason (one line, at most "
                           f"{MAX_REASON} characters)",
                           hint="say why the old file is gone, e.g. --reason \"restored the "
                           "database from last night's backup\"")
    return reason
