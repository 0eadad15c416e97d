"""Aliases against the real daemon: moves with history, resolution everywhere, who may move.

One team per database (SQLite and PostgreSQL): alice is the admin and owns
``vision/cats`` (three versions); bob maintains ``vision/*``, wendy writes,
and rita is a releaser (``promote``, the permission protected aliases need).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest

from tests.support.runtime import Runtime
from tests.support.team import Team, Teams, edit, team

DENIED, NOT_FOUND, CONFLICT = 4, 3, 5
if os.geteuid() != 0:
    pytest.skip("needs root to create separate Unix users", allow_module_level=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def cats(request: pytest.FixtureRequest, runtime: Runtime, teams: Teams) -> Team:
    roles: dict[str, str | None] = {"bob": "maintainer", "wendy": "writer", "rita": "releaser"}
    return teams.get(f"aliases-{request.param}", lambda: team(runtime, request.param, roles),
                     _three_versions)


def _three_versions(made: Team) -> None:
    for number in (2, 3):
        edit(made, "alice", "data/labels.csv", f"cat,{number}\n".encode())
        made.ws("alice", "commit", "data", "-m", f"labels v{number}")


def test_an_alias_moves_and_its_log_says_which_version_it_named_when(cats: Team) -> None:
    cats.ws("alice", "alias", "set", "vision/cats", "staging", "1", "-m", "first candidate")
    moved = cats.ws_json("alice", "alias", "set", "vision/cats", "staging", "vision/cats@3",
                         "-m", "labels fixed")
    assert (moved["from_version"], moved["version"]) == (1, 3)
    log = cats.ws_json("alice", "alias", "log", "vision/cats", "staging")
    first, second = log["moves"][1], log["moves"][0]
    assert (first["from_version"], first["to_version"], first["user"]) == (
        None, 1, cats.people["alice"].name)
    assert (second["from_version"], second["to_version"], second["message"]) == (
        1, 3, "labels fixed")
    set_at = datetime.fromisoformat(first["at"])
    assert _version_at(cats, "staging", set_at) == 1
    assert _version_at(cats, "staging", set_at - timedelta(microseconds=1)) is None
    assert _version_at(cats, "staging", datetime.fromisoformat(second["at"])) == 3
    text = cats.ws("alice", "alias", "log", "vision/cats", "staging", "--at",
                   first["at"]).stdout
    assert "was version 1" in text and "first candidate" in text


def test_dataset_at_alias_resolves_wherever_a_reference_is_accepted(cats: Team) -> None:
    cats.ws("alice", "alias", "set", "vision/cats", "candidate", "2", "-m", "for review")
    listed = cats.ws_json("alice", "ls", "vision/cats@candidate")
    assert listed["version"] == 2
    diff = cats.ws_json("alice", "diff", "vision/cats@candidate", "vision/cats@3")
    assert diff["a"]["version"] == 2 and [m["path"] for m in diff["modified"]] == ["labels.csv"]
    cats.ws("bob", "get", "vision/cats@candidate", "review")
    assert (cats.dirs["bob"] / "review" / "labels.csv").read_text() == "cat,2\n"
    log = cats.ws_json("alice", "log", "vision/cats")
    by_number = {v["number"]: v for v in log["versions"]}
    assert "candidate" in by_number[2]["aliases"] and "candidate" not in by_number[3]["aliases"]
    assert "candidate" in cats.ws_json("alice", "blame", "vision/cats@candidate")["aliases"]
    assert "candidate" in cats.ws("alice", "log", "vision/cats").stdout


def test_a_removed_alias_no_longer_resolves_but_keeps_its_history(cats: Team) -> None:
    cats.ws("alice", "alias", "set", "vision/cats", "old", "1", "-m", "to be dropped")
    cats.ws("alice", "alias", "rm", "vision/cats", "old", "-m", "not needed")
    gone = cats.ws("alice", "ls", "vision/cats@old", check=False)
    assert gone.returncode == NOT_FOUND and "no tag or alias old" in gone.stderr
    log = cats.ws_json("alice", "alias", "log", "vision/cats", "old")
    assert log["version"] is None
    assert [(m["from_version"], m["to_version"]) for m in log["moves"]] == [(1, None), (None, 1)]
    names = [a["name"] for a in cats.ws_json("alice", "alias", "list", "vision/cats")["aliases"]]
    assert "old" not in names


def test_tags_and_aliases_never_share_a_name(cats: Team) -> None:
    cats.ws("alice", "tag", "vision/cats@1", "v1.0")
    clash = cats.ws("alice", "alias", "set", "vision/cats", "v1.0", "2", "-m", "x", check=False)
    assert clash.returncode == CONFLICT and "is a tag" in clash.stderr
    cats.ws("alice", "alias", "set", "vision/cats", "nightly", "3", "-m", "build")
    clash = cats.ws("alice", "tag", "vision/cats@1", "nightly", check=False)
    assert clash.returncode == CONFLICT and "is an alias" in clash.stderr
    number = cats.ws("alice", "alias", "set", "vision/cats", "7", "1", "-m", "x", check=False)
    assert number.returncode == 2 and "plain number" in number.stderr
    assert cats.ws_json("alice", "ls", "vision/cats@v1.0")["version"] == 1


def test_moving_an_alias_needs_maintain_and_a_protected_one_needs_promote(cats: Team) -> None:
    assert _set(cats, "wendy", "wendys") == DENIED  # a writer may not move aliases
    assert _set(cats, "bob", "bobs") == 0  # a maintainer may...
    assert _set(cats, "bob", "production") == DENIED  # ...but not a protected one
    assert _set(cats, "rita", "production") == 0  # a releaser may move production...
    assert _set(cats, "rita", "ritas") == DENIED  # ...and nothing else
    assert _set(cats, "alice", "production") == 0  # admins inherit releaser
    protected = {a["name"]: a["protected"]
                 for a in cats.ws_json("alice", "alias", "list", "vision/cats")["aliases"]}
    assert protected["production"] is True and protected["bobs"] is False
    refused = cats.ws("bob", "alias", "rm", "vision/cats", "production", "-m", "x", check=False)
    assert refused.returncode == DENIED and "promote" in refused.stderr


def test_every_move_is_audited_with_its_reason(cats: Team) -> None:
    cats.ws("bob", "alias", "set", "vision/cats", "audited", "2", "-m", "why not")
    events = cats.ws_json("alice", "audit", "--action", "dataset:alias:set", "--dataset",
                          "vision/cats")["events"]
    mine = [e for e in events if e["detail"]["alias"] == "audited"]
    assert mine and mine[0]["actor"] == cats.people["bob"].name
    assert mine[0]["detail"] == {"alias": "audited", "from": None, "to": 2, "message": "why not"}


def _set(cats: Team, who: str, name: str) -> int:
    proc = cats.ws(who, "alias", "set", "vision/cats", name, "2", "-m", "try", check=False)
    assert "Traceback" not in proc.stderr
    return int(proc.returncode)


def _version_at(cats: Team, name: str, moment: datetime) -> int | None:
    answer = cats.ws_json("alice", "alias", "log", "vision/cats", name, "--at",
                          moment.isoformat())
    version: int | None = answer["at"]["version"]
    return version
