"""The policy directory is accepted whole or not at all; defaults are stored once."""

from __future__ import annotations

from pathlib import Path

import pytest

from workspace.db import Database
from workspace.errors import InvalidInput
from workspace.policy import Authorizer, read_policy_dir
from workspace.policy.files import parse_policy_csv

GOOD_MATCHER = (
    'm = (p.act == r.act || p.act == "*") && keyMatch(r.obj, p.obj) && g(r.sub, p.sub, r.obj)'
)


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_the_shipped_files_define_the_roles(policy_dir: Path) -> None:
    files = read_policy_dir(policy_dir)
    assert {str(r) for r in files.rules if r.ptype == "g"} == {
        "g, writer, reader, *",
        "g, maintainer, writer, *",
        "g, admin, maintainer, *",
        "g, admin, releaser, *",  # releaser: promote (moving protected aliases)
    }
    assert {r.subject for r in files.rules if r.ptype == "p"} == {
        "reader",
        "writer",
        "maintainer",
        "admin",
        "releaser",
    }


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("[matchers]", "[matchers", "does not parse"),
        ("r = sub, obj, act", "r = sub, obj", "reshaped"),
        ("g = _, _, _", "g = _, _", "reshaped"),
        ("keyMatch(r.obj, p.obj)", "keyMatch((r.obj, p.obj)", "matcher"),
        (GOOD_MATCHER, GOOD_MATCHER + ' || r.sub == "root"', "matcher"),
        (GOOD_MATCHER, "m = g(r.sub, p.sub, r.obj)", "matcher"),
        (GOOD_MATCHER, GOOD_MATCHER + " && nosuchfunction(r.obj)", "does not evaluate"),
    ],
)
def test_a_broken_model_is_refused(policy_dir: Path, old: str, new: str, message: str) -> None:
    replace_in(policy_dir / "model.conf", old, new)
    with pytest.raises(InvalidInput, match=message) as caught:
        read_policy_dir(policy_dir)
    assert caught.value.message.startswith("model.conf")


def test_a_model_may_add_conditions_after_the_required_tests(policy_dir: Path) -> None:
    replace_in(
        policy_dir / "model.conf",
        GOOD_MATCHER,
        GOOD_MATCHER + ' && (r.sub != "nobody" || r.act == "read")',
    )
    read_policy_dir(policy_dir)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("p, reader, *, read", "line 3: not a rule"),
        ("x, reader, *, read, allow", "line 3: not a rule"),
        ("p, reader, *, read, allow, extra", "line 3: not a rule"),
        ('p, "reader", *, read, allow', "line 3: the subject"),
        ("g, alice, Writer, *", "line 3: 'Writer' is not a role"),
        ("p, reader, *, destroy, allow", "line 3: unknown action"),
    ],
)
def test_a_broken_policy_line_is_refused_with_its_number(line: str, message: str) -> None:
    text = "# comment\n\n" + line + "\np, reader, *, read, allow\n"
    with pytest.raises(InvalidInput, match=message):
        parse_policy_csv(text)


def test_a_missing_file_is_refused(policy_dir: Path) -> None:
    (policy_dir / "policy.csv").unlink()
    with pytest.raises(InvalidInput, match="cannot read"):
        read_policy_dir(policy_dir)


def test_defaults_are_loaded_only_into_an_empty_database(db: Database, policy_dir: Path) -> None:
    auth = Authorizer(db, policy_dir)
    assert auth.list_rules() == []
    with db.write() as session:
        assert auth.load_defaults_if_empty(session) is True
    stored = [str(r) for r in auth.list_rules()]
    assert stored == [str(r) for r in read_policy_dir(policy_dir).rules]
    assert {r.source for r in auth.list_rules()} == {"file"}
    (policy_dir / "policy.csv").write_text("p, reader, *, read, allow\n")
    with db.write() as session:
        assert auth.load_defaults_if_empty(session) is False
    assert [str(r) for r in auth.list_rules()] == stored


def test_applying_files_replaces_file_rules_and_keeps_api_rules(
    auth: Authorizer, db: Database, policy_dir: Path
) -> None:
    with db.write() as session:
        auth.grant_role(session, "alice", "writer", "vision/*")
    with (policy_dir / "policy.csv").open("a") as handle:
        handle.write("p, group:interns, *, write, deny\n")
    replace_in(policy_dir / "policy.csv", "p, maintainer, *, maintain, allow\n", "")
    with db.write() as session:
        changed = auth.apply_files(session, read_policy_dir(policy_dir))
    assert changed == ["policy.csv"]
    rules = {str(r) for r in auth.list_rules()}
    assert "p, group:interns, *, write, deny" in rules
    assert "p, maintainer, *, maintain, allow" not in rules
    assert "g, alice, writer, vision/*" in rules
    with db.write() as session:
        assert auth.apply_files(session, read_policy_dir(policy_dir)) == []


def test_a_file_cannot_remove_the_last_admin(
    auth: Authorizer, db: Database, policy_dir: Path
) -> None:
    with (policy_dir / "policy.csv").open("a") as handle:
        handle.write("g, root-admin, admin, *\n")  # the file takes over the API's grant
    with db.write() as session:
        auth.apply_files(session, read_policy_dir(policy_dir))
    replace_in(policy_dir / "policy.csv", "g, root-admin, admin, *\n", "")
    with pytest.raises(InvalidInput, match="last admin"), db.write() as session:
        auth.apply_files(session, read_policy_dir(policy_dir))
    assert auth.check("root-admin", [], "admin:users", "admin").allowed


def test_a_role_added_in_the_file_can_be_granted_and_users_in_it_stay_users(
    auth: Authorizer, db: Database, policy_dir: Path
) -> None:
    with (policy_dir / "policy.csv").open("a") as handle:
        handle.write("p, auditor, admin:audit, admin, allow\ng, alice, writer, vision/*\n")
    with db.write() as session:
        auth.apply_files(session, read_policy_dir(policy_dir))
        auth.grant_role(session, "bob", "auditor", "*")
        auth.grant_role(session, "alice", "reader", "text/*")
    assert auth.check("bob", [], "admin:audit", "admin").allowed
    assert not auth.check("bob", [], "admin:users", "admin").allowed
    assert auth.check("alice", [], "text/a", "read").allowed
