"""A daemon shared by a test module, with a team of real Unix users holding roles.

alice runs the daemon (so she is its first admin) and owns ``vision/cats``,
created from her workspace; every other member is a separate uid with the
role given on ``vision/*`` and a registered workspace of their own. One team
per database kind, so the tables of a feature are exercised on SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.daemon import Daemon, give
from tests.support.databases import database
from tests.support.runtime import Identity, Runtime


@dataclass
class Team:
    daemon: Daemon
    people: dict[str, Identity]
    dirs: dict[str, Path]

    def ws(self, who: str, *args: str, check: bool = True) -> Any:
        return self.daemon.ws(*args, cwd=self.dirs[who], user=self.people[who], check=check)

    def ws_json(self, who: str, *args: str) -> Any:
        return self.daemon.ws_json(*args, cwd=self.dirs[who], user=self.people[who])


@contextmanager
def team(runtime: Runtime, kind: str, roles: dict[str, str | None],
         env: dict[str, str] | None = None) -> Iterator[Team]:
    """alice (admin) and ``roles`` (name -> role on ``vision/*``, or None for no role)."""
    alice = runtime.user("alice")
    with database(kind, runtime.make_dir(alice, "db")) as url:
        home = runtime.make_dir(alice, "home")
        daemon = Daemon(runtime, alice, home, url, extra_env=dict(env or {}),
                        socket_dir=runtime.make_dir(alice, "sock")).start()
        try:
            yield _seeded(runtime, daemon, alice, roles)
        finally:
            daemon.stop()


@dataclass
class Teams:
    """Teams kept for the whole session, each built once however pytest-xdist orders tests.

    A module-scoped, parametrized fixture is torn down whenever the next test a
    worker runs has another parameter, and xdist does not keep a module's tests
    of one parameter together: each team (a daemon, users, data: seconds of CLI
    calls) was built several times. Here the first test that needs one builds it.
    """

    stack: ExitStack = field(default_factory=ExitStack)
    built: dict[str, Team] = field(default_factory=dict)

    def get(self, key: str, make: Callable[[], AbstractContextManager[Team]],
            prepare: Callable[[Team], None] = lambda made: None) -> Team:
        if key not in self.built:
            made = self.stack.enter_context(make())
            prepare(made)
            self.built[key] = made
        return self.built[key]


def _seeded(runtime: Runtime, daemon: Daemon, alice: Identity,
            roles: dict[str, str | None]) -> Team:
    people = {"alice": alice, **{name: runtime.user(name) for name in roles}}
    dirs = {name: _workspace(runtime, who) for name, who in people.items()}
    data = dirs["alice"] / "data"
    data.mkdir()
    (data / "labels.csv").write_text("cat,1\n")
    (data / "model.bin").write_bytes(b"\x00weights-1")
    give(data, alice)
    made = Team(daemon, people, dirs)
    made.ws("alice", "init")
    made.ws("alice", "add", "data", "-d", "vision/cats", "-m", "first cut")
    for name, role in roles.items():
        made.ws("alice", "user", "add", people[name].name)
        if role is not None:
            made.ws("alice", "role", "grant", people[name].name, role, "vision/*")
        made.ws(name, "init")
    return made


def _workspace(runtime: Runtime, who: Identity) -> Path:
    path = runtime.make_dir(who, f"ws-{who.name}")
    path.chmod(0o777)  # a single-user daemon (alice's uid) must reach every member's files
    return path


def edit(team_: Team, who: str, relpath: str, content: bytes) -> None:
    """Make ``relpath`` of ``who``'s workspace editable (`ws unlock`) and rewrite it."""
    team_.ws(who, "unlock", relpath)
    path = team_.dirs[who] / relpath
    path.write_bytes(content)
    give(path, team_.people[who])
