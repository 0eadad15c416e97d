"""Who may do what: the ``Authorizer`` answers checks and makes policy changes.

Checks read an immutable ``PolicyIndex`` of one policy version, never the
database: the version row is polled at most once per ``poll_interval`` (so
daemons sharing a database notice each other's changes), and at once after
this process commits a change of its own. A decision is cached under
``(version, subject, groups, resource, action)``; on a miss, Casbin runs over
an engine holding only the rules that can apply to that subject (cached under
``(version, subject, groups)``). Any change bumps the version, so no cached
decision survives it.

Checks are synchronous and thread-safe: call them from a thread pool (FastAPI
sync dependencies), never on the event loop.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from workspace.db import Database
from workspace.db.queries import policy as q
from workspace.policy import changes, values
from workspace.policy.cache import LRU
from workspace.policy.engine import Engine
from workspace.policy.files import PolicyFiles, default_policy_dir, read_policy_dir
from workspace.policy.index import PolicyIndex
from workspace.policy.rules import Rule

_COMMIT_HOOK = "workspace.policy.commit_hook"
DecisionKey = tuple[int, str, tuple[str, ...], str, str]
EngineKey = tuple[int, str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    rule: str | None
    """The rule that decided, as a ``policy.csv`` line; None when nothing matched (default deny)."""
    via: tuple[str, ...] = ()
    """How the subject came to act as the rule's subject: grants and group memberships."""


class Authorizer:
    """The policy of one database, as seen by this process."""

    def __init__(
        self,
        db: Database,
        policy_dir: Path | None = None,
        *,
        poll_interval: float = 1.0,
        cache_size: int = 65536,
        engine_cache_size: int = 2048,
    ) -> None:
        self.db = db
        self.policy_dir = policy_dir or default_policy_dir()
        self._poll_interval = poll_interval
        self._index = PolicyIndex(-1, None, ())
        self._polled = float("-inf")
        self._requests = itertools.count(1)  # next() is atomic: safe from any thread
        self._wanted = next(self._requests)  # a reload is wanted up to this request...
        self._served = 0  # ...and the index answers requests up to this one
        self._refresh_lock = threading.Lock()
        self._decisions: LRU[DecisionKey, Decision] = LRU(cache_size)
        self._engines: LRU[EngineKey, Engine] = LRU(engine_cache_size)

    # ---- checks (in-memory, thread-safe) ----------------------------------------------

    def check(self, subject: str, groups: Sequence[str], resource: str, action: str) -> Decision:
        """May ``subject`` (a member of ``groups``, e.g. ``group:ml-team``) do ``action``?

        ``resource`` is a dataset name or an admin resource (``admin:users``,
        ``admin:policy``, ``admin:audit``; check those with action ``admin``).
        Raises ``InvalidInput`` for a subject, resource or action that could
        never be in a rule; a group that could not be is ignored (no rule
        names it), so an oddly named Unix group does not lock its members out.
        """
        index = self._current()
        group_key = tuple(sorted(set(groups)))
        key = (index.version, subject, group_key, resource, action)
        decision = self._decisions.get(key)
        if decision is None:
            decision = self._decide(index, subject, group_key, resource, action)
            self._decisions.put(key, decision)
        return decision

    def cached(
        self, subject: str, groups: Sequence[str], resource: str, action: str
    ) -> Decision | None:
        """The decision if it is already known and no poll of the policy is due, else None.

        Never touches the database, so an event loop may call it; on None, call
        ``check`` from a worker thread.
        """
        if not self._fresh():
            return None
        key = (self._index.version, subject, tuple(sorted(set(groups))), resource, action)
        return self._decisions.get(key)

    @property
    def version(self) -> int:
        """Changes whenever the policy does (in any daemon sharing the database)."""
        return self._current().version

    def list_rules(self) -> list[Rule]:
        return list(self._current().rules)

    def roles_of(self, subject: str, groups: Sequence[str] = ()) -> list[Rule]:
        """The direct grants (``g`` rules) of ``subject`` and of its groups."""
        return self._current().grants_of([subject, *groups])

    def holds(self, subject: str, role: str, pattern: str, groups: Sequence[str] = ()) -> bool:
        """Whether ``subject`` holds ``role`` (or a role above it) on everything ``pattern`` names.

        For "a user cannot grant a role they do not hold on that resource".
        """
        values.subject(subject)
        return self._current().holds([subject, *groups], values.role(role), values.pattern(pattern))

    def reload(self) -> None:
        """Read the policy from the database now (normally done lazily by ``check``)."""
        self._wanted = next(self._requests)
        self._current()

    # ---- changes (in the caller's transaction) ----------------------------------------

    def load_defaults_if_empty(self, session: Session) -> bool:
        """On first start, store ``model.conf`` and ``policy.csv`` from ``policy_dir``."""
        _version, model, _at = q.state(session)
        if model is not None:
            return False
        self.apply_files(session, read_policy_dir(self.policy_dir))
        return True

    def apply_files(self, session: Session, files: PolicyFiles) -> list[str]:
        """Store validated policy files; returns the names of the files that changed."""
        changed = changes.apply_files(session, files)
        self._reload_after_commit(session)
        return changed

    def files_newer(self, files: PolicyFiles) -> bool:
        """Whether ``files`` were modified after policy files were last applied (by anyone).

        At start, files edited while no daemon watched them are applied; files
        older than the stored policy (another server's newer edit) are not.
        """
        with self.db.read() as session:
            _version, _model, applied_at = q.state(session)
        return applied_at is None or files.mtime > applied_at.timestamp()

    def grant_role(self, session: Session, subject: str, role: str, pattern: str) -> bool:
        """``subject`` holds ``role`` on ``pattern``; False if it already did."""
        rule = Rule.grant(subject, role, pattern)
        changes.check_grant(session, rule)
        return self._add(session, rule)

    def revoke_role(self, session: Session, subject: str, role: str, pattern: str) -> None:
        """Remove exactly that grant (``NotFound`` if absent; refuses the last admin)."""
        self._remove(session, Rule.grant(subject, role, pattern))

    def add_rule(
        self, session: Session, subject: str, pattern: str, action: str, effect: str = "allow"
    ) -> bool:
        """An allow or deny rule for one subject; action ``*`` means every action."""
        return self._add(session, Rule.permission(subject, pattern, action, effect))

    def remove_rule(
        self, session: Session, subject: str, pattern: str, action: str, effect: str = "allow"
    ) -> None:
        self._remove(session, Rule.permission(subject, pattern, action, effect))

    def admins(self, session: Session) -> list[str]:
        """Subjects granted ``admin`` on ``*`` directly, as this transaction sees them."""
        return list(q.members_with(session, changes.ADMIN_ROLE, changes.EVERYTHING))

    # ---- internals ---------------------------------------------------------------------

    def _add(self, session: Session, rule: Rule) -> bool:
        added = changes.add(session, rule)
        self._reload_after_commit(session)
        return added

    def _remove(self, session: Session, rule: Rule) -> None:
        changes.remove(session, rule)
        self._reload_after_commit(session)

    def _reload_after_commit(self, session: Session) -> None:
        """Make the next check of this process see the change once it is committed."""
        if session.info.get(_COMMIT_HOOK):
            return
        session.info[_COMMIT_HOOK] = True
        event.listen(session, "after_commit", self._after_commit, once=True)
        event.listen(session, "after_rollback", self._after_rollback, once=True)

    def _after_commit(self, session: Session) -> None:
        session.info.pop(_COMMIT_HOOK, None)
        self._wanted = next(self._requests)

    def _after_rollback(self, session: Session) -> None:
        session.info.pop(_COMMIT_HOOK, None)

    def _fresh(self) -> bool:
        return (
            self._served == self._wanted and time.monotonic() - self._polled < self._poll_interval
        )

    def _current(self) -> PolicyIndex:
        return self._index if self._fresh() else self._refresh()

    def _refresh(self) -> PolicyIndex:
        """Poll the version row; reload everything if it moved. One thread at a time."""
        with self._refresh_lock:
            if self._fresh():
                return self._index
            wanted, self._polled = self._wanted, time.monotonic()
            with self.db.read() as session:
                version = q.version(session)
                if version != self._index.version:
                    self._index = _load(session, version)
                    self._decisions.clear()
                    self._engines.clear()
            self._served = wanted
            return self._index

    def _decide(
        self,
        index: PolicyIndex,
        subject: str,
        groups: tuple[str, ...],
        resource: str,
        action: str,
    ) -> Decision:
        values.subject(subject)
        values.resource(resource)
        values.action(action)
        groups = tuple(group for group in groups if values.is_subject(group))
        if index.model is None:
            return Decision(False, None)
        allowed, rule = self._engine(index, subject, groups).enforce(subject, resource, action)
        if not rule:
            return Decision(allowed, None)
        via = index.via(subject, groups, rule[0], resource) if rule[0] != subject else []
        return Decision(allowed, ", ".join(["p", *rule]), tuple(via))

    def _engine(self, index: PolicyIndex, subject: str, groups: tuple[str, ...]) -> Engine:
        key = (index.version, subject, groups)
        engine = self._engines.get(key)
        if engine is None:
            assert index.model is not None
            engine = Engine(index.model, *index.relevant(subject, groups))
            self._engines.put(key, engine)
        return engine


def _load(session: Session, version: int) -> PolicyIndex:
    _version, model, _at = q.state(session)
    rules = [Rule.from_row(row, source) for row, source in q.all_rules(session)]
    return PolicyIndex(version, model, rules)
