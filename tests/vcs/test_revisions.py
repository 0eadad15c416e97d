"""Files and pointer files at a git revision, read without touching the work tree."""

from __future__ import annotations

import pytest

from workspace.errors import InvalidInput, NotFound
from workspace.vcs.revisions import (
    changed_pointers,
    parse_range,
    pointer_files_at,
    read_blob,
    resolve,
)

from .conftest import GitRepo

V1 = b'dataset = "vision/cats"\nversion = 1\n'
V2 = b'dataset = "vision/cats"\nversion = 2\n'
DOGS = b'dataset = "vision/dogs"\nversion = 1\n'


@pytest.fixture
def history(repo: GitRepo) -> GitRepo:
    """v1.0: data.ws (cats@1), sub/dogs.ws; main: data.ws is cats@2, sub/dogs.ws gone,
    models/m.ws added, code changed."""
    repo.commit("v1", **{"data.ws": V1, "sub__dogs.ws": DOGS, "train.py": "v1\n"})
    repo.git("tag", "-a", "v1.0", "-m", "release")
    repo.git("rm", "-q", "sub/dogs.ws")
    repo.commit("v2", **{"data.ws": V2, "models__m.ws": DOGS, "train.py": "v2\n"})
    return repo


def test_resolve_names_commits(history: GitRepo) -> None:
    opened = history.open()
    head = history.git("rev-parse", "HEAD")
    first = history.git("rev-parse", "v1.0^{commit}")
    assert resolve(opened, "main") == head
    assert resolve(opened, "HEAD~1") == first
    assert resolve(opened, "v1.0") == first  # an annotated tag peels to its commit
    assert resolve(opened, first[:10]) == first


def test_resolve_explains_what_is_wrong(history: GitRepo) -> None:
    opened = history.open()
    with pytest.raises(NotFound, match=r"'v9\.9' not found") as caught:
        resolve(opened, "v9.9")
    assert "git log" in (caught.value.hint or "")
    with pytest.raises(InvalidInput, match="not a git revision"):
        resolve(opened, "main..")
    with pytest.raises(InvalidInput, match="names a tree, not a commit"):
        resolve(opened, "HEAD^{tree}")


def test_an_unborn_head_resolves_to_nothing(repo: GitRepo) -> None:
    with pytest.raises(NotFound, match="'HEAD' not found"):
        resolve(repo.open(), "HEAD")


def test_read_blob_at_an_older_revision(history: GitRepo) -> None:
    opened = history.open()
    assert read_blob(opened, "v1.0", "data.ws") == V1
    assert read_blob(opened, "main", "./data.ws") == V2
    assert read_blob(opened, "v1.0", "sub/dogs.ws") == DOGS
    assert read_blob(opened, "main", "sub/dogs.ws") is None
    assert read_blob(opened, "main", "models") is None  # a directory is not a file
    with pytest.raises(InvalidInput, match="not a path inside the repository"):
        read_blob(opened, "main", "../etc/passwd")


def test_pointer_files_at_an_old_revision_leave_the_work_tree_alone(history: GitRepo) -> None:
    history.write("data.ws", b"edited, not committed\n")
    before = history.git("status", "--porcelain")
    head = history.git("rev-parse", "HEAD")

    found = pointer_files_at(history.open(), "v1.0")

    assert found == {"data.ws": V1, "sub/dogs.ws": DOGS}
    assert history.git("status", "--porcelain") == before
    assert history.git("rev-parse", "HEAD") == head
    assert (history.root / "data.ws").read_bytes() == b"edited, not committed\n"


def test_pointer_files_below_a_directory(history: GitRepo) -> None:
    opened = history.open()
    assert pointer_files_at(opened, "v1.0", under="sub") == {"sub/dogs.ws": DOGS}
    assert pointer_files_at(opened, "v1.0", under="sub/") == {"sub/dogs.ws": DOGS}
    assert pointer_files_at(opened, "main", under="sub") == {}
    assert pointer_files_at(opened, "main", under="train.py") == {}


def test_only_regular_files_are_pointer_files(repo: GitRepo) -> None:
    repo.write("real.ws", V1)
    (repo.root / "link.ws").symlink_to("real.ws")
    (repo.root / "dir.ws").mkdir()
    repo.write("dir.ws/inner.ws", DOGS)
    repo.commit("odd names", **{"notes.txt": "x\n"})
    assert pointer_files_at(repo.open(), "HEAD") == {"real.ws": V1, "dir.ws/inner.ws": DOGS}


def test_changed_pointers_between_two_revisions(history: GitRepo) -> None:
    assert changed_pointers(history.open(), "v1.0", "main") == [
        ("data.ws", V1, V2),
        ("models/m.ws", None, DOGS),
        ("sub/dogs.ws", DOGS, None),
    ]


def test_changed_pointers_the_other_way_and_below_a_directory(history: GitRepo) -> None:
    opened = history.open()
    assert changed_pointers(opened, "main", "v1.0") == [
        ("data.ws", V2, V1),
        ("models/m.ws", DOGS, None),
        ("sub/dogs.ws", None, DOGS),
    ]
    assert changed_pointers(opened, "v1.0", "main", under="sub") == [("sub/dogs.ws", DOGS, None)]
    assert changed_pointers(opened, "v1.0", "main", under="models") == [("models/m.ws", None, DOGS)]
    assert changed_pointers(opened, "v1.0", "v1.0") == []
    assert changed_pointers(opened, "v1.0", "main", under="nowhere") == []


def test_changed_pointers_ignore_other_files(repo: GitRepo) -> None:
    repo.commit("one", **{"data.ws": V1, "train.py": "v1\n"})
    repo.commit("two", **{"train.py": "v2\n", "README.md": "hello\n"})
    assert changed_pointers(repo.open(), "HEAD~1", "HEAD") == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("v1.0..main", ("v1.0", "main")), ("v1.0..", ("v1.0", "HEAD")), ("..main", ("HEAD", "main"))],
)
def test_parse_range(spec: str, expected: tuple[str, str]) -> None:
    assert parse_range(spec) == expected


@pytest.mark.parametrize("spec", ["main", "a...b", "..", ""])
def test_parse_range_refuses_what_is_not_a_range(spec: str) -> None:
    with pytest.raises(InvalidInput, match="not a revision range") as caught:
        parse_range(spec)
    assert "A..B" in (caught.value.hint or "")
