"""Policy changes inside the caller's transaction (services never commit).

Each change first locks the policy state row (on PostgreSQL; SQLite write
transactions are serialized by ``BEGIN IMMEDIATE``), so two admins changing
policy at once take turns and the "last admin" check cannot race with another
revoke; then it bumps the policy version, only if something changes.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from workspace.db.queries import policy as q
from workspace.errors import Conflict, InvalidInput, NotFound
from workspace.policy.files import POLICY_FILE, PolicyFiles
from workspace.policy.rules import Rule

ADMIN_ROLE = "admin"
EVERYTHING = "*"


def known_roles(session: Session) -> set[str]:
    """Roles are what ``policy.csv`` defines.

    That is the subjects of its ``p`` rules and the roles its ``g`` rules name;
    a user granted a role in the file is not a role.
    """
    names = {v1 if ptype == "g" else v0 for ptype, v0, v1, _v2, _v3 in q.file_rules(session)}
    return {name for name in names if not name.startswith("group:")}


def check_grant(session: Session, rule: Rule) -> None:
    roles = known_roles(session)
    subject, role, _pattern = rule.values
    if role not in roles:
        raise NotFound(
            f"there is no role {role!r}",
            hint=f"roles are defined in {POLICY_FILE}: {', '.join(sorted(roles))}",
        )
    if subject in roles:
        raise InvalidInput(
            f"{subject!r} is a role; roles inherit only in {POLICY_FILE}",
            hint=f"edit {POLICY_FILE} in the policy directory",
        )


def add(session: Session, rule: Rule) -> bool:
    """Store the rule; False when it exists already (nothing changes)."""
    q.lock_state(session)
    if q.source_of(session, rule.row) is not None:
        return False
    q.insert_rules(session, [rule.row], source="api")
    q.bump_version(session)
    return True


def remove(session: Session, rule: Rule) -> None:
    """Remove exactly this rule, refusing file rules and the last admin grant."""
    q.lock_state(session)
    source = q.source_of(session, rule.row)
    if source is None:
        raise NotFound(f"no such rule: {rule}", hint="`ws policy list` shows every rule")
    if source == "file":
        raise Conflict(
            f"the rule {rule} comes from {POLICY_FILE}",
            hint=f"remove it from {POLICY_FILE} in the policy directory",
        )
    if _is_admin_grant(rule) and list(q.members_with(session, ADMIN_ROLE, EVERYTHING)) == [
        rule.subject
    ]:
        raise Conflict(
            f"{rule.subject} is the last admin", hint="grant admin on '*' to someone else first"
        )
    if q.delete_rule(session, rule.row) != 1:
        raise Conflict(f"the rule {rule} changed meanwhile", hint="try again")
    q.bump_version(session)


def apply_files(session: Session, files: PolicyFiles) -> list[str]:
    """Make the stored model and file rules those of ``files``; the names of changed files."""
    q.lock_state(session)
    _version, model, _at = q.state(session)
    changed: list[str] = []
    if files.model != model:
        q.set_model(session, files.model)
        changed.append("model.conf")
    if _sync_file_rules(session, [rule.row for rule in files.rules]):
        changed.append(POLICY_FILE)
    q.mark_files_applied(session)
    if changed:
        q.bump_version(session)
    return changed


def _sync_file_rules(session: Session, ordered: list[q.RuleRow]) -> bool:
    current, wanted = q.file_rules(session), set(ordered)
    if current == wanted:
        return False
    admins_before = q.members_with(session, ADMIN_ROLE, EVERYTHING)
    for row in current - wanted:
        q.delete_rule(session, row)
    for row in wanted - current:
        q.delete_rule(session, row)  # the file takes over a rule that was made by the API
    q.insert_rules(session, [row for row in ordered if row not in current], source="file")
    if admins_before and not q.members_with(session, ADMIN_ROLE, EVERYTHING):
        raise InvalidInput(
            f"{POLICY_FILE} would remove the last admin",
            hint="keep at least one 'admin' grant on '*'",
        )
    return True


def _is_admin_grant(rule: Rule) -> bool:
    return rule.ptype == "g" and rule.values[1:] == (ADMIN_ROLE, EVERYTHING)
