"""Start-up of access control: the policy engine, the first admin, JWT keys, policy-file watching.

The first admin is the Unix user who starts the daemon in single-user mode,
or the user named by ``--admin`` (setting ``admin``) for a service install.
While no subject holds ``admin`` on ``*``, the daemon grants it to that user;
a service daemon with no admin and no ``--admin`` refuses to start, because
nobody could ever manage it.
"""

from __future__ import annotations

import logging
import os
import pwd
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy.orm import Session

from workspace.api.access import Access
from workspace.audit import Action, record
from workspace.audit.aggregate import Tally
from workspace.auth import bootstrap_admin, passwords, secret_file, tokens
from workspace.auth.identity import Caller
from workspace.config import Settings
from workspace.db import Database
from workspace.db.queries import users
from workspace.errors import InvalidInput
from workspace.policy import ADMIN_ROLE, Authorizer, audited
from workspace.watch.policy_files import PolicyFileEvent, PolicyFileWatcher

log = logging.getLogger("workspace.daemon")
EVERYTHING = "*"


@contextmanager
def open_access(settings: Settings, db: Database) -> Iterator[Access]:
    authorizer = Authorizer(db, settings.policy_dir)
    with db.write() as session:
        if authorizer.load_defaults_if_empty(session):
            log.info("policy initialised from %s", authorizer.policy_dir)
        admin = _first_admin(session, settings, authorizer)
    log.info("admin: %s", admin)
    keys = tokens.JwtKeys(secret_file.load_or_create(settings.home / secret_file.FILE_NAME))
    access = Access(authorizer=authorizer, keys=keys, hasher=passwords.PasswordHasher(),
                    refusals=Tally(timedelta(seconds=settings.audit_refusal_window)),
                    protected_aliases=tuple(settings.protected_aliases))
    watcher = _watch_policy_files(settings, db, authorizer)
    try:
        yield access
    finally:
        if watcher is not None:
            watcher.stop()


def _first_admin(session: Session, settings: Settings, authorizer: Authorizer) -> str:
    existing = authorizer.admins(session)
    if existing and settings.admin is None:
        return ", ".join(existing)
    caller = _admin_account(session, settings)
    if caller.name not in existing:
        audited.grant_role(session, authorizer, actor=caller.name, subject=caller.name,
                           role=ADMIN_ROLE, pattern=EVERYTHING, reason="first admin")
    return caller.name


def _admin_account(session: Session, settings: Settings) -> Caller:
    if settings.admin is None:
        if settings.mode == "service":
            raise InvalidInput(
                "a service daemon needs a first admin and none exists yet",
                hint="start it once with `ws serve --admin NAME` (a Unix user of this server)")
        return bootstrap_admin(session, os.geteuid())
    try:
        uid = pwd.getpwnam(settings.admin).pw_uid
    except KeyError:
        raise InvalidInput(f"--admin {settings.admin}: there is no such Unix user",
                           hint="name an existing Unix account") from None
    user = users.by_name(session, settings.admin) or users.create(
        session, name=settings.admin, uid=uid)
    return Caller(user.id, user.name, user.uid)


def _watch_policy_files(settings: Settings, db: Database,
                        authorizer: Authorizer) -> PolicyFileWatcher | None:
    """Edits of the policy files take effect, audited with the file owner as the actor."""
    def on_change(session: Session, event: PolicyFileEvent) -> None:
        record(session, actor=_owner(event.owner_uid), action=Action.POLICY_FILE_RELOAD,
               detail={"file": str(event.path), "message": event.message})

    def on_reject(event: PolicyFileEvent) -> None:
        with db.write() as session:
            record(session, actor=_owner(event.owner_uid), action=Action.POLICY_FILE_REJECT,
                   detail={"file": str(event.path), "message": event.message})

    try:
        watcher = PolicyFileWatcher(authorizer.policy_dir, authorizer, on_change,
                                    on_reject=on_reject)
        watcher.reconcile(only_if_newer=True)
        watcher.start()
    except OSError as exc:
        log.warning("not watching policy files in %s: %s", authorizer.policy_dir, exc)
        return None
    return watcher


def _owner(uid: int | None) -> str:
    if uid is None:
        return "unknown"
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid-{uid}"
