"""Git, seen from the CLI: provenance for commits, pointer files at a revision.

The CLI (the user's own process) reads the user's repository; the daemon
never opens it. A repository git refuses to open (owned by another user,
``safe.directory``) is not an error for a data commit: the version is
recorded without provenance and the user is told why.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path

from workspace.cli.output import warn
from workspace.client.daemon import Json
from workspace.errors import InvalidInput


def provenance(path: str) -> Json | None:
    """HEAD commit, branch and dirtiness of the repository holding ``path``, if any."""
    if not may_be_in_git(path):
        return None
    from workspace.vcs.repo import Unavailable, head_info, open_repository

    found = open_repository(Path(path))
    if found is None:
        return None
    if isinstance(found, Unavailable):
        warn(f"warning: no code provenance recorded: {found.reason}")
        warn(f"hint: {found.hint}")
        return None
    return asdict(head_info(found))


def may_be_in_git(path: str) -> bool:
    """Whether ``path`` or a directory above it has a ``.git`` (or git is pointed elsewhere
    by GIT_DIR): only then is pygit2 loaded, which costs more than all the rest of an
    `add` outside git. git itself finds repositories this way; libgit2 decides the rest."""
    if os.environ.get("GIT_DIR"):
        return True
    here = os.path.abspath(path)
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return True
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


def pointers_at(rev: str, root: str) -> dict[str, bytes]:
    """Pointer files at ``rev`` below the workspace ``root``: absolute path -> content."""
    from workspace.vcs.repo import require_repository, workdir_relpath
    from workspace.vcs.revisions import pointer_files_at

    repo = require_repository(Path(root))
    if repo.workdir is None:
        raise InvalidInput("the repository has no work tree", hint="use a normal clone")
    found = pointer_files_at(repo, rev, workdir_relpath(repo, Path(root)))
    return {os.path.join(repo.workdir, relpath): text for relpath, text in found.items()}


def changed_pointers_between(a: str, b: str, root: str) -> list[tuple[str, bytes | None,
                                                                     bytes | None]]:
    from workspace.vcs.repo import require_repository, workdir_relpath
    from workspace.vcs.revisions import changed_pointers

    repo = require_repository(Path(root))
    return changed_pointers(repo, a, b, workdir_relpath(repo, Path(root)))
