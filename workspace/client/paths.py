"""Turning what the user typed into the paths the daemon expects, and back.

The daemon never follows a symlink inside a workspace, so it is sent
``realpath(parent)/name``: symlinks in the directories above are resolved
here, in the user's own view of the filesystem, while the last component is
left as it is (the daemon refuses it if it is a symlink). A path that cannot
be resolved (an unreadable ``/proc/PID/cwd`` link, a current directory that
was removed) is one clean error, not a traceback.
"""

from __future__ import annotations

import errno
import os

from workspace.client.daemon import SKEW_HINT
from workspace.errors import InvalidInput, NotFound, PermissionDenied, WorkspaceError


def daemon_path(user_arg: str) -> str:
    """`data/` -> `/real/parent/data` (absolute, no symlink above the last name)."""
    stripped = user_arg.rstrip("/") or "/"
    try:
        absolute = os.path.abspath(stripped)
        parent = os.path.realpath(os.path.dirname(absolute))
    except OSError as exc:
        raise unresolvable(user_arg, exc) from None
    return os.path.join(parent, os.path.basename(absolute))


def current_dir() -> str:
    """The current directory, or a clean error when it is gone or cannot be named."""
    try:
        return os.getcwd()
    except OSError as exc:
        raise unresolvable(".", exc) from None


def unresolvable(user_arg: str, exc: OSError) -> WorkspaceError:
    """Why ``user_arg`` cannot be turned into a path, as one of our errors."""
    where = f" ({exc.filename})" if exc.filename else ""
    message = f"cannot resolve {user_arg}: {exc.strerror or exc}{where}"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return PermissionDenied(message, hint="you may not look inside a directory on the way: "
                                "give a path you can reach, or ask its owner for access")
    if exc.errno == errno.ENOENT:
        return NotFound(message, hint="the current directory may have been removed: "
                        "`cd` to an existing one and try again")
    return InvalidInput(message, hint="check the path")


def shown(path: str) -> str:
    """An absolute path as people want to read it: relative to where they stand."""
    try:
        return os.path.relpath(path)
    except (OSError, ValueError):  # no current directory to be relative to
        return path


def in_workspace(root: str, relpath: str) -> str:
    """``root/relpath``, refusing anything the daemon sent that would escape the root."""
    joined = os.path.normpath(os.path.join(root, relpath))
    if os.path.isabs(relpath) or not (joined + os.sep).startswith(root.rstrip(os.sep) + os.sep):
        raise WorkspaceError(
            f"the daemon named a path outside the workspace {root}: {relpath!r}",
            hint=SKEW_HINT,
        )
    return joined
