"""The daemon's JWT signing secret: 256 random bits in a 0600 file in its home.

Made once, at first start, and then only read. Whoever can read the file can
mint a token for any user, so it is refused (never silently fixed) when it is
not a regular file owned by the daemon's user with no group or other bits:
a loosened mode means someone else may already hold a copy.

Creation is atomic and race-free: the bytes go to a temp file made with
``O_CREAT|O_EXCL|O_NOFOLLOW`` and mode 0600, are synced, then hard-linked to
the final name, which fails if another process got there first (its secret
wins). A crash leaves either no secret or a complete one, never half of one.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from workspace.errors import PermissionDenied, WorkspaceError

SECRET_BYTES = 32
FILE_NAME = "jwt-secret"
"""Its name in the daemon's home."""

_OPEN_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def load_or_create(path: Path) -> bytes:
    """The secret stored at ``path``; generated first if there is none yet."""
    try:
        return read(path)
    except FileNotFoundError:
        _create(path)
    return read(path)


def read(path: Path) -> bytes:
    """The secret at ``path``, after checking that only its owner could have read it."""
    try:
        fd = os.open(path, os.O_RDONLY | _OPEN_FLAGS)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise _unsafe(path, f"cannot be opened safely ({exc.strerror})") from exc
    try:
        _check_private(path, os.fstat(fd))
        text = os.read(fd, 4 * SECRET_BYTES).strip()
    finally:
        os.close(fd)
    return _decode(path, text)


def _check_private(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise _unsafe(path, "is not a regular file")
    if info.st_uid != os.geteuid():
        owner, daemon = info.st_uid, os.geteuid()
        raise _unsafe(path, f"is owned by uid {owner}, not by the daemon (uid {daemon})")
    if info.st_mode & 0o077:
        raise _unsafe(path, f"has mode {stat.S_IMODE(info.st_mode):04o}; it must be 0600")


def _decode(path: Path, text: bytes) -> bytes:
    try:
        secret = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        secret = b""
    if len(secret) != SECRET_BYTES:
        raise WorkspaceError(
            f"the token signing secret {path} is damaged",
            hint=f"remove {path} and restart the daemon: a new secret is made "
            "(everyone logged in over HTTP must log in again)",
        )
    return secret


def _create(path: Path) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS
    fd = os.open(temp, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # independent of the umask
        os.write(fd, secrets.token_bytes(SECRET_BYTES).hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path, follow_symlinks=False)
    except FileExistsError:
        pass  # another process made it first; use theirs
    finally:
        os.unlink(temp)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unsafe(path: Path, why: str) -> PermissionDenied:
    return PermissionDenied(
        f"refusing the token signing secret {path}: it {why}",
        hint=f"if nobody else could have read it, `chown` it to the daemon's user and "
        f"`chmod 600 {path}`; otherwise remove it and restart the daemon to make a new one "
        "(everyone logged in over HTTP must log in again)",
    )
