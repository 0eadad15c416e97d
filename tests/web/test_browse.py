"""The dashboard's paged views against the full views they stand for (oracle tests).

A random history (adds, edits, deletions, re-adds, executable-bit flips) is
committed through the real commit service into a migrated SQLite and
PostgreSQL database. Then: the range diff of two versions equals
``history.diff`` (neighbours both ways, and random pairs); paging through a
version's files, forwards or backwards, with or without a search, visits
exactly its manifest in path order with each file's blame; paging through
versions visits every version.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.blame import blamed as blame_rows
from tests.support.databases import database
from workspace.auth import Caller
from workspace.datasets import browse, history
from workspace.datasets.manifest import ManifestEntry
from workspace.datasets.versions import commit, manifest_at, resolve
from workspace.db import Database, migrate
from workspace.db.queries import datasets as dq
from workspace.db.queries import users
from workspace.refs import Ref

VERSIONS = 24
NAMES = [f"{d}/{f}" for d in ("Alpha", "beta", "beta/deep", "gamma_1") for f in
         ("a.csv", "b%.txt", "c_d.bin", "E.json", "f.txt")]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
       ) -> Iterator[Database]:
    with database(request.param, tmp_path_factory.mktemp("browse")) as url:
        migrate(url)
        opened = Database(url)
        _history(opened)
        yield opened
        opened.dispose()


def _history(db: Database) -> None:
    rng = random.Random(7)
    with db.write() as session:
        authors = [users.create(session, name=name, uid=None) for name in ("ann", "ben")]
    live: dict[str, ManifestEntry] = {}
    number = 0
    while number < VERSIONS:  # a change that changes nothing makes no version: retry
        _change(rng, live)
        author = rng.choice(authors)
        with db.write() as session:
            outcome = commit(session, dataset_name="vision/cats",
                             author=Caller(author.id, author.name, None),
                             message=f"change {number + 1}", manifest=dict(live),
                             base=number or None)
        number = outcome.version.number
    with db.write() as session:
        commit(session, dataset_name="other/set", author=Caller(authors[0].id, "ann", None),
               message="other", manifest=dict(live), base=None)


def _change(rng: random.Random, live: dict[str, ManifestEntry]) -> None:
    for path in rng.sample(NAMES, rng.randint(1, 8)):
        old = live.get(path)
        if old is not None and rng.random() < 0.3:
            del live[path]
            continue
        executable = (not old.executable) if old is not None and rng.random() < 0.2 else False
        content = f"{path}-{rng.randint(0, 3)}"  # the same content comes back sometimes
        live[path] = ManifestEntry(path, content.encode().hex().ljust(64, "0")[:64],
                                   len(content), executable)


def _as_lists(answer: dict[str, list[dict[str, object]]]) -> dict[str, list[str]]:
    return {kind: [c["path"] for c in answer[kind]] for kind in ("added", "modified", "deleted")}


def _pairs(latest: int) -> list[tuple[int, int]]:
    """Every version with itself and its neighbours both ways, and 150 random pairs (all
    576 pairs, each diffed twice, took minutes on a busy PostgreSQL)."""
    near = [(a, b) for a in range(1, latest + 1) for b in (a - 1, a, a + 1)
            if 1 <= b <= latest]
    every = [(a, b) for a in range(1, latest + 1) for b in range(1, latest + 1)]
    return near + random.Random(5).sample(every, 150)


def test_the_range_diff_equals_the_full_diff(db: Database) -> None:
    with db.read() as session:
        latest = resolve(session, Ref("vision/cats"))[1].number
        for a, b in _pairs(latest):
            ref_a, ref_b = Ref("vision/cats", a), Ref("vision/cats", b)
            page = browse.diff_page(session, ref_a, ref_b, limit=10_000)
            full = history.diff(session, ref_a, ref_b)
            found = {kind: [c.path for c in page.changes if c.kind == kind]
                     for kind in ("added", "modified", "deleted")}
            assert found == _as_lists(full), (a, b)
            assert page.counts == {kind: len(v) for kind, v in found.items()}
            sizes = {c.path: (c.old.size if c.old else None, c.new.size if c.new else None)
                     for c in page.changes}
            assert sizes == {**{c["path"]: (None, c["size"]) for c in full["added"]},
                             **{c["path"]: (c["old_size"], c["new_size"])
                                for c in full["modified"]},
                             **{c["path"]: (c["size"], None) for c in full["deleted"]}}


def test_a_diff_across_datasets_compares_whole_versions(db: Database) -> None:
    with db.read() as session:
        page = browse.diff_page(session, Ref("vision/cats", 3), Ref("other/set"))
        full = history.diff(session, Ref("vision/cats", 3), Ref("other/set"))
    assert {k: [c.path for c in page.changes if c.kind == k] for k in page.counts} == \
        _as_lists(full)


def test_a_long_diff_is_listed_in_part_and_counted_in_full(db: Database) -> None:
    with db.read() as session:
        page = browse.diff_page(session, Ref("vision/cats", 1), Ref("vision/cats"), limit=3)
    assert len(page.changes) == 3 and page.truncated
    assert sum(page.counts.values()) > 3


def _walk_forward(session: object, ref: Ref, search: str | None) -> list[browse.FileRow]:
    seen: list[browse.FileRow] = []
    after = None
    while True:
        page = browse.files_page(session, ref, search=search, after=after,  # type: ignore[arg-type]
                                 limit=4)
        seen += page.files
        assert page.has_previous == (after is not None and bool(page.files))
        if not page.has_next:
            return seen
        after = page.files[-1].path


def _walk_backward(session: object, ref: Ref, search: str | None, last: str) -> list[str]:
    seen: list[str] = [last]
    before: str | None = last
    while before is not None:
        page = browse.files_page(session, ref, search=search, before=before,  # type: ignore[arg-type]
                                 limit=4)
        seen = [f.path for f in page.files] + seen
        assert page.has_next  # ``before`` itself comes next
        before = page.files[0].path if page.has_previous else None
    return seen


def test_blame_columns_are_in_path_order_and_a_prefix_keeps_exactly_its_files(
        db: Database) -> None:
    """Blame reads its rows past SQLAlchemy's results (the driver's own cursor): the same
    answer on SQLite and PostgreSQL, prefixes with LIKE's own characters included, and
    ASCII case counting on both (SQLite's LIKE ignores it)."""
    with db.read() as session:
        ref = Ref("vision/cats", VERSIONS)
        whole = history.blame(session, ref, None, "no-store")
        assert whole["paths"] == sorted(manifest_at(session, resolve(session, ref)[0].id,
                                                    VERSIONS))
        assert set(whole["versions"]) == {str(n) for n in whole["path_versions"]}
        for prefix in ("beta/", "BETA/", "%", "_", "beta/deep"):  # case counts
            part = history.blame(session, ref, prefix, "no-store")
            assert part["paths"] == [p for p in whole["paths"] if p.startswith(prefix)]
            assert blame_rows(part) == {p: f for p, f in blame_rows(whole).items()
                                        if p.startswith(prefix)}


@pytest.mark.parametrize("prefix", [None, "beta/"])
def test_blame_without_oids_is_the_same_answer_less_that_column(db: Database,
                                                                prefix: str | None) -> None:
    with db.read() as session:
        ref = Ref("vision/cats", VERSIONS)
        whole = history.blame(session, ref, prefix, "no-store")
        lean = history.blame(session, ref, prefix, "no-store", oids=False)
    assert whole["oids"] and "oids" not in lean
    assert list(lean) == [key for key in whole if key != "oids"]
    assert lean == {key: value for key, value in whole.items() if key != "oids"}
    with db.read() as session:  # no file under it: every column empty, still no oids
        assert "oids" not in history.blame(session, ref, "nothing/", "no-store", oids=False)


@pytest.mark.parametrize("number", [VERSIONS, 3])
def test_blame_describes_each_version_as_the_models_read_it(db: Database, number: int) -> None:
    """Its version table is read past SQLAlchemy's result processing: the times are still
    the versions' own (aware, UTC), on SQLite's text as on PostgreSQL's timestamps."""
    with db.read() as session:
        answer = history.blame(session, Ref("vision/cats", number), None, "no-store")
        dataset = resolve(session, Ref("vision/cats", number))[0]
        for key, described in answer["versions"].items():
            version = dq.version(session, dataset.id, int(key))
            assert version is not None
            author = dq.user_names(session, [version.author_id])[version.author_id]
            assert described == {"author": author,
                                 "created_at": version.created_at,
                                 "message": version.message, "git_commit": None,
                                 "pruned": False}
            assert described["created_at"].utcoffset() == timedelta(0)


@pytest.mark.parametrize("search", [None, "beta", "BETA/DEEP", "%", "_d", "nothing-like-it"])
def test_paging_visits_the_manifest_in_order_with_each_files_blame(
        db: Database, search: str | None) -> None:
    with db.read() as session:
        for number in (1, VERSIONS // 2, VERSIONS):
            ref = Ref("vision/cats", number)
            manifest = manifest_at(session, resolve(session, ref)[0].id, number)
            wanted = sorted(p for p in manifest if not search or search.lower() in p.lower())
            rows = _walk_forward(session, ref, search)
            assert [r.path for r in rows] == wanted, (number, search)
            first = browse.files_page(session, ref, search=search)
            assert first.matches == len(wanted)
            blamed = {path: (f["version"], f["author"]) for path, f in
                      blame_rows(history.blame(session, ref, None, "no-store")).items()}
            assert {r.path: (r.changed_in, r.author) for r in rows} == {
                p: blamed[p] for p in wanted}
            assert all(r.size == manifest[r.path].size for r in rows)
            if len(wanted) > 1:
                assert _walk_backward(session, ref, search, wanted[-1]) == wanted


def test_paging_through_versions_visits_each_once_newest_first(db: Database) -> None:
    with db.read() as session:
        numbers: list[int] = []
        below = None
        while True:
            page = browse.versions_page(session, "vision/cats", below=below, limit=5)
            numbers += [v.number for v in page.versions]
            if page.next_below is None:
                break
            below = page.next_below
    assert numbers == list(range(VERSIONS, 0, -1))


def test_a_search_longer_than_allowed_is_refused(db: Database, tmp_path: Path) -> None:
    from workspace.errors import InvalidInput

    with db.read() as session, pytest.raises(InvalidInput):
        browse.files_page(session, Ref("vision/cats"), search="x" * 201)
