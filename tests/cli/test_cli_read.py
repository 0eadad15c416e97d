"""Read commands: status, datasets, log, audit, diff, ls; text for people, JSON for scripts."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.cli import answers as a
from tests.cli.cli_harness import FakeDaemon, version_info

VERSION = version_info("vision/cats", 2, tags=("v1.0",))


def test_status_lists_changes_relative_to_the_current_directory(
    ws: Any, fake: FakeDaemon, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()
    fake.reply("GET", "/v1/status", a.status(
        tmp_path,
        a.status_entry("models", "team/m", 1),
        a.status_entry("data", "vision/cats", 2, added=("new.csv",),
                       modified=("sub/labels.csv",)),
        a.status_entry("model.bin", "team/w", 4, kind="file", deleted=("model.bin",)),
    ))
    run = ws("status", cwd=tmp_path / "data")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "../models (team/m@1): clean"
    assert lines[1:6] == [
        ". (vision/cats@2):",
        "  modified: sub/labels.csv",
        "  added:    new.csv",
        "../model.bin (team/w@4):",
        "  deleted:  ../model.bin",
    ]
    assert "nothing to commit" not in run.out
    assert fake.sent("/v1/status")[0].query == {"path": str(tmp_path / "data")}


def test_status_all_clean_says_nothing_to_commit(ws: Any, fake: FakeDaemon, tmp_path: Path) -> None:
    fake.reply("GET", "/v1/status", a.status(tmp_path, a.status_entry("data", "vision/cats", 2)))
    run = ws("status")
    assert run.out.splitlines() == ["data (vision/cats@2): clean", "nothing to commit"]


def test_json_outputs_are_the_daemons_json(ws: Any, fake: FakeDaemon) -> None:
    answers = {
        "/v1/datasets": a.datasets(VERSION),
        "/v1/log": a.dataset_log(VERSION),
        "/v1/blame": a.blame(),
        "/v1/audit": a.audit(),
    }
    for route, answer in answers.items():
        fake.reply("GET", route, answer)
    for args, route in (
        (("datasets",), "/v1/datasets"),
        (("log", "vision/cats"), "/v1/log"),
        (("blame", "vision/cats@2", "--prefix", "train/"), "/v1/blame"),
        (("audit",), "/v1/audit"),
    ):
        run = ws(*args, "--json")
        assert run.code == 0, run.err
        assert json.loads(run.out) == answers[route]
    assert fake.sent("/v1/blame")[0].query == {"ref": "vision/cats@2", "prefix": "train/"}


def test_blame_prints_each_file_with_its_versions_description(ws: Any, fake: FakeDaemon) -> None:
    fake.reply("GET", "/v1/blame", a.blame(
        files=(("a.csv", 1), ("images/long-name.bin", 3), ("z.txt", 1)),
        versions={"1": a.blame_version("bob", "first cut\nmore words", pruned=True),
                  "3": a.blame_version("alice", "relabel", git_commit="c0ffee" * 7)}))
    run = ws("blame", "vision/cats")
    assert run.code == 0, run.err
    date = "2026-11-21 19:20"
    assert run.out.splitlines() == [
        "vision/cats@2",
        "Path                  Version     Author  Date              Code        Message",
        f"a.csv                 1 (pruned)  bob     {date}              first cut",
        f"images/long-name.bin  3           alice   {date}  c0ffeec0ff  relabel",
        f"z.txt                 1 (pruned)  bob     {date}              first cut",
    ]
    # the table shows no oids, so it asks for none (--json asks for the whole answer)
    assert fake.sent("/v1/blame")[0].query == {"ref": "vision/cats", "oids": "false"}


def test_blame_of_many_files_is_one_aligned_line_each(ws: Any, fake: FakeDaemon) -> None:
    files = tuple((f"d{i % 7}/f{i:05d}.bin", 1 + i % 3) for i in range(5_000))
    fake.reply("GET", "/v1/blame", a.blame(files=files, versions={
        str(n): a.blame_version(f"user{n}", f"change {n}") for n in (1, 2, 3)}))
    lines = ws("blame", "vision/cats").out.splitlines()
    assert len(lines) == 2 + len(files)
    assert lines[2].split() == ["d0/f00000.bin", "1", "user1", "2026-11-21", "19:20",
                                "change", "1"]
    assert len({line.index("user") for line in lines[2:]}) == 1


def test_datasets_table_shows_sizes_and_subject_lines(ws: Any, fake: FakeDaemon) -> None:
    fake.reply("GET", "/v1/datasets", a.datasets(version_info(files=10_000)))
    run = ws("datasets")
    assert run.code == 0, run.err
    assert "vision/cats" in run.out
    assert "10,000" in run.out
    assert "39.1 MiB" in run.out
    assert "fix labels" in run.out
    assert "long explanation" not in run.out


def test_audit_since_7d_sends_a_utc_timestamp_a_week_ago(ws: Any, fake: FakeDaemon) -> None:
    fake.reply("GET", "/v1/audit", a.audit())
    run = ws("audit", "--user", "bob", "--since", "7d", "--limit", "5")
    assert run.code == 0, run.err
    query = fake.sent("/v1/audit")[0].query
    assert (query["user"], query["limit"]) == ("bob", "5")
    assert "dataset" not in query
    assert query["since"].endswith("Z")
    since = datetime.fromisoformat(query["since"])
    assert abs(since - (datetime.now(UTC) - timedelta(days=7))) < timedelta(minutes=1)


def test_audit_rejects_a_since_it_cannot_read(ws: Any, fake: FakeDaemon) -> None:
    run = ws("audit", "--since", "last tuesday")
    assert run.code == 2
    assert "--since" in run.err
    assert fake.requests == []


def test_log_of_an_existing_path_asks_by_path(ws: Any, fake: FakeDaemon, tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "labels.csv").write_text("x")
    answer = a.file_log("vision/cats", "labels.csv", a.path_change(2, "modified", author="bob"))
    fake.reply("GET", "/v1/log", answer)
    run = ws("log", "data/labels.csv")
    assert run.code == 0, run.err
    assert fake.sent("/v1/log")[0].query == {"path": str(tmp_path / "data" / "labels.csv")}
    assert "modified" in run.out
    assert "bob" in run.out


def test_diff_lists_changes(ws: Any, fake: FakeDaemon) -> None:
    answer = {
        "a": {"dataset": "vision/cats", "version": 1},
        "b": {"dataset": "vision/cats", "version": 2},
        "added": [{"path": "new.csv", "oid": a.OID_A, "size": 2048}],
        "modified": [
            {"path": "l.csv", "old_oid": a.OID_A, "new_oid": a.OID_B, "old_size": 1,
             "new_size": 2}
        ],
        "deleted": [],
    }
    fake.reply("GET", "/v1/diff", answer)
    run = ws("diff", "vision/cats@1", "vision/cats@2")
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        "vision/cats@1 -> vision/cats@2: 1 added, 1 modified, 0 deleted",
        "  added:    new.csv (2.0 KiB)",
        "  modified: l.csv (1 B -> 2 B)",
    ]


def test_init_reports_a_new_or_known_workspace(ws: Any, fake: FakeDaemon, tmp_path: Path) -> None:
    fake.reply("POST", "/v1/workspaces", {"workspace": a.workspace(tmp_path), "created": True})
    fake.reply("GET", "/v1/health", a.health(uid=os.geteuid()))
    run = ws("init")  # the daemon runs as the caller: no ACL to grant
    assert run.out.strip() == f"registered workspace {tmp_path}"
    assert fake.sent("/v1/workspaces")[0].body == {"path": str(tmp_path)}
