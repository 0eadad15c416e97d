"""Local versions as remote records, and the one rule for comparing histories.

Histories are linear and versions are write-once on both sides, so two
histories agree up to N exactly when their version N is the same version
(same number, author, time, message and manifest digest): a server that made
its own version K < N would have a different version N too. So comparing the
highest version both sides have is enough to tell "one is ahead of the other"
from "they diverged".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from workspace.datasets import versions
from workspace.db.models import Dataset, Version
from workspace.db.queries import datasets as dq
from workspace.errors import Conflict
from workspace.remotes.layout import VersionRecord


def identity(version: Version, author: str) -> tuple[Any, ...]:
    """The same tuple as ``VersionRecord.identity`` for a local version."""
    return (version.number, author, version.created_at.isoformat(), version.message,
            version.digest)


def record_of(session: Session, dataset: Dataset, version: Version, author: str) -> VersionRecord:
    manifest = versions.manifest_at(session, dataset.id, version.number)
    git = None
    if version.git_commit is not None:
        git = {"commit": version.git_commit, "branch": version.git_branch,
               "dirty": version.git_dirty}
    return VersionRecord(dataset.name, dataset.kind, version.number, author, version.created_at,
                         version.message, version.digest, git,
                         tuple(manifest[path] for path in sorted(manifest)))


def local_identities(session: Session, dataset: Dataset) -> dict[int, tuple[Any, ...]]:
    found = dq.versions(session, dataset.id)
    names = dq.user_names(session, [v.author_id for v in found])
    return {v.number: identity(v, names.get(v.author_id, "?")) for v in found}


def diverged(dataset: str, number: int, remote_url: str) -> Conflict:
    return Conflict(
        f"{dataset}@{number} here and on {remote_url} are different versions: the two "
        "histories diverged (both servers committed after they last agreed)",
        hint="nothing was changed; keep one history: pull into a fresh server, or push "
        "this dataset under another name (`ws add` of a checkout)",
        details={"dataset": dataset, "version": number, "remote": remote_url})
