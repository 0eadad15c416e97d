"""Ingest's relink step over many directories: every file ends up as a link to its object.

The step groups files by directory once (it used to rebuild a lookup table
per directory, quadratic in directories); these tests pin what it does, not
how fast: which files become links, which are left alone, and the counts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tests.store.conftest import MakeFile
from workspace.store import ObjectStore
from workspace.workspaces.ingest import IngestOptions, IngestReport, ingest

COPY_THEN_LINK = IngestOptions(owner_uid=None, adopt=False, relink=True)


def _tree(ws: Path, make_file: MakeFile) -> list[str]:
    paths = ["top.csv", "exec.sh", "same-a/x.bin", "same-b/x.bin"]
    make_file(ws / "top.csv", b"top\n")
    make_file(ws / "exec.sh", b"#!/bin/sh\n", 0o755)
    make_file(ws / "same-a" / "x.bin", b"identical")
    make_file(ws / "same-b" / "x.bin", b"identical")
    for d in range(60):
        for f in range(3):
            rel = f"deep/d{d:02d}/sub/f{f}.txt"
            make_file(ws / rel, f"{d}/{f}\n".encode())
            paths.append(rel)
    return sorted(paths)


def _run(store: ObjectStore, ws_fd: int, paths: list[str],
         on_progress: Callable[[int], None] | None = None) -> IngestReport:
    def progress(files: int, size: int) -> None:
        if on_progress is not None:
            on_progress(files)

    return ingest(store, ws_fd, paths, {}, COPY_THEN_LINK, progress)


def test_every_plain_file_in_every_directory_becomes_its_object(
        store: ObjectStore, ws: Path, ws_fd: int, make_file: MakeFile) -> None:
    paths = _tree(ws, make_file)
    report = _run(store, ws_fd, paths)

    for path in paths:
        entry = report.manifest[path]
        obj = store.stat(entry.oid)
        assert obj is not None
        same_inode = (ws / path).stat().st_ino == obj.st_ino
        assert same_inode == (path != "exec.sh"), path  # an executable keeps its own inode
    assert report.summary.linked == len(paths) - 1 and report.summary.copied == 0
    assert report.summary.new_objects == len(paths) - 1  # the two identical files share one
    assert report.summary.deduplicated == 1
    assert (ws / "same-a/x.bin").stat().st_ino == (ws / "same-b/x.bin").stat().st_ino


def test_a_file_changed_after_staging_is_left_alone(
        store: ObjectStore, ws: Path, ws_fd: int, make_file: MakeFile) -> None:
    paths = _tree(ws, make_file)
    victim = ws / "deep/d17/sub/f1.txt"

    def edit_when_all_staged(files: int) -> None:
        if files == len(paths):
            replacement = victim.with_name("f1.new")
            replacement.write_bytes(b"edited meanwhile\n")
            os.replace(replacement, victim)

    report = _run(store, ws_fd, paths, edit_when_all_staged)

    assert victim.read_bytes() == b"edited meanwhile\n"
    assert victim.stat().st_nlink == 1
    assert report.summary.linked == len(paths) - 2  # neither the executable nor the victim
    neighbour = ws / "deep/d17/sub/f0.txt"
    obj = store.stat(report.manifest["deep/d17/sub/f0.txt"].oid)
    assert obj is not None and neighbour.stat().st_ino == obj.st_ino
