"""Authorization decision time: workspace's Authorizer vs a plain ``casbin.Enforcer``.

Both get the same model (``policies/model.conf``) and the same 10,000 rules
(the default roles, 1,000 users with grants and allow/deny rules of their own,
50 Unix groups with grants and rules), and answer the same requests, in the
same run. Unix group membership, which the Authorizer takes per request, is
given to the plain enforcer as ``g, user, group, *`` links. Every decision of
the two is compared; any disagreement is printed and fails the run.

Three request streams:

- ``cold``: every request distinct and each user's first request included
  (decision cache never hits; per-user engines are built on the way);
- ``distinct``: new (user, resource, action) triples once engines are warm;
- ``mixed``: a skewed stream from a working set, as a busy daemon sees
  (a user reading many files of the same few datasets).

Run by hand: ``python bench/bench_policy.py`` (``--plain-requests`` bounds the
slow side; ``--json`` for machine-readable output). Targets: median < 0.5 ms,
p99 < 2 ms for the Authorizer.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import casbin  # type: ignore[import-untyped]
from casbin.util import key_match  # type: ignore[import-untyped]

from workspace.db import Database, migrate
from workspace.db.queries import policy as q
from workspace.policy import Authorizer, read_policy_dir

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
ROLES = ("reader", "writer", "maintainer")
ACTIONS = ("read", "write", "maintain", "admin")
Request = tuple[str, tuple[str, ...], str, str]


def build_world(
    rng: random.Random, rules: int, users: int, groups: int, defaults: Sequence[tuple[str, ...]]
) -> tuple[list[tuple[str, ...]], dict[str, tuple[str, ...]], list[str]]:
    """``(rules, groups of each user, dataset names)``: rules as (ptype, values...)."""
    spaces = [f"ns-{i:02d}" for i in range(100)]
    datasets = [f"{ns}/ds-{j:03d}" for ns in spaces for j in range(50)]
    names = [f"user{i:04d}" for i in range(users)]
    group_names = [f"group:team-{i:02d}" for i in range(groups)]
    membership = {u: tuple(sorted(rng.sample(group_names, rng.randint(1, 3)))) for u in names}
    found: dict[tuple[str, ...], None] = dict.fromkeys(defaults)

    def pattern() -> str:
        return rng.choice([f"{rng.choice(spaces)}/*", rng.choice(datasets)])

    for subject in [*names, *group_names]:
        for _ in range(2):
            found.setdefault(("g", subject, rng.choice(ROLES), pattern()))
    while len(found) < rules:
        subject = rng.choice([*names, *names, *group_names])
        effect = "deny" if rng.random() < 0.3 else "allow"
        found.setdefault(("p", subject, pattern(), rng.choice(ACTIONS[:3]), effect))
    return list(found), membership, datasets


def requests(
    rng: random.Random,
    count: int,
    membership: dict[str, tuple[str, ...]],
    datasets: Sequence[str],
    rules: Sequence[tuple[str, ...]],
) -> list[Request]:
    """Half the requests aim at a dataset one of the user's grants covers, half anywhere."""
    granted: dict[str, list[str]] = {}
    for rule in rules:
        if rule[0] == "g":
            granted.setdefault(rule[1], []).append(rule[3])
    users = list(membership)
    out = []
    for _ in range(count):
        user = rng.choice(users)
        patterns = [p for s in (user, *membership[user]) for p in granted.get(s, [])]
        name = rng.choice(datasets)
        if patterns and rng.random() < 0.5:
            name = _inside(rng, rng.choice(patterns), datasets)
        out.append((user, membership[user], name, rng.choice(ACTIONS)))
    return out


def _inside(rng: random.Random, pattern: str, datasets: Sequence[str]) -> str:
    if not pattern.endswith("*"):
        return pattern
    return f"{pattern[:-1]}ds-{rng.randrange(50):03d}"


def mixed(rng: random.Random, count: int, pool: Sequence[Request]) -> list[Request]:
    """A skewed stream: most requests repeat a small working set (Pareto-distributed)."""
    return [pool[min(int(rng.paretovariate(1.2)) - 1, len(pool) - 1)] for _ in range(count)]


def plain_enforcer(
    model: str, rules: Sequence[tuple[str, ...]], membership: dict[str, tuple[str, ...]]
) -> casbin.Enforcer:
    enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=model), enable_log=False)
    enforcer.add_named_domain_matching_func("g", key_match)
    enforcer.add_policies([list(r[1:]) for r in rules if r[0] == "p"])
    links = [list(r[1:]) for r in rules if r[0] == "g"]
    links += [[user, group, "*"] for user, groups in membership.items() for group in groups]
    enforcer.add_grouping_policies(links)
    return enforcer


def authorizer(directory: Path, rules: Sequence[tuple[str, ...]]) -> Authorizer:
    url = f"sqlite:///{directory / 'bench.db'}"
    migrate(url)
    db = Database(url)
    auth = Authorizer(db, POLICIES)
    with db.write() as session:
        auth.load_defaults_if_empty(session)
        existing = {row for row, _source in q.all_rules(session)}
        rows = [(r[0], *r[1:], "", "")[:5] for r in rules]
        q.insert_rules(session, [r for r in rows if r not in existing], source="api")  # type: ignore[misc]
        q.bump_version(session)
    auth.reload()
    return auth


Timing = tuple[list[float], list[float], list[bool]]


def timed(decide: Callable[[Request], bool], stream: Sequence[Request]) -> Timing:
    """Wall-clock and thread CPU milliseconds per decision, and the decisions.

    CPU time is printed too because on a busy 2-core machine the wall-clock
    tail mostly measures time spent descheduled, not time spent deciding.
    """
    wall, cpu, answers = [], [], []
    for request in stream:
        start, start_cpu = time.perf_counter(), time.thread_time()
        answers.append(decide(request))
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    return wall, cpu, answers


def summary(timing: Timing) -> dict[str, float]:
    wall, cpu, answers = timing
    return {
        "n": len(wall),
        "median_ms": statistics.median(wall),
        "p99_ms": _p99(wall),
        "mean_ms": statistics.fmean(wall),
        "cpu_median_ms": statistics.median(cpu),
        "cpu_p99_ms": _p99(cpu),
        "allowed_share": sum(answers) / max(1, len(answers)),
    }


def _p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--plain-requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    files = read_policy_dir(POLICIES)
    defaults = [(r.ptype, *r.values) for r in files.rules]
    rules, membership, datasets = build_world(rng, args.rules, args.users, args.groups, defaults)
    print(f"{len(rules)} rules, {len(membership)} users, {args.groups} groups", file=sys.stderr)

    with tempfile.TemporaryDirectory() as scratch:
        auth = authorizer(Path(scratch), rules)

        def ours(r: Request) -> bool:
            return auth.check(*r).allowed

        plain = plain_enforcer(files.model, rules, membership)

        def theirs(r: Request) -> bool:
            return bool(plain.enforce_ex(r[0], r[2], r[3])[0])

        cold = requests(rng, args.requests, membership, datasets, rules)
        distinct = requests(rng, args.requests, membership, datasets, rules)
        pool = requests(rng, 5000, membership, datasets, rules)
        stream = mixed(rng, args.requests * 5, pool)
        results = {
            "cold": timed(ours, cold),
            "distinct": timed(ours, distinct),
            "mixed": timed(ours, stream),
        }
        sample = rng.sample(cold, min(args.plain_requests, len(cold)))
        plain_timing = timed(theirs, sample)
        plain_warm = timed(theirs, sample)  # role graphs of these resources now cached
        lookup = dict(zip(cold, results["cold"][2], strict=True))
        disagree = [r for r, a in zip(sample, plain_timing[2], strict=True) if lookup[r] != a]
        auth.db.dispose()

    report = {
        "rules": len(rules),
        "users": len(membership),
        "load_average": os.getloadavg()[0],
        "plain": summary(plain_timing),
        "plain_warm": summary(plain_warm),
        **{name: summary(t) for name, t in results.items()},
        "disagreements": len(disagree),
    }
    print(json.dumps(report, indent=2) if args.json else render(report))
    for request in disagree[:10]:
        print(f"DISAGREE: {request}", file=sys.stderr)
    return 1 if disagree else 0


def render(report: dict[str, object]) -> str:
    plain, warm = report["plain"], report["plain_warm"]
    assert isinstance(plain, dict) and isinstance(warm, dict)
    lines = [
        f"{report['rules']} rules, {report['users']} users; load average "
        f"{report['load_average']:.1f} on {os.cpu_count()} CPUs; "
        f"decisions compared with plain casbin: {report['disagreements']} disagreements",
        f"{'(ms)':<31}{'median':>9}{'p99':>9}{'mean':>9}{'cpu p99':>9}{'allowed':>8}"
        f"{'median x':>10}{'p99 x':>9}{'median xw':>11}",
        _row(f"plain casbin.Enforcer n={plain['n']}", plain, None, None),
        _row("plain, role graphs cached", warm, None, None),
    ]
    for name in ("cold", "distinct", "mixed"):
        stats = report[name]
        assert isinstance(stats, dict)
        lines.append(_row(f"Authorizer {name} n={stats['n']}", stats, plain, warm))
    lines += [
        "x = plain time / this time; xw = plain with cached role graphs / this time",
        "targets for the Authorizer: median < 0.5 ms, p99 < 2 ms",
    ]
    return "\n".join(lines)


def _row(
    label: str,
    stats: dict[str, float],
    plain: dict[str, float] | None,
    warm: dict[str, float] | None,
) -> str:
    line = (
        f"{label:<31}{stats['median_ms']:>9.3f}{stats['p99_ms']:>9.3f}"
        f"{stats['mean_ms']:>9.3f}{stats['cpu_p99_ms']:>9.3f}"
        f"{stats['allowed_share']:>8.0%}"
    )
    if plain is None or warm is None:
        return line
    return (
        f"{line}{plain['median_ms'] / stats['median_ms']:>10.0f}"
        f"{plain['p99_ms'] / stats['p99_ms']:>9.0f}"
        f"{warm['median_ms'] / stats['median_ms']:>11.0f}"
    )


if __name__ == "__main__":
    sys.exit(main())
