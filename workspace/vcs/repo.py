"""The git repository around a workspace, and its HEAD as provenance.

Every dataset version records the code it was produced with: the HEAD commit,
the branch, and whether tracked files had uncommitted changes. Git is
optional: ``open_repository`` answers ``None`` when no repository contains the
directory, and everything else still works without provenance.

**A repository owned by another user.** libgit2 (like git since 2.35.2)
refuses to open a repository whose work tree or git directory belongs to
another uid, unless the user listed it in ``safe.directory``. The reason is
that a repository's ``.git/config`` can run programs (``core.fsmonitor``,
``core.pager``, filters, hooks): opening a hostile repository planted in a
shared directory would run its owner's code as the caller. We do **not**
relax that check (no ``GIT_OPT_SET_OWNER_VALIDATION``): ``open_repository``
returns ``Unavailable`` with the reason and a hint, so the CLI can warn
"provenance unavailable: ..." and carry on. A user who trusts the repository
can add it to ``safe.directory`` themselves, which libgit2 honours.

The pygit2 handle (``Repository.git``) is for ``workspace.vcs`` only; callers
outside this package use the functions here and in ``revisions``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pygit2

from workspace.errors import InvalidInput, NotFound, PermissionDenied

_OWNER_REFUSAL = "not owned by current user"
_HEADS = "refs/heads/"
_GENERIC_HINT = "check the repository with `git status`; workspace carries on without provenance"


class Repository:
    """An open, readable git repository (wraps the pygit2 handle)."""

    __slots__ = ("git",)

    def __init__(self, git: pygit2.Repository) -> None:
        self.git = git

    @property
    def workdir(self) -> Path | None:
        """The work tree's root, or None for a bare repository."""
        workdir = self.git.workdir
        return Path(workdir) if workdir else None

    @property
    def gitdir(self) -> Path:
        return Path(self.git.path)


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A repository exists at ``path`` but may not be read; say ``reason`` and ``hint``."""

    path: Path
    reason: str
    hint: str


@dataclass(frozen=True, slots=True)
class GitState:
    """HEAD at the moment of a commit: the code a dataset version was produced with.

    ``commit`` is None on an unborn branch (no commit yet), ``branch`` is None
    when HEAD is detached, ``dirty`` is None when it cannot be known (a bare
    repository, an unreadable index); all three are None if HEAD is corrupt.
    """

    commit: str | None
    branch: str | None
    dirty: bool | None


def open_repository(path: Path) -> Repository | Unavailable | None:
    """The repository containing ``path`` (a directory, a file, or a path not made yet).

    None when there is no repository; ``Unavailable`` (never an exception)
    when there is one that libgit2 refuses to open, e.g. owned by another user.
    """
    start = _existing_dir(path)
    try:
        gitdir = pygit2.discover_repository(str(start))
    except pygit2.GitError as exc:
        return Unavailable(start, f"git could not search for a repository: {exc}", _GENERIC_HINT)
    if gitdir is None:
        return None
    try:
        return Repository(pygit2.Repository(gitdir))
    except pygit2.GitError as exc:
        return _refusal(Path(gitdir), exc)


def require_repository(path: Path) -> Repository:
    """Like ``open_repository``, for commands that cannot work without git (``--rev``)."""
    found = open_repository(path)
    if found is None:
        raise NotFound(
            f"no git repository contains {path}",
            hint="run this inside a git checkout, or drop --rev to use the pointer files on disk",
        )
    if isinstance(found, Unavailable):
        raise PermissionDenied(
            f"cannot read the git repository at {found.path}: {found.reason}", hint=found.hint
        )
    return found


def head_info(repo: Repository) -> GitState:
    """Commit, branch and dirtiness of HEAD (untracked files do not count as dirty).

    Never raises for a damaged repository: what cannot be read is None, since
    missing provenance must not stop a commit of data.
    """
    git = repo.git
    try:
        commit = None if git.head_is_unborn else str(git.head.target)
        branch = _branch(git)
    except pygit2.GitError:
        commit = branch = None
    return GitState(commit=commit, branch=branch, dirty=_dirty(git))


def workdir_relpath(repo: Repository, path: Path) -> str:
    """``path`` relative to the work tree's root, POSIX style ("" for the root itself).

    Parent directories are resolved (the work tree may be reached through a
    symlink) but the last component is not: git tracks a symlink as itself.
    """
    root = repo.workdir
    if root is None:
        raise InvalidInput(
            f"the git repository at {repo.gitdir} is bare: it has no work tree",
            hint="use a checkout of it (git clone / git worktree add)",
        )
    absolute = Path(os.path.abspath(path))
    target = Path(os.path.realpath(absolute.parent)) / absolute.name
    try:
        relative = target.relative_to(os.path.realpath(root))
    except ValueError:
        raise InvalidInput(
            f"{path} is outside the git work tree {root}", hint="use a path inside the repository"
        ) from None
    return "" if relative == Path() else relative.as_posix()


def _existing_dir(path: Path) -> Path:
    """The nearest directory at or above ``path`` (libgit2 searches only from one that exists)."""
    start = Path(os.path.abspath(path))
    while not start.is_dir() and start != start.parent:
        start = start.parent
    return start


def _refusal(gitdir: Path, exc: pygit2.GitError) -> Unavailable:
    """Turn libgit2's refusal into a reason a person can act on."""
    message = str(exc)
    top = gitdir.parent if gitdir.name == ".git" else gitdir
    if _OWNER_REFUSAL not in message:
        return Unavailable(top, f"git could not open it: {message}", _GENERIC_HINT)
    owner = _foreign_owner(top, gitdir)
    whose = f"uid {owner}" if owner is not None else "another user"
    return Unavailable(
        top,
        f"it is owned by {whose}, not by you, and git refuses to open such repositories "
        "(their config could run that user's programs as you)",
        f"if you trust it, run `git config --global --add safe.directory {top}`",
    )


def _foreign_owner(*paths: Path) -> int | None:
    """The first owner among ``paths`` that is not us (the one libgit2 objected to)."""
    for path in paths:
        try:
            owner = path.stat().st_uid
        except OSError:
            continue
        if owner != os.geteuid():
            return owner
    return None


def _branch(git: pygit2.Repository) -> str | None:
    """The branch HEAD points to, also when it has no commit yet; None when detached."""
    if git.head_is_detached:
        return None
    target = git.lookup_reference("HEAD").target
    if not isinstance(target, str):
        return None
    return target.removeprefix(_HEADS)


def _dirty(git: pygit2.Repository) -> bool | None:
    """Whether a tracked file differs from HEAD in the index or the work tree.

    ``untracked_files="no"`` keeps libgit2 from walking untracked directories,
    which is what makes status slow on big checkouts full of data.
    """
    if git.is_bare:
        return None
    try:
        return bool(git.status(untracked_files="no"))
    except pygit2.GitError:
        return None
