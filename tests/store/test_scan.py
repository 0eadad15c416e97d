"""The workspace scan lists files, and reports (never follows) symlinks and special files."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from workspace.store.safefs import scan

from .conftest import MakeFile


def test_scan_sorts_files_and_separates_symlinks_and_special(
    ws: Path, ws_fd: int, make_file: MakeFile, tmp_path: Path
) -> None:
    make_file(ws / "b.txt", b"bb")
    make_file(ws / "a" / "deep" / "x.bin", b"x")
    make_file(ws / "a.txt", b"a")
    outside = tmp_path / "outside"
    make_file(outside / "secret", b"not in the workspace")
    (ws / "a" / "to-outside").symlink_to(outside)  # a symlinked directory
    (ws / "dangling").symlink_to("nowhere")
    os.mkfifo(ws / "a" / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(ws / "sock"))
    make_file(ws / ".ws-tmp-0123", b"our own temp")

    result = scan(ws_fd)
    sock.close()

    assert [f.relpath for f in result.files] == ["a.txt", "a/deep/x.bin", "b.txt"]
    assert result.symlinks == ["a/to-outside", "dangling"]
    assert result.special == ["a/pipe", "sock"]
    by_path = {f.relpath: f.stat for f in result.files}
    assert by_path["b.txt"].st_size == 2
    assert stat.S_ISREG(by_path["a/deep/x.bin"].st_mode)


def test_scan_of_an_empty_dir(ws_fd: int) -> None:
    result = scan(ws_fd)
    assert (result.files, result.symlinks, result.special) == ([], [], [])


def test_scan_does_not_consume_the_callers_fd(ws: Path, ws_fd: int, make_file: MakeFile) -> None:
    make_file(ws / "f", b"1")
    assert len(scan(ws_fd).files) == 1
    assert len(scan(ws_fd).files) == 1
    assert os.fstat(ws_fd).st_ino == ws.stat().st_ino
