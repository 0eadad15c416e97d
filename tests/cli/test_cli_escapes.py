"""Names and messages chosen by someone else never reach a terminal as control sequences.

A real daemon; a commit message holds an OSC title change (``ESC ] 0 ;
pwned BEL``), a screen clear (``ESC [ 2 J``) and a C1 CSI; a file name holds a
right-to-left override (control characters cannot be in a stored name at all,
see tests/e2e/test_file_names.py, but they can in an untracked file that
status reports). Every command that shows them prints the escaped form;
`--json` gives back the exact strings, with no raw control byte in the output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon import Daemon, give
from tests.support.runtime import Runtime

OSC, CLEAR, C1 = "\x1b]0;pwned\x07", "\x1b[2J", "\u009b2J"
RLO = "\u202e"
NAME = f"evil{RLO}vsc.csv"
MESSAGE = f"fix {OSC} labels {CLEAR} {C1}"
SHOWN_NAME = "evil\\u202evsc.csv"
SHOWN_MESSAGE = "fix \\x1b]0;pwned\\x07 labels \\x1b[2J \\x9b2J"
RAW = ("\x1b", "\x07", "\u009b", RLO)


@pytest.fixture(scope="module")
def sqlite_daemon(runtime: Runtime) -> Iterator[Daemon]:
    """One daemon for the module: the tests only read, but for one new untracked file."""
    alice = runtime.user("alice")
    home = runtime.make_dir(alice, "home")
    running = Daemon(runtime, alice, home, f"sqlite:///{home / 'workspace.db'}").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def evil(sqlite_daemon: Daemon, runtime: Runtime) -> Path:
    """data/ tracked as vision/cats, holding a file whose name carries escape sequences."""
    project = runtime.make_dir(sqlite_daemon.owner, "project")
    (project / "data").mkdir()
    (project / "data" / NAME).write_text("a,1\n")
    give(project, sqlite_daemon.owner)
    sqlite_daemon.ws("init", cwd=project)
    sqlite_daemon.ws("add", "data", "-d", "vision/cats", "-m", MESSAGE, cwd=project)
    return project


def _clean(daemon: Daemon, *args: str, cwd: Path, code: int = 0) -> str:
    proc = daemon.ws(*args, cwd=cwd, check=False)
    assert proc.returncode == code, (args, proc.returncode, proc.stderr)
    for raw in RAW:
        assert raw not in proc.stdout and raw not in proc.stderr, (args, proc.stdout, proc.stderr)
    return proc.stdout + proc.stderr


@pytest.mark.parametrize("args", [
    ("ls", "vision/cats"),
    ("log", "vision/cats"),
    ("blame", "vision/cats"),
    ("audit",),
])
def test_listings_show_names_and_messages_escaped(sqlite_daemon: Daemon, evil: Path,
                                                  args: tuple[str, ...]) -> None:
    shown = _clean(sqlite_daemon, *args, cwd=evil)
    if args[0] in ("ls", "blame"):
        assert SHOWN_NAME in shown
    if args[0] != "ls":
        assert SHOWN_MESSAGE in shown


def test_the_log_of_an_evil_path_is_escaped(sqlite_daemon: Daemon, evil: Path) -> None:
    shown = _clean(sqlite_daemon, "log", f"data/{NAME}", cwd=evil)
    assert SHOWN_NAME in shown and SHOWN_MESSAGE in shown


def test_status_shows_changed_names_escaped(sqlite_daemon: Daemon, evil: Path) -> None:
    (evil / "data" / f"new{CLEAR}.csv").write_text("b\n")
    give(evil / "data", sqlite_daemon.owner)
    shown = _clean(sqlite_daemon, "status", cwd=evil)
    assert "added:    data/new\\x1b[2J.csv" in shown


def test_errors_show_the_path_escaped(sqlite_daemon: Daemon, evil: Path) -> None:
    shown = _clean(sqlite_daemon, "log", "--path", f"data/gone{OSC}", cwd=evil, code=2)
    assert "data/gone\\x1b]0;pwned\\x07 is not valid UTF-8 or contains control" in shown
    shown = _clean(sqlite_daemon, "init", f"nowhere{CLEAR}", cwd=evil, code=3)
    assert "error: nowhere\\x1b[2J does not exist" in shown


def test_json_gives_back_the_exact_strings(sqlite_daemon: Daemon, evil: Path) -> None:
    listing = json.loads(_clean(sqlite_daemon, "ls", "vision/cats", "--json", cwd=evil))
    assert [f["path"] for f in listing["files"]] == [NAME]
    log = json.loads(_clean(sqlite_daemon, "log", "vision/cats", "--json", cwd=evil))
    assert log["versions"][0]["message"] == MESSAGE
    proc = sqlite_daemon.ws("log", "--path", f"data/gone{OSC}", "--json", cwd=evil, check=False)
    assert not any(raw in proc.stderr for raw in RAW)
    message = json.loads(proc.stderr)["error"]["message"]
    assert message.endswith("data/gone\\x1b]0;pwned\\x07 is not valid UTF-8 or contains "
                            "control characters")
