"""The lock rules in process, on SQLite and PostgreSQL: all or nothing, expansion, and the
check where a version is recorded (which holds even if the early check was raced)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workspace.auth import Caller, notices
from workspace.datasets import locks, versions
from workspace.datasets.manifest import ManifestEntry
from workspace.db import Database, migrate
from workspace.db.queries import users
from workspace.errors import Conflict, InvalidInput, NotFound

FILES = ("labels.csv", "images/a.jpg", "images/b.jpg", "images2/c.jpg")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    migrate(database_url)
    opened = Database(database_url)
    yield opened
    opened.dispose()


@pytest.fixture
def people(db: Database) -> dict[str, Caller]:
    found = {}
    with db.write() as session:
        for uid, name in enumerate(("bob", "wendy", "alice"), start=5001):
            user = users.create(session, name=name, uid=uid)
            found[name] = Caller(user.id, user.name, user.uid)
        versions.commit(session, dataset_name="vision/cats", author=found["alice"],
                        message="v1", manifest=_manifest("1"), base=None)
    return found


def test_a_version_changing_a_path_locked_by_someone_else_is_not_recorded(
        db: Database, people: dict[str, Caller]) -> None:
    with db.write() as session:
        locks.take(session, people["bob"], dataset="vision/cats", paths=["labels.csv"])
    changed = {**_manifest("1"), "labels.csv": ManifestEntry("labels.csv", "f" * 64, 2, False)}
    with pytest.raises(Conflict) as refused, db.write() as session:
        versions.commit(session, dataset_name="vision/cats", author=people["wendy"],
                        message="v2", manifest=changed, base=1)
    assert "locked by bob since" in refused.value.message
    assert refused.value.details["locked"][0]["path"] == "labels.csv"
    with db.read() as session:
        assert versions.resolve(session, versions.Ref("vision/cats"))[1].number == 1
    with db.write() as session:  # the holder commits; an unlocked path is anyone's
        versions.commit(session, dataset_name="vision/cats", author=people["bob"],
                        message="v2", manifest=changed, base=1)
        untouched = {**changed, "images/a.jpg": ManifestEntry("images/a.jpg", "e" * 64, 1, False)}
        versions.commit(session, dataset_name="vision/cats", author=people["wendy"],
                        message="v3", manifest=untouched, base=2)


def test_taking_locks_is_all_or_nothing(db: Database, people: dict[str, Caller]) -> None:
    with db.write() as session:
        locks.take(session, people["bob"], dataset="vision/cats", paths=["images/b.jpg"])
    with pytest.raises(Conflict), db.write() as session:
        locks.take(session, people["wendy"], dataset="vision/cats", paths=["labels.csv", "images"])
    with db.read() as session:
        held = {(i.path, i.holder) for i in locks.listed(session, "vision/cats")}
    assert held == {("images/b.jpg", "bob")}


def test_a_directory_locks_every_file_below_it_and_nothing_beside_it(
        db: Database, people: dict[str, Caller]) -> None:
    with db.write() as session:
        taken = locks.take(session, people["bob"], dataset="vision/cats", paths=["images/"])
        again = locks.take(session, people["bob"], dataset="vision/cats", paths=["images/a.jpg"])
    assert sorted(i.path for i in taken["locks"]) == ["images/a.jpg", "images/b.jpg"]
    assert (again["taken"], again["already_held"]) == (0, 1)
    with pytest.raises(NotFound), db.write() as session:
        locks.take(session, people["bob"], dataset="vision/cats", paths=["image"])
    for bad in ("../labels.csv", "images/../labels.csv", "a//b"):
        with pytest.raises(InvalidInput), db.write() as session:
            locks.take(session, people["bob"], dataset="vision/cats", paths=[bad])


def test_breaking_a_lock_leaves_the_holder_one_notice(
        db: Database, people: dict[str, Caller]) -> None:
    with db.write() as session:
        locks.take(session, people["bob"], dataset="vision/cats", paths=["labels.csv"])
    with pytest.raises(Conflict), db.write() as session:
        locks.release(session, people["wendy"], dataset="vision/cats", paths=["labels.csv"])
    with db.write() as session:
        answer = locks.release(session, people["alice"], dataset="vision/cats",
                               paths=["labels.csv"], force=True)
    assert [(i.path, i.holder) for i in answer["broken"]] == [("labels.csv", "bob")]
    told = notices.take(db, people["bob"].user_id)
    assert len(told) == 1 and "alice broke your lock on labels.csv in vision/cats" in told[0]
    assert notices.take(db, people["bob"].user_id) == []
    assert notices.take(db, people["wendy"].user_id) == []


def _manifest(tag: str) -> dict[str, ManifestEntry]:
    return {path: ManifestEntry(path, (tag + str(i)) * 32, 1, False)
            for i, path in enumerate(FILES)}


def test_releasing_a_directory_releases_only_your_own_locks_below_it(
        db: Database, people: dict[str, Caller]) -> None:
    with db.write() as session:
        locks.take(session, people["bob"], dataset="vision/cats", paths=["images/a.jpg"])
        locks.take(session, people["wendy"], dataset="vision/cats", paths=["images/b.jpg"])
        answer = locks.release(session, people["bob"], dataset="vision/cats", paths=["images"])
    assert [i.path for i in answer["released"]] == ["images/a.jpg"] and answer["broken"] == []
    with pytest.raises(NotFound), db.write() as session:
        locks.release(session, people["bob"], dataset="vision/cats", paths=[""])
    with db.read() as session:
        assert [(i.path, i.holder) for i in locks.listed(session)] == [("images/b.jpg", "wendy")]
