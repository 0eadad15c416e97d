"""add / commit / checkout / get: what is sent, what is written beside the data, what is shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli import answers as a
from tests.cli.cli_harness import FakeDaemon, version_info
from workspace.pointer import parse

DIGEST = version_info().digest


@pytest.fixture
def root(tmp_path: Path) -> Path:
    workspace = tmp_path / "project"
    (workspace / "data").mkdir(parents=True)
    (workspace / "data" / "a.csv").write_text("a\n")
    return workspace


def test_add_writes_the_pointer_and_gitignore_and_prints_a_summary(
    ws: Any, fake: FakeDaemon, root: Path
) -> None:
    fake.answer_write("/v1/add", root)
    run = ws("add", "data/", "-d", "vision/cats", "-m", "first cut", cwd=root)
    assert run.code == 0, run.err
    assert run.out.strip() == (
        "vision/cats@1: 3 files, 39.1 MiB (2 new, 1 deduplicated), 3 hardlinked in 1.50s"
    )
    [sent] = fake.sent("/v1/add")
    assert sent.body == {
        "path": str(root / "data"),
        "dataset": "vision/cats",
        "message": "first cut",
        "skip_symlinks": False,
        "git": None,
    }
    pointer = parse((root / "data.ws").read_text(), source="data.ws")
    assert (pointer.dataset, pointer.version, pointer.files) == ("vision/cats", 1, 3)
    assert (root / ".gitignore").read_text() == "/data\n"
    assert [p.name for p in root.iterdir() if p.name.startswith(".data.ws")] == []


def test_gitignore_keeps_its_lines_and_gets_the_entry_once(
    ws: Any, fake: FakeDaemon, root: Path
) -> None:
    (root / ".gitignore").write_text("*.pyc\n/build")  # no final newline
    fake.answer_write("/v1/add", root)
    for _ in range(2):
        assert ws("add", "data", "-d", "vision/cats", "-m", "m", cwd=root).code == 0
    assert (root / ".gitignore").read_text() == "*.pyc\n/build\n/data\n"


def test_pointer_and_gitignore_go_beside_a_nested_tracked_path(
    ws: Any, fake: FakeDaemon, root: Path
) -> None:
    (root / "models" / "resnet").mkdir(parents=True)
    fake.answer_write("/v1/add", root, "models/resnet", dataset="team/resnet")
    run = ws("add", "resnet", "-d", "team/resnet", "-m", "m", cwd=root / "models")
    assert run.code == 0, run.err
    assert (root / "models" / "resnet.ws").is_file()
    assert (root / "models" / ".gitignore").read_text() == "/resnet\n"
    assert fake.sent("/v1/add")[0].body["path"] == str(root / "models" / "resnet")


def test_paths_sent_resolve_symlinked_parents_but_not_the_last_name(
    ws: Any, fake: FakeDaemon, root: Path, tmp_path: Path
) -> None:
    (tmp_path / "link").symlink_to(root)
    fake.answer_write("/v1/add", root)
    assert ws("add", "link/data/", "-d", "vision/cats", "-m", "m", cwd=tmp_path).code == 0
    assert fake.sent("/v1/add")[0].body["path"] == str(root / "data")


def test_json_prints_the_result_object(ws: Any, fake: FakeDaemon, root: Path) -> None:
    result = fake.answer_write("/v1/add", root)
    run = ws("add", "data", "-d", "vision/cats", "-m", "m", "--json", cwd=root)
    assert run.code == 0, run.err
    assert json.loads(run.out) == result


def test_stream_cut_before_the_result_is_reported_and_exits_1(
    ws: Any, fake: FakeDaemon, root: Path
) -> None:
    fake.stream("/v1/add", [{"event": "start", "files": 3, "bytes": 9}], complete=False)
    run = ws("add", "data", "-d", "vision/cats", "-m", "m", cwd=root)
    assert run.code == 1
    assert "error: the daemon stopped in the middle of the operation" in run.err
    assert "nothing was half-committed" in run.err
    assert not (root / "data.ws").exists()


def test_stream_that_ends_cleanly_without_a_result_is_the_same_error(
    ws: Any, fake: FakeDaemon, root: Path
) -> None:
    fake.stream("/v1/add", [{"event": "progress", "files": 1, "bytes": 1}], chunked=False)
    run = ws("add", "data", "-d", "vision/cats", "-m", "m", cwd=root)
    assert run.code == 1
    assert "the daemon stopped in the middle of the operation" in run.err


def test_error_event_in_the_stream_keeps_its_exit_code(
    ws: Any, fake: FakeDaemon, root: Path
) -> None:
    error = {"code": "permission_denied", "message": "data/x is owned by bob"}
    fake.stream(
        "/v1/add", [{"event": "start", "files": 1, "bytes": 1}, {"event": "error", "error": error}]
    )
    run = ws("add", "data", "-d", "vision/cats", "-m", "m", cwd=root)
    assert run.code == 4
    assert "error: data/x is owned by bob" in run.err


def test_commit_sends_the_pointer_version_as_base(ws: Any, fake: FakeDaemon, root: Path) -> None:
    fake.answer_write("/v1/add", root, version=3)
    assert ws("add", "data", "-d", "vision/cats", "-m", "m", cwd=root).code == 0
    fake.answer_write("/v1/commit", root, version=4)
    run = ws("commit", "data", "-m", "fix labels", cwd=root)
    assert run.code == 0, run.err
    assert fake.sent("/v1/commit")[0].body["base_version"] == 3
    assert "version = 4" in (root / "data.ws").read_text()


def test_commit_without_changes_says_so(ws: Any, fake: FakeDaemon, root: Path) -> None:
    fake.answer_write("/v1/commit", root, version=2, unchanged=True)
    run = ws("commit", "data/", "-m", "again", cwd=root)
    assert run.code == 0, run.err
    assert run.out.strip() == "nothing to commit in data (vision/cats@2)"
    assert fake.sent("/v1/commit")[0].body["base_version"] is None


def test_checkout_everything_follows_each_pointer_and_reports_a_malformed_one(
    ws: Any, fake: FakeDaemon, root: Path
) -> None:
    (root / "models").mkdir()
    (root / "data.ws").write_text(_pointer("vision/cats", 1))
    (root / "models" / "resnet.ws").write_text(_pointer("team/resnet", 2))
    (root / "broken.ws").write_text("dataset = 'x'\n")
    (root / "data" / "inside.ws").write_text("this is data, not a pointer")
    (root / ".git").mkdir()
    (root / ".git" / "old.ws").write_text("not ours")
    fake.reply("GET", "/v1/workspaces/locate", a.locate(root, others=(a.tracked(root),)))
    fake.answer_write("/v1/get", root)  # get: also starts tracking a path new to this clone
    run = ws("checkout", cwd=root / "models")
    assert run.code == 2
    assert "pointer file ../broken.ws is malformed" in run.err
    sent = {request.body["path"]: request.body for request in fake.sent("/v1/get")}
    assert set(sent) == {str(root / "data"), str(root / "models" / "resnet")}
    assert sent[str(root / "models" / "resnet")]["ref"] == "team/resnet@2"
    assert sent[str(root / "data")]["digest"] == DIGEST


def test_checkout_version_uses_the_tracked_dataset(ws: Any, fake: FakeDaemon, root: Path) -> None:
    target = a.tracked(root, version=3)
    fake.reply("GET", "/v1/workspaces/locate", a.locate(root, target=target, relpath=""))
    fake.answer_write("/v1/checkout", root)
    run = ws("checkout", "data", "--version", "1", "--force", cwd=root)
    assert run.code == 0, run.err
    body = fake.sent("/v1/checkout")[0].body
    assert body == {
        "path": str(root / "data"),
        "ref": "vision/cats@1",
        "digest": None,
        "force": True,
    }


def test_checkout_refuses_a_path_inside_a_tracked_path(
    ws: Any, fake: FakeDaemon, root: Path
) -> None:
    target = a.tracked(root, version=3)
    fake.reply("GET", "/v1/workspaces/locate", a.locate(root, target=target, relpath="a.csv"))
    run = ws("checkout", "data/a.csv", "--version", "1", cwd=root)
    assert run.code == 2
    assert "`ws checkout data`" in run.err
    assert fake.sent("/v1/checkout") == []


def test_get_sends_ref_and_path_and_writes_the_pointer(
    ws: Any, fake: FakeDaemon, root: Path
) -> None:
    fake.answer_write("/v1/get", root, "cats", version=2)
    run = ws("get", "vision/cats@2", "cats", cwd=root)
    assert run.code == 0, run.err
    assert fake.sent("/v1/get")[0].body == {
        "ref": "vision/cats@2",
        "path": str(root / "cats"),
        "force": False,
    }
    assert "version = 2" in (root / "cats.ws").read_text()


def _pointer(dataset: str, version: int) -> str:
    return (f'dataset = "{dataset}"\nversion = {version}\ndigest = "{DIGEST}"\n'
            "files = 1\nbytes = 2\n")
