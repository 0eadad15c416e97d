"""Start-up: which modules the hottest commands (status, blame, add, commit, get) load
(issue 12), and that the light path (cli/fast.py) answers exactly as the Typer command does.

Tests never assert timings; they pin what costs the time: a cheap command that
imports Typer, rich, httpx, pydantic or the standard library's HTTP and email
machinery has lost its budget, whatever the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli import answers as a
from tests.cli.cli_harness import REPO, FakeDaemon, run_cli

HEAVY = {"typer", "click", "rich", "httpx", "httpcore", "pydantic", "pydantic_settings",
         "http", "email", "ssl", "dataclasses", "inspect", "tempfile", "tomllib", "sqlalchemy"}
"""Packages the light path must not load (top-level names)."""

# What the interpreter loaded before `ws` ran (site, and any .pth file of the machine's
# site-packages: one here imports certifi, hence tempfile) is not the CLI's doing.
_PROBE = """
import json, sys
before = {name.split(".")[0] for name in sys.modules}
from workspace.cli.main import main
try:
    main(sys.argv[2:])
except SystemExit:
    pass
with open(sys.argv[1], "w") as out:
    loaded = {name.split(".")[0] for name, m in sys.modules.items() if m}
    json.dump(sorted(loaded - before), out)
"""


def loaded_by(args: list[str], cwd: Path, tmp_path: Path) -> set[str]:
    """The top-level modules a `ws ARGS` process loaded beyond the interpreter's own start."""
    report = tmp_path / "modules.json"
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("WORKSPACE_")}
    env.update({"PYTHONPATH": str(REPO), "WORKSPACE_HOME": str(tmp_path / ".ws-home")})
    done = subprocess.run([sys.executable, "-c", _PROBE, str(report), *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(json.loads(report.read_text()))


def test_version_loads_nothing_heavy(tmp_path: Path) -> None:
    assert loaded_by(["--version"], tmp_path, tmp_path) & HEAVY == set()


def test_status_loads_nothing_heavy(fake: FakeDaemon, tmp_path: Path) -> None:
    (tmp_path / "data.ws").write_text(
        'dataset = "vision/cats"\nversion = 2\ndigest = "abc"\nfiles = 1\nbytes = 4\n')
    fake.reply("GET", "/v1/status", a.status(tmp_path, a.status_entry("data", "vision/cats", 2)))
    for args in (["status"], ["status", "--json"], ["status", str(tmp_path / "data")]):
        modules = loaded_by(["--socket", str(fake.socket), *args], tmp_path, tmp_path)
        assert "workspace" in modules
        assert modules & HEAVY == set(), args
    assert len(fake.sent("/v1/status")) == 3


def test_blame_loads_nothing_heavy(fake: FakeDaemon, tmp_path: Path) -> None:
    fake.reply("GET", "/v1/blame", a.blame(files=(("a.csv", 1),),
                                           versions={"1": a.blame_version()}))
    for args in (["blame", "vision/cats"], ["blame", "vision/cats@1", "sub/", "--json"]):
        modules = loaded_by(["--socket", str(fake.socket), *args], tmp_path, tmp_path)
        assert modules & (HEAVY - {"dataclasses", "inspect"}) == set(), args
    assert [r.query for r in fake.sent("/v1/blame")] == [
        {"ref": "vision/cats", "oids": "false"}, {"ref": "vision/cats@1", "prefix": "sub/"}]


@pytest.mark.parametrize("args", [
    ("add", "data", "-d", "vision/cats", "-m", "first cut"),
    ("commit", "data", "--message=second", "--json"),
    ("get", "vision/cats@1", "data", "--force"),
])
def test_write_commands_load_nothing_heavy(fake: FakeDaemon, tmp_path: Path,
                                           args: tuple[str, ...]) -> None:
    """add, commit and get stream their progress over the standard library's socket too,
    and outside git they do not load pygit2 (which alone costs more than the rest)."""
    (tmp_path / "data").mkdir()
    fake.answer_write(f"/v1/{args[0]}", tmp_path)
    modules = loaded_by(["--socket", str(fake.socket), *args], tmp_path, tmp_path)
    assert "workspace" in modules
    assert modules & (HEAVY - {"dataclasses", "inspect"} | {"pygit2"}) == set(), args
    assert len(fake.sent(f"/v1/{args[0]}")) == 1
    assert (tmp_path / "data.ws").is_file()  # the pointer file written after the stream


def test_other_commands_still_get_typer(fake: FakeDaemon, tmp_path: Path) -> None:
    fake.reply("GET", "/v1/datasets", a.datasets())
    assert "typer" in loaded_by(["--socket", str(fake.socket), "status", "--help"], tmp_path,
                                tmp_path)


@pytest.mark.parametrize("args", [
    ("status",), ("status", "--json"), ("status", "data"), ("status", "--json", "--", "data"),
    ("status", "data", "extra"), ("status", "--bogus"), ("status", "-h"), ("--version",),
    ("blame", "vision/cats@2"), ("blame", "vision/cats", "train/", "--json"), ("blame",),
    ("blame", "Bad/Name"), ("blame", "a", "b", "c"), ("blame", "vision/cats", "--lines"),
    ("add", "data", "-d", "vision/cats", "-m", "first cut"),
    ("add", "data", "--dataset=vision/cats", "--message", "m", "--skip-symlinks", "--json"),
    ("add", "data", "-m", "no dataset"), ("add", "data", "-d", "Bad/Name", "-m", "m"),
    ("add", "data", "-d", "a/b", "-d", "a/c", "-m", "m"), ("add", "data", "-m", "-x", "-d", "a"),
    ("commit", "data", "-m", "second"), ("commit", "data", "--json", "-m", "second"),
    ("commit", "-m", "no path"), ("commit", "data", "-m", "m", "--force"),
    ("get", "vision/cats@1", "data"), ("get", "vision/cats", "data", "--force", "--json"),
    ("get", "vision/cats"), ("get", "not a ref", "data"), ("get", "a/b", "data", "extra"),
])
def test_the_light_path_answers_as_typer_does(fake: FakeDaemon, tmp_path: Path,
                                              args: tuple[str, ...]) -> None:
    """The same arguments through fast.py and through the Typer app (a global option
    written twice sends them to Typer): same output, same exit code."""
    (tmp_path / "data").mkdir()
    fake.reply("GET", "/v1/status", a.status(
        tmp_path, a.status_entry("data", "vision/cats", 2, added=("new.csv",))))
    fake.reply("GET", "/v1/blame", a.blame(files=(("train/a.csv", 1),),
                                           versions={"1": a.blame_version()}))
    for route in ("add", "commit", "get"):
        fake.answer_write(f"/v1/{route}", tmp_path)
    socket = str(fake.socket)
    light = run_cli("--socket", socket, *args, cwd=tmp_path, home=tmp_path)
    typer_path = run_cli("--socket", "x", "--socket", socket, *args, cwd=tmp_path, home=tmp_path)
    assert (light.code, light.out) == (typer_path.code, typer_path.out)
    assert _usage(light.err) == _usage(typer_path.err)


def _usage(err: str) -> Any:
    """Typer's usage errors name the command line's options: compare all but that."""
    return [line for line in err.splitlines() if "--socket" not in line]


def test_status_errors_are_the_same_shape_on_the_light_path(tmp_path: Path) -> None:
    run = run_cli("--socket", str(tmp_path / "none.sock"), "status", "--json", cwd=tmp_path,
                  home=tmp_path)
    assert run.code == 6
    assert json.loads(run.err)["error"]["code"] == "daemon_unreachable"
