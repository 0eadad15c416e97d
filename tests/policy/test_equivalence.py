"""The Authorizer decides exactly as one plain Casbin enforcer holding every rule would.

Its speed comes from indexing rules by subject and handing Casbin only the
rules whose action and pattern match; this compares its answers with
pycasbin's own ``Enforcer`` (the reference, imported here only) over a random
policy.
"""

from __future__ import annotations

import random

import casbin  # type: ignore[import-untyped]
from casbin.util import key_match  # type: ignore[import-untyped]

from workspace.db import Database
from workspace.db.queries import policy as q
from workspace.policy import Authorizer, read_policy_dir

ACTIONS = ("read", "write", "maintain", "admin")


def random_policy(rng: random.Random) -> tuple[list[tuple[str, ...]], dict[str, list[str]]]:
    users = [f"u{i}" for i in range(30)]
    groups = [f"group:g{i}" for i in range(6)]
    spaces = ["a", "b", "c", "a/x"]

    def pattern() -> str:
        return rng.choice(["*", *(f"{s}/*" for s in spaces), "a/1", "b/2", "a/x/3", "a*"])

    roles = ("reader", "writer", "maintainer", "admin")
    rules: dict[tuple[str, ...], None] = {}
    for subject in users + groups:
        rules.setdefault(("g", subject, rng.choice(roles), pattern()))
    for _ in range(300):
        effect = "deny" if rng.random() < 0.4 else "allow"
        action = rng.choice([*ACTIONS, "*"])
        rules.setdefault(("p", rng.choice(users + groups), pattern(), action, effect))
    membership = {u: rng.sample(groups, rng.randint(0, 2)) for u in users}
    return list(rules), membership


def test_decisions_match_a_plain_enforcer_over_all_rules(auth: Authorizer, db: Database) -> None:
    rng = random.Random(20261121)
    rules, membership = random_policy(rng)
    with db.write() as session:
        q.insert_rules(session, [(*r, "", "")[:5] for r in rules], source="api")  # type: ignore[misc]
        q.bump_version(session)
    auth.reload()

    files = read_policy_dir(auth.policy_dir)
    plain = casbin.Enforcer(casbin.Enforcer.new_model(text=files.model), enable_log=False)
    plain.add_named_domain_matching_func("g", key_match)
    every = [(r.ptype, *r.values) for r in auth.list_rules()]
    plain.add_policies([list(r[1:]) for r in every if r[0] == "p"])
    links = [list(r[1:]) for r in every if r[0] == "g"]
    links += [[user, group, "*"] for user, groups in membership.items() for group in groups]
    plain.add_grouping_policies(links)

    resources = ["a/1", "a/2", "a/x/3", "ab/4", "b/2", "b/9", "c/1", "d/1", "admin:users"]
    compared = allowed = 0
    for _ in range(500):
        user = rng.choice(list(membership))
        resource, action = rng.choice(resources), rng.choice(ACTIONS)
        ours = auth.check(user, membership[user], resource, action)
        reference = bool(plain.enforce(user, resource, action))
        assert ours.allowed is reference, (user, membership[user], resource, action, ours)
        compared += 1
        allowed += reference
    assert 0.1 < allowed / compared < 0.9  # both answers were exercised
