"""Configuring remotes (admin): add, list, remove; each change is audited here.

Adding a remote checks that its storage answers (a listing of its root) before
anything is recorded, so a typo in a bucket name or a missing credential is
found at once rather than at the first push.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.db import Database
from workspace.db.models_remote import Remote
from workspace.db.queries import remotes as rq
from workspace.errors import Conflict, InvalidInput, NotFound
from workspace.remotes.backend import Backend, RemoteOptions, open_backend
from workspace.remotes.url import parse_url

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


@dataclass(frozen=True, slots=True)
class RemoteInfo:
    name: str
    url: str
    default: bool
    created_at: datetime


def info(remote: Remote) -> RemoteInfo:
    return RemoteInfo(remote.name, remote.url, remote.is_default, remote.created_at)


def add(db: Database, caller: Caller, options: RemoteOptions, *, name: str, url: str,
        default: bool) -> RemoteInfo:
    if not _NAME.fullmatch(name):
        raise InvalidInput(f"{name!r} is not a valid remote name",
                           hint="lower-case letters, digits, '.', '_', '-', e.g. backup")
    parsed = parse_url(url)
    _probe(open_backend(parsed, options))
    with db.write() as session:
        if rq.by_name(session, name) is not None:
            raise Conflict(f"remote {name} already exists",
                           hint=f"`ws remote rm {name}` first to change its URL")
        first = not rq.all_remotes(session)
        remote = rq.add(session, name=name, url=parsed.text, user_id=caller.user_id,
                        is_default=default or first)
        record(session, actor=caller.name, action=Action.REMOTE_CONFIG_ADD,
               detail={"remote": name, "url": parsed.text, "default": remote.is_default})
        return info(remote)


def remove(db: Database, caller: Caller, name: str) -> RemoteInfo:
    with db.write() as session:
        remote = require(session, name)
        gone = info(remote)
        rq.remove(session, remote)
        record(session, actor=caller.name, action=Action.REMOTE_CONFIG_REMOVE,
               detail={"remote": name, "url": gone.url})
        return gone


def listing(db: Database) -> list[RemoteInfo]:
    with db.read() as session:
        return [info(r) for r in rq.all_remotes(session)]


def require(session: Session, name: str | None) -> Remote:
    """The remote called ``name``, or the default one when ``name`` is None."""
    remote = rq.by_name(session, name) if name else rq.default(session)
    if remote is None:
        if name:
            raise NotFound(f"there is no remote {name}", hint="`ws remote list` shows them")
        raise NotFound("no remote is configured as the default",
                       hint="pass --remote NAME, or ask an admin to "
                       "`ws remote add NAME URL --default`")
    return remote


def _probe(backend: Backend) -> None:
    """One listing of the root: the storage exists and the credentials are accepted."""
    next(iter(backend.list("workspace-remote")), None)
