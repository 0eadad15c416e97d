"""`ws user`, `ws role`, `ws policy` and `ws token`: what they send, and what users see."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli import answers as a
from tests.cli.access_harness import run_ws
from tests.cli.cli_harness import FakeDaemon, Run
from workspace.cli.commands_access import rule_columns
from workspace.cli.commands_users import parse_days
from workspace.errors import InvalidInput

SECRET = "ws_t1_0123456789abcdef-secret"


@pytest.fixture
def ws(fake: FakeDaemon, tmp_path: Path) -> Any:
    """The real CLI on the fake daemon's socket; ``stdin`` is piped in."""
    env = {"WORKSPACE_SOCKET": str(fake.socket), "XDG_CONFIG_HOME": str(tmp_path / "config")}

    def run(*args: str, stdin: str = "") -> Run:
        return run_ws(*args, cwd=tmp_path, env=env, stdin=stdin)

    return run


# --- users --------------------------------------------------------------------------------------


def test_user_add_robot_sends_the_flag_and_says_how_to_give_it_a_token(
    ws: Any, fake: FakeDaemon
) -> None:
    fake.reply("POST", "/v1/users", {"user": a.user("ci-bot", robot=True)}, 201)
    run = ws("user", "add", "ci-bot", "--robot")
    assert run.code == 0, run.err
    assert fake.sent("/v1/users")[0].body == {"name": "ci-bot", "robot": True}
    assert "ws token create ci-bot" in run.out


def test_user_add_person_shows_the_unix_uid(ws: Any, fake: FakeDaemon) -> None:
    fake.reply("POST", "/v1/users", {"user": a.user("alice", uid=1001)}, 201)
    run = ws("user", "add", "alice")
    assert fake.sent("/v1/users")[0].body == {"name": "alice", "robot": False}
    assert run.out.strip() == "added user alice (Unix uid 1001)"


def test_user_list_shows_kind_and_state_or_json(ws: Any, fake: FakeDaemon) -> None:
    users = [a.user("alice", uid=1001), a.user("ci-bot", robot=True, disabled=True)]
    fake.reply("GET", "/v1/users", {"users": users})
    lines = ws("user", "list").out.splitlines()
    assert lines[1].split()[:4] == ["alice", "person", "1001", "active"]
    assert lines[2].split()[:3] == ["ci-bot", "robot", "disabled"]  # no uid: an empty cell
    assert json.loads(ws("user", "list", "--json").out) == {"users": users}


@pytest.mark.parametrize("verb", ["disable", "enable"])
def test_user_disable_and_enable(ws: Any, fake: FakeDaemon, verb: str) -> None:
    fake.reply("POST", f"/v1/users/{verb}", {"user": a.user("bob", uid=1002)})
    run = ws("user", verb, "bob")
    assert run.code == 0
    assert fake.sent(f"/v1/users/{verb}")[0].body == {"name": "bob"}
    assert run.out.strip() == f"{verb}d user bob"


def test_user_passwd_defaults_to_you_and_sends_the_password_typed_twice(
    ws: Any, fake: FakeDaemon
) -> None:
    fake.reply("GET", "/v1/health", a.health("alice"))
    fake.reply("POST", "/v1/users/password", {"user": "alice", "password": "set"})
    run = ws("user", "passwd", stdin="correct horse battery\ncorrect horse battery\n")
    assert run.code == 0, run.err
    body = fake.sent("/v1/users/password")[0].body
    assert body == {"name": "alice", "password": "correct horse battery"}
    assert "correct horse" not in run.out + run.err
    assert run.out.strip() == "password set for alice"


def test_user_passwd_refuses_two_different_passwords(ws: Any, fake: FakeDaemon) -> None:
    run = ws("user", "passwd", "bob", stdin="correct horse battery\ncorrect horse batterie\n")
    assert run.code == 2
    assert "the two passwords differ" in run.err
    assert fake.requests == []  # NAME given: not even /v1/health


def test_user_passwd_without_input_says_how_to_give_it(ws: Any, fake: FakeDaemon) -> None:
    run = ws("user", "passwd", "bob")
    assert run.code == 2
    assert "no password on standard input" in run.err
    assert fake.sent("/v1/users/password") == []


# --- roles and policy ---------------------------------------------------------------------------


@pytest.mark.parametrize("verb", ["grant", "revoke"])
def test_role_grant_and_revoke_send_the_three_words(ws: Any, fake: FakeDaemon, verb: str) -> None:
    answer = (a.role_granted if verb == "grant" else a.role_revoked)(
        "group:ml-team", "writer", "vision/*")
    fake.reply("POST", f"/v1/roles/{verb}", answer)
    run = ws("role", verb, "group:ml-team", "writer", "vision/*")
    assert run.code == 0, run.err
    body = {"subject": "group:ml-team", "role": "writer", "pattern": "vision/*"}
    assert fake.sent(f"/v1/roles/{verb}")[0].body == body
    assert "writer on 'vision/*'" in run.out


def test_role_grant_says_when_nothing_changed(ws: Any, fake: FakeDaemon) -> None:
    fake.reply("POST", "/v1/roles/grant", a.role_granted("alice", "reader", "*", added=False))
    assert "alice already holds reader on '*'" in ws("role", "grant", "alice", "reader", "*").out


def test_role_list_filters_by_subject(ws: Any, fake: FakeDaemon) -> None:
    fake.reply("GET", "/v1/roles", {"assignments": [a.assignment("alice", "writer", "vision/*")]})
    run = ws("role", "list", "alice")
    assert fake.sent("/v1/roles")[0].query == {"subject": "alice"}
    assert run.out.splitlines()[1].split() == ["alice", "writer", "vision/*", "api"]
    ws("role", "list")
    assert fake.sent("/v1/roles")[1].query == {}


def test_policy_list_shows_both_kinds_of_rules(ws: Any, fake: FakeDaemon) -> None:
    rules = [a.rule_p("writer", "*", "write"), a.rule_g("alice", "writer", "vision/*")]
    fake.reply("GET", "/v1/policy", {"rules": rules})
    lines = ws("policy", "list").out.splitlines()
    assert lines[0].split() == ["Kind", "Subject", "Role", "Pattern", "Action", "Effect", "Source"]
    assert lines[1].split() == ["p", "writer", "*", "write", "allow", "policy.csv"]
    assert lines[2].split() == ["g", "alice", "writer", "vision/*", "api"]


def test_policy_check_answers_and_exits_0_either_way(ws: Any, fake: FakeDaemon) -> None:
    rule = "p, group:interns, vision/*, write, deny"
    fake.reply("GET", "/v1/policy/check",
               a.check("bob", "vision/cats", "write", allowed=False, rule=rule))
    run = ws("policy", "check", "bob", "vision/cats", "write")
    assert run.code == 0
    assert run.out.splitlines() == ["denied", f"rule: {rule}"]
    query = {"subject": "bob", "resource": "vision/cats", "action": "write"}
    assert fake.sent("/v1/policy/check")[0].query == query


def test_policy_check_exit_code_makes_a_denial_exit_4(ws: Any, fake: FakeDaemon) -> None:
    fake.reply("GET", "/v1/policy/check",
               a.check("bob", "vision/cats", "write", allowed=False, rule=None))
    run = ws("policy", "check", "bob", "vision/cats", "write", "--exit-code")
    assert run.code == 4
    assert run.out.splitlines() == ["denied", "rule: none matches (denied by default)"]
    assert ws("policy", "check", "bob", "a", "read", "--exit-code", "--json").code == 4
    fake.reply("GET", "/v1/policy/check", a.check("bob", "vision/cats", "read", allowed=True,
                                                  rule="p, reader, *, read, allow"))
    allowed = ws("policy", "check", "bob", "vision/cats", "read", "--exit-code")
    assert (allowed.code, allowed.out.splitlines()[0]) == (0, "allowed")


# --- API tokens ---------------------------------------------------------------------------------


def test_token_create_shows_the_token_once_with_a_warning(ws: Any, fake: FakeDaemon) -> None:
    answer = a.token_created("ci", SECRET, expires_at="2027-02-19T10:00:00+00:00")
    fake.reply("POST", "/v1/tokens", answer, 201)
    run = ws("token", "create", "ci", "--name", "nightly", "--expires", "90d")
    assert run.code == 0, run.err
    assert fake.sent("/v1/tokens")[0].body == {"user": "ci", "name": "nightly", "expires_days": 90}
    assert (run.out + run.err).count(SECRET) == 1
    assert SECRET in run.out.splitlines()
    assert "cannot be shown again" in run.err
    assert json.loads(ws("token", "create", "ci", "--name", "n", "--json").out)["token"] == SECRET
    assert fake.sent("/v1/tokens")[1].body["expires_days"] is None


def test_token_list_defaults_to_you_and_never_shows_secrets(ws: Any, fake: FakeDaemon) -> None:
    fake.reply("GET", "/v1/health", a.health("alice"))
    fake.reply("GET", "/v1/tokens", {"tokens": [a.token("t1", "laptop")]})
    run = ws("token", "list")
    assert fake.sent("/v1/tokens")[0].query == {"user": "alice"}
    cells = run.out.splitlines()[-1].split()
    assert (cells[:3], cells[-2:]) == (["t1", "laptop", "active"], ["never", "never"])


def test_token_revoke_sends_the_id(ws: Any, fake: FakeDaemon) -> None:
    fake.reply("POST", "/v1/tokens/revoke", {"token": a.token("t1", "laptop", state="revoked")})
    run = ws("token", "revoke", "t1")
    assert fake.sent("/v1/tokens/revoke")[0].body == {"id": "t1"}
    assert run.out.strip() == "revoked API token t1 (laptop)"


def test_bad_expiry_is_refused_before_asking_the_daemon(ws: Any, fake: FakeDaemon) -> None:
    run = ws("token", "create", "ci", "--name", "n", "--expires", "soon")
    assert run.code == 2
    assert "not an age: 'soon'" in run.err
    assert fake.requests == []


# --- helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "days"), [("90d", 90), ("2w", 14), ("1y", 365), ("30", 30)])
def test_parse_days(text: str, days: int) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize("text", ["0d", "-1d", "3h", ""])
def test_parse_days_refuses_nonsense(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_days(text)


def test_rule_columns_put_known_fields_first() -> None:
    rules = [{"zeta": 1, "effect": "deny", "kind": "p"}, {"alpha": 2, "subject": "bob"}]
    assert rule_columns(rules) == ["kind", "subject", "effect", "alpha", "zeta"]
