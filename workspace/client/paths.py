"""Turning what the user typed into the paths the daemon expects, and back.

The daemon never follows a symlink inside a workspace, so it is sent
``realpath(parent)/name``: symlinks in the directories above are resolved
here, in the user's own view of the filesystem, while the last component is
left as it is (the daemon refuses it if it is a symlink).
"""

from __future__ import annotations

import os

from workspace.client.daemon import SKEW_HINT
from workspace.errors import WorkspaceError


def daemon_path(user_arg: str) -> str:
    """`data/` -> `/real/parent/data` (absolute, no symlink above the last name)."""
    stripped = user_arg.rstrip("/") or "/"
    absolute = os.path.abspath(stripped)
    return os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))


def shown(path: str) -> str:
    """An absolute path as people want to read it: relative to where they stand."""
    return os.path.relpath(path)


def in_workspace(root: str, relpath: str) -> str:
    """``root/relpath``, refusing anything the daemon sent that would escape the root."""
    joined = os.path.normpath(os.path.join(root, relpath))
    if os.path.isabs(relpath) or not (joined + os.sep).startswith(root.rstrip(os.sep) + os.sep):
        raise WorkspaceError(
            f"the daemon named a path outside the workspace {root}: {relpath!r}",
            hint=SKEW_HINT,
        )
    return joined
