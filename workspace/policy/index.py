"""An immutable, indexed view of every rule at one policy version.

Rules are indexed by subject so that a request only ever meets the rules that
can apply to it: the subject's own, its groups', and those of every role it
can reach through grants (ignoring patterns, which Casbin then checks). That
set is small even when the whole policy has tens of thousands of rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from workspace.policy.rules import Rule
from workspace.policy.values import covers, matches

MEMBERSHIP_PATTERN = "*"
"""A Unix group membership holds on every resource."""


class PolicyIndex:
    """The rules of one version, with the lookups checks need; never changed once built."""

    def __init__(self, version: int, model: str | None, rules: Iterable[Rule]) -> None:
        self.version = version
        self.model = model
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.p_by_subject: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        self.g_by_member: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for rule in self.rules:
            target = self.p_by_subject if rule.ptype == "p" else self.g_by_member
            target[rule.subject].append(rule.values)

    def reachable(self, subjects: Iterable[str]) -> set[str]:
        """Every name the subjects can act as, through grants on any pattern."""
        seen: set[str] = set()
        todo = list(subjects)
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(link[1] for link in self.g_by_member.get(name, ()))
        return seen

    def relevant(
        self, subject: str, groups: Sequence[str]
    ) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
        """The ``p`` and ``g`` rules a request by ``subject`` (in ``groups``) can meet.

        Group membership becomes ``g, subject, group, *`` so one Casbin call
        weighs the user's and the groups' rules together (a group's deny wins
        over the user's allow).
        """
        names = self.reachable([subject, *groups])
        p_rules = [rule for name in names for rule in self.p_by_subject.get(name, ())]
        g_rules = [link for name in names for link in self.g_by_member.get(name, ())]
        g_rules += [(subject, group, MEMBERSHIP_PATTERN) for group in groups if group != subject]
        return p_rules, g_rules

    def grants_of(self, subjects: Iterable[str]) -> list[Rule]:
        """Direct grants of the subjects (not what they inherit)."""
        wanted = set(subjects)
        return [r for r in self.rules if r.ptype == "g" and r.subject in wanted]

    def holds(self, subjects: Sequence[str], role: str, pattern: str) -> bool:
        """Whether the subjects hold ``role`` (directly or by inheritance) on all of ``pattern``.

        Each link on the way must cover the whole pattern: writer on
        ``vision/*`` holds reader on ``vision/cats`` but not on ``*``.
        """
        seen: set[str] = set()
        todo = list(subjects)
        while todo:
            name = todo.pop()
            if name == role:
                return True
            if name in seen:
                continue
            seen.add(name)
            todo.extend(
                link[1] for link in self.g_by_member.get(name, ()) if covers(link[2], pattern)
            )
        return False

    def via(self, subject: str, groups: Sequence[str], target: str, resource: str) -> list[str]:
        """The chain of links by which ``subject`` acts as ``target`` on ``resource``."""
        parent: dict[str, tuple[str, str]] = {subject: ("", "")}
        for group in groups:
            parent.setdefault(group, (subject, f"{subject} is in Unix group {group}"))
        todo = [subject, *groups]
        while todo and target not in parent:
            name = todo.pop(0)
            for link in self.g_by_member.get(name, ()):
                if link[1] not in parent and matches(resource, link[2]):
                    parent[link[1]] = (name, "g, " + ", ".join(link))
                    todo.append(link[1])
        return _walk_back(parent, target)


def _walk_back(parent: dict[str, tuple[str, str]], target: str) -> list[str]:
    chain: list[str] = []
    name = target
    while name in parent and parent[name][0]:
        name, line = parent[name]
        chain.append(line)
    return chain[::-1]
