"""Checkpoints: written after commit, every N events and at shutdown, outside the database."""

from __future__ import annotations

import logging
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audit.conftest import record_events
from workspace.audit import Action, record
from workspace.audit.checkpoint import (
    Checkpointer,
    checkpoint_file,
    checkpointing,
    read_checkpoints,
)
from workspace.db import Database
from workspace.db.queries import audit as queries


def _sequences(log_dir: Path) -> list[int]:
    return [cp.sequence for cp in read_checkpoints(checkpoint_file(log_dir))[0]]


def _head(db: Database) -> tuple[int, str]:
    with db.read() as session:
        found = queries.head(session)
    assert found is not None
    return found


def test_every_n_events_and_once_more_at_shutdown(db: Database, log_dir: Path) -> None:
    with checkpointing(db, log_dir, every=3):
        record_events(db, 7)
        assert _sequences(log_dir) == [3, 6]
    assert _sequences(log_dir) == [3, 6, 7]
    last = read_checkpoints(checkpoint_file(log_dir))[0][-1]
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
    with checkpointing(db, log_dir, every=2), db.write() as session:
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
    assert [(cp.sequence, cp.hash) for cp in read_checkpoints(
        checkpoint_file(log_dir))[0]] == [(event_id, digest)]


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
    found, unreadable = read_checkpoints(path)
    assert [cp.sequence for cp in found] == [3]
    assert unreadable == 2
    assert read_checkpoints(tmp_path / "none.log") == ([], 0)
