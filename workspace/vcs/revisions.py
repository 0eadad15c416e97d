"""Files at a git revision, read from the object database, never the work tree.

This is what ``ws checkout --rev v1.0`` and ``ws diff --rev v1.0..main`` stand
on: the pointer files (``*.ws``) committed at a revision say which dataset
versions that revision used, and reading them here leaves HEAD, the index and
the work tree alone.

Paths in and out are POSIX paths relative to the repository's root (as
``repo.workdir_relpath`` gives them); ``under`` limits a search to one
directory. Only regular files count: a symlink or submodule named ``x.ws`` is
not a pointer file.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import pygit2
from pygit2.enums import FileMode

from workspace.errors import InvalidInput, NotFound
from workspace.vcs.repo import Repository

POINTER_SUFFIX = ".ws"
_REGULAR = (FileMode.BLOB, FileMode.BLOB_EXECUTABLE)
_REV_HINT = "see `git log --oneline --all` and `git tag` for revisions that exist"


def resolve(repo: Repository, rev: str) -> str:
    """The commit id (40 hex) a revision (branch, tag, sha, ``HEAD~2``...) names."""
    return str(_commit(repo, rev).id)


def read_blob(repo: Repository, rev: str, relpath: str) -> bytes | None:
    """The bytes of a regular file at ``rev``; None when no such file is there."""
    path = clean_relpath(relpath)
    if not path:
        return None
    try:
        entry = _commit(repo, rev).tree[path]
    except KeyError:
        return None
    if not isinstance(entry, pygit2.Blob) or entry.filemode not in _REGULAR:
        return None
    return entry.data


def pointer_files_at(repo: Repository, rev: str, under: str = "") -> dict[str, bytes]:
    """Every pointer file in the tree of ``rev`` below ``under``: path -> content."""
    prefix = clean_relpath(under)
    tree = _subtree(_commit(repo, rev).tree, prefix)
    found: dict[str, bytes] = {}
    if tree is not None:
        _collect_pointers(tree, prefix, found)
    return found


def changed_pointers(
    repo: Repository, a: str, b: str, under: str = ""
) -> list[tuple[str, bytes | None, bytes | None]]:
    """Pointer files that differ between ``a`` and ``b``: (path, content at a, content at b).

    None on one side means the pointer is absent there (added or removed).
    Sorted by path. Subtrees with the same id on both sides are skipped
    without being read, so two revisions of a big repository that differ in
    one directory cost a walk of that directory only (libgit2's tree diff
    would expand every subtree).
    """
    prefix = clean_relpath(under)
    old = _subtree(_commit(repo, a).tree, prefix)
    new = _subtree(_commit(repo, b).tree, prefix)
    changes: list[tuple[str, bytes | None, bytes | None]] = []
    _compare_trees(old, new, prefix, changes)
    return sorted(changes, key=lambda change: change[0])


def parse_range(spec: str) -> tuple[str, str]:
    """``"A..B"`` -> ``("A", "B")``; an empty side means HEAD, as in git."""
    old, sep, new = spec.partition("..")
    if not sep or new.startswith(".") or (not old and not new):
        raise InvalidInput(
            f"{spec!r} is not a revision range",
            hint="write two git revisions as A..B, e.g. v1.0..main",
        )
    return old or "HEAD", new or "HEAD"


def clean_relpath(relpath: str) -> str:
    """A repository-relative POSIX path without ``.`` parts; refuses ``..`` and absolute paths."""
    path = PurePosixPath(relpath)
    if path.is_absolute() or ".." in path.parts:
        raise InvalidInput(
            f"{relpath!r} is not a path inside the repository",
            hint="give a path relative to the repository's root, without '..'",
        )
    return "" if path == PurePosixPath() else path.as_posix()


def _commit(repo: Repository, rev: str) -> pygit2.Commit:
    try:
        obj = repo.git.revparse_single(rev)
    except KeyError:
        raise NotFound(f"git revision {rev!r} not found", hint=_REV_HINT) from None
    except (pygit2.GitError, ValueError) as exc:
        raise InvalidInput(f"{rev!r} is not a git revision ({exc})", hint=_REV_HINT) from None
    try:
        return obj.peel(pygit2.Commit)
    except (pygit2.GitError, ValueError):
        raise InvalidInput(
            f"git revision {rev!r} names a {obj.type_str}, not a commit", hint=_REV_HINT
        ) from None


def _subtree(tree: pygit2.Tree, prefix: str) -> pygit2.Tree | None:
    """The tree at ``prefix`` ("" = the root); None when absent or not a directory."""
    if not prefix:
        return tree
    try:
        entry = tree[prefix]
    except KeyError:
        return None
    return entry if isinstance(entry, pygit2.Tree) else None


def _collect_pointers(tree: pygit2.Tree, prefix: str, found: dict[str, bytes]) -> None:
    for entry in tree:
        name = entry.name or ""
        if isinstance(entry, pygit2.Tree):
            _collect_pointers(entry, _join(prefix, name), found)
        elif (data := _pointer_data(entry)) is not None:
            found[_join(prefix, name)] = data


def _compare_trees(
    old: pygit2.Tree | None,
    new: pygit2.Tree | None,
    prefix: str,
    changes: list[tuple[str, bytes | None, bytes | None]],
) -> None:
    old_entries = {entry.name or "": entry for entry in old or ()}
    new_entries = {entry.name or "": entry for entry in new or ()}
    for name in old_entries.keys() | new_entries.keys():
        before, after = old_entries.get(name), new_entries.get(name)
        if before is not None and after is not None and _same(before, after):
            continue
        path = _join(prefix, name)
        if isinstance(before, pygit2.Tree) or isinstance(after, pygit2.Tree):
            _compare_trees(_as_tree(before), _as_tree(after), path, changes)
        old_data, new_data = _pointer_data(before), _pointer_data(after)
        if old_data != new_data:
            changes.append((path, old_data, new_data))


def _same(a: pygit2.Object, b: pygit2.Object) -> bool:
    return a.id == b.id and a.filemode == b.filemode


def _as_tree(entry: pygit2.Object | None) -> pygit2.Tree | None:
    return entry if isinstance(entry, pygit2.Tree) else None


def _pointer_data(entry: pygit2.Object | None) -> bytes | None:
    """The content of a tree entry if it is a pointer file (a regular ``*.ws`` blob)."""
    if isinstance(entry, pygit2.Blob) and _is_pointer(entry.name or "", entry.filemode):
        return entry.data
    return None


def _is_pointer(name: str, mode: int) -> bool:
    return name.endswith(POINTER_SUFFIX) and mode in _REGULAR


def _join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name
