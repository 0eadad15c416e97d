"""Checkpoints: written after commit (at once for security-relevant events, within an
interval for the rest, every N events) and at shutdown, outside the database; the file is
started only with an empty chain and never recreated behind the admin's back."""

from __future__ import annotations

import logging
import socket
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.audit.conftest import NO_TIMER, record_events
from workspace.audit import Action, record
from workspace.audit.checkpoint import Checkpointer, checkpointing
from workspace.audit.checkpoint_file import checkpoint_file, load_checkpoints
from workspace.db import Database
from workspace.db.queries import audit as queries


def _sequences(log_dir: Path) -> list[int]:
    return [cp.sequence for cp in load_checkpoints(checkpoint_file(log_dir)).checkpoints]


def _head(db: Database) -> tuple[int, str]:
    with db.read() as session:
        found = queries.head(session)
    assert found is not None
    return found


def _poll(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.02)


def test_every_n_events_and_once_more_at_shutdown(db: Database, log_dir: Path) -> None:
    with checkpointing(db, log_dir, every=3, interval=NO_TIMER):
        record_events(db, 7)
        assert _sequences(log_dir) == [3, 6]
    assert _sequences(log_dir) == [3, 6, 7]
    last = load_checkpoints(checkpoint_file(log_dir)).checkpoints[-1]
    assert (last.sequence, last.hash) == _head(db)


def test_the_file_is_private_and_appended(db: Database, log_dir: Path) -> None:
    log_dir.mkdir(mode=0o755)
    with checkpointing(db, log_dir, every=1):
        record_events(db, 2)
    with checkpointing(db, log_dir, every=1):
        record_events(db, 1)
    assert stat.S_IMODE(log_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(checkpoint_file(log_dir).stat().st_mode) == 0o600
    assert _sequences(log_dir) == [1, 2, 2, 3, 3]


def test_a_transaction_of_several_events_is_checkpointed_at_its_last(db: Database,
                                                                      log_dir: Path) -> None:
    with checkpointing(db, log_dir, every=2, interval=NO_TIMER), db.write() as session:
        for _ in range(5):
            record(session, actor="alice", action=Action.DATASET_TAG_CREATE)
        assert _sequences(log_dir) == []  # nothing before the commit
    assert _sequences(log_dir)[0] == 5


def test_rolled_back_events_are_never_checkpointed(db: Database, log_dir: Path) -> None:
    checkpointer = Checkpointer(log_dir, every=1)
    checkpointer.attach(db)
    try:
        with pytest.raises(RuntimeError), db.write() as session:
            record(session, actor="alice", action=Action.DATASET_TAG_CREATE)
            raise RuntimeError("the change failed")
        assert _sequences(log_dir) == []
        record_events(db, 1)
    finally:
        checkpointer.detach()
    event_id, digest = _head(db)
    assert [(cp.sequence, cp.hash) for cp in load_checkpoints(
        checkpoint_file(log_dir)).checkpoints] == [(event_id, digest)]


def test_commits_of_another_database_are_not_counted(db: Database, log_dir: Path,
                                                     tmp_path: Path,
                                                     sqlite_template: object) -> None:
    (tmp_path / "other").mkdir()
    with sqlite_template(tmp_path / "other") as other_url:  # type: ignore[operator]
        other = Database(other_url)
        with checkpointing(db, log_dir, every=1):
            record_events(other, 2)
            assert _sequences(log_dir) == []
            record_events(db, 1)
        other.dispose()
    assert _sequences(log_dir) == [1, 1]


def test_a_checkpoint_that_cannot_be_written_never_fails_the_change(
        db: Database, log_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    log_dir.mkdir()
    checkpoint_file(log_dir).mkdir()  # writing the file now fails (EISDIR), even as root
    with caplog.at_level(logging.ERROR, "workspace.audit"), \
            checkpointing(db, log_dir, every=1):
        record_events(db, 2)
    assert _head(db)[0] == 2
    assert "cannot write the audit checkpoint" in caplog.text
    assert "cannot write the final audit checkpoint" in caplog.text


@pytest.fixture
def syslog(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """A stand-in for /dev/log: a Unix datagram socket we read from."""
    address = str(tmp_path / "log")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(address)
    receiver.settimeout(5)
    yield address, receiver
    receiver.close()


def test_checkpoints_also_go_to_the_system_log(db: Database, log_dir: Path,
                                               syslog: tuple[str, socket.socket]) -> None:
    address, receiver = syslog
    with checkpointing(db, log_dir, every=2, syslog_address=address):
        record_events(db, 2)
        message = receiver.recv(4096).decode()
    event_id, digest = _head(db)
    assert "workspace-audit:" in message
    assert f"checkpoint sequence={event_id} hash={digest}" in message
    assert message.startswith(f"<{(10 << 3) | 6}>")  # authpriv.info


def test_no_system_log_is_no_failure(db: Database, log_dir: Path, tmp_path: Path) -> None:
    gone = tmp_path / "dead.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(gone))
    dead.close()  # the path is left, nobody listens
    for address in (str(tmp_path / "missing"), str(gone)):
        with checkpointing(db, log_dir, every=1, syslog_address=address):
            record_events(db, 1)
    assert _sequences(log_dir) == [1, 1, 2, 2]


def test_unreadable_lines_are_counted_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.log"
    path.write_text('{"sequence":3,"hash":"' + "a" * 64 + '","at":"t"}\n'
                    '{"sequence":4,"hash":"short","at":"t"}\n'
                    '{"sequence":5,"ha')
    found = load_checkpoints(path)
    assert [cp.sequence for cp in found.checkpoints] == [3]
    assert (found.unreadable_lines, found.problem) == (2, None)
    assert load_checkpoints(tmp_path / "none.log").problem == "missing"
    (tmp_path / "dir.log").mkdir()
    assert (load_checkpoints(tmp_path / "dir.log").problem or "").startswith("unreadable (")


def test_a_security_relevant_event_is_checkpointed_as_soon_as_it_commits(
        db: Database, log_dir: Path) -> None:
    with checkpointing(db, log_dir, every=1000, interval=NO_TIMER):
        record_events(db, 2)
        assert _sequences(log_dir) == []  # routine: left to the count and the timer
        for action in (Action.POLICY_ROLE_GRANT, Action.ACCOUNT_TOKEN_CREATE):
            with db.write() as session:
                record(session, actor="alice", action=action, detail={"role": "admin"})
            assert _sequences(log_dir)[-1] == _head(db)[0]  # before any other commit
        assert _sequences(log_dir) == [3, 4]


def test_routine_events_are_checkpointed_within_the_interval(db: Database,
                                                             log_dir: Path) -> None:
    with checkpointing(db, log_dir, every=1000, interval=0.05):
        record_events(db, 3)
        _poll(lambda: 3 in _sequences(log_dir), "a timed checkpoint of event 3")
        record_events(db, 2)
        _poll(lambda: 5 in _sequences(log_dir), "a timed checkpoint of event 5")
    assert _sequences(log_dir)[-1] == 5
    assert _sequences(log_dir).count(3) == 1  # nothing new, nothing written


def test_a_new_install_starts_the_file_and_a_lost_file_is_never_recreated(
        db: Database, log_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = checkpoint_file(log_dir)
    with checkpointing(db, log_dir, every=1, interval=NO_TIMER):
        assert path.is_file() and path.read_text() == ""  # the chain was empty
        record_events(db, 2)
        path.unlink()
        with caplog.at_level(logging.ERROR, "workspace.audit"):
            with db.write() as session:
                record(session, actor="alice", action=Action.POLICY_ROLE_GRANT)
            record_events(db, 1)
        assert not path.exists()
    assert not path.exists()  # nor at shutdown
    assert "is missing" in caplog.text and "ws audit reset-checkpoints" in caplog.text
    assert caplog.text.count("cannot write the audit checkpoint") == 1  # once per outage

    caplog.clear()
    with caplog.at_level(logging.ERROR, "workspace.audit"), \
            checkpointing(db, log_dir, every=1, interval=NO_TIMER):
        record_events(db, 1)  # a restart does not start a new file either
    assert not path.exists()
    assert "missing while the audit log has events (up to event 4)" in caplog.text
