"""The files the CLI writes itself: `PATH.ws` pointers and `.gitignore` lines.

They are written by the user's own process (not the daemon) so that they
belong to the user like the rest of their git checkout. A pointer is replaced
atomically (temp file in the same directory, then rename), so git never sees
half a pointer; `.gitignore` is only ever appended to.
"""

from __future__ import annotations

import contextlib
import errno
import os

from workspace.client.daemon import Json, require
from workspace.client.paths import in_workspace, shown
from workspace.errors import WorkspaceError
from workspace.pointer import SUFFIX, Pointer, parse, render

_GLOB_CHARS = "\\*?["


def record(result: Json) -> None:
    """Write the pointer and the `.gitignore` line an add/commit/checkout/get result implies."""
    tracked, data = require(result, "tracked"), require(result, "pointer")
    root = str(require(tracked, "workspace"))
    atomic_write(in_workspace(root, str(require(data, "path"))), render(_pointer_from(data)))
    tracked_path = in_workspace(root, str(require(tracked, "path")))
    ensure_ignored(tracked_path, is_dir=tracked.get("kind") == "dir")


def _pointer_from(data: Json) -> Pointer:
    return Pointer(
        dataset=str(require(data, "dataset")),
        version=int(require(data, "version")),
        digest=str(require(data, "digest")),
        files=int(require(data, "files")),
        bytes=int(require(data, "bytes")),
    )


def read_beside(tracked_path: str) -> Pointer | None:
    """The pointer `PATH.ws` next to a tracked path, or None when there is none."""
    path = tracked_path + SUFFIX
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"cannot read pointer file {shown(path)}: {exc}") from exc
    return parse(text, source=shown(path))


def find_all(root: str, tracked: set[str]) -> list[str]:
    """Every `*.ws` file under ``root``, outside `.git` and outside tracked paths."""
    found: list[str] = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(
            name
            for name in subdirs
            if name != ".git" and os.path.join(directory, name) not in tracked
        )
        for name in sorted(files):
            path = os.path.join(directory, name)
            if name.endswith(SUFFIX) and path not in tracked and not os.path.islink(path):
                found.append(path)
    return found


def atomic_write(path: str, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old file or the new one."""
    try:
        fd, temp = _new_temp(path)
    except OSError as exc:
        raise _cannot_write(path, exc) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise _cannot_write(path, exc) from exc


def _new_temp(path: str) -> tuple[int, str]:
    """A new private file beside ``path`` (what ``tempfile.mkstemp`` does, without importing
    ``tempfile``: ``random``, ``shutil`` and ``weakref`` cost the light path 5-20 ms)."""
    directory, name = os.path.split(path)
    for _ in range(100):
        temp = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            return os.open(temp, flags, 0o600), temp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", directory)


def ensure_ignored(tracked_path: str, *, is_dir: bool) -> None:
    """Keep `/<name>` in the `.gitignore` beside a tracked path: added once, rest untouched."""
    directory, name = os.path.split(tracked_path)
    gitignore = os.path.join(directory, ".gitignore")
    line = "/" + _escape(name)
    existing = _read_text(gitignore)
    present = {entry.strip() for entry in existing.splitlines()}
    if line in present or (is_dir and line + "/" in present):
        return
    prefix = "\n" if existing and not existing.endswith("\n") else ""
    try:
        with open(gitignore, "a", encoding="utf-8") as handle:
            handle.write(f"{prefix}{line}\n")
    except OSError as exc:
        raise _cannot_write(gitignore, exc) from exc


def _escape(name: str) -> str:
    """A file name as a literal gitignore pattern (no globbing, trailing spaces kept)."""
    escaped = "".join("\\" + char if char in _GLOB_CHARS else char for char in name)
    stripped = escaped.rstrip(" ")
    return stripped + "\\ " * (len(escaped) - len(stripped))


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            return handle.read()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise WorkspaceError(f"cannot read {shown(path)}: {exc.strerror}") from exc


def _cannot_write(path: str, exc: OSError) -> WorkspaceError:
    return WorkspaceError(
        f"cannot write {shown(path)}: {exc.strerror or exc}",
        hint="the data is committed; fix the directory's permissions and run "
        "`ws checkout` to write the pointer again",
    )
