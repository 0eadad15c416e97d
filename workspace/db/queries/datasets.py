"""Queries on datasets, versions, entries (manifests), tags and objects."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from workspace.db.base import utc_moment, utcnow
from workspace.db.models import Dataset, Entry, StoredObject, Tag, User, Version
from workspace.db.queries.bulk import insert_rows
from workspace.db.queries.paths import starts_with

_CHUNK = 500


def dataset_by_name(session: Session, name: str, *, lock: bool = False) -> Dataset | None:
    """``lock`` takes a row lock on PostgreSQL (SQLite writers are serialized at BEGIN)."""
    stmt = select(Dataset).where(Dataset.name == name)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def dataset_by_id(session: Session, dataset_id: int) -> Dataset | None:
    return session.get(Dataset, dataset_id)


def dataset_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    rows = session.execute(select(Dataset.id, Dataset.name).where(Dataset.id.in_(set(ids))))
    return {row.id: row.name for row in rows}


def create_dataset(session: Session, name: str, user_id: int, kind: str) -> Dataset:
    dataset = Dataset(name=name, created_by=user_id, latest=0, kind=kind)
    session.add(dataset)
    session.flush()
    return dataset


def version(session: Session, dataset_id: int, number: int) -> Version | None:
    stmt = select(Version).where(Version.dataset_id == dataset_id, Version.number == number)
    return session.scalar(stmt)


def versions(session: Session, dataset_id: int) -> Sequence[Version]:
    stmt = select(Version).where(Version.dataset_id == dataset_id).order_by(Version.number.desc())
    return session.scalars(stmt).all()


def versions_numbered(
    session: Session, dataset_id: int, numbers: Iterable[int]
) -> Sequence[Version]:
    """Only the versions asked for: a path's history touches a few of 10,000."""
    wanted = sorted(set(numbers))
    found: list[Version] = []
    for start in range(0, len(wanted), _CHUNK):
        stmt = select(Version).where(Version.dataset_id == dataset_id,
                                     Version.number.in_(wanted[start:start + _CHUNK]))
        found.extend(session.scalars(stmt))
    return found


def latest_versions(session: Session) -> Sequence[tuple[Dataset, Version]]:
    stmt = (
        select(Dataset, Version)
        .join(Version, and_(Version.dataset_id == Dataset.id, Version.number == Dataset.latest))
        .order_by(Dataset.name)
    )
    return [(row[0], row[1]) for row in session.execute(stmt)]


def tag_target(session: Session, dataset_id: int, tag: str) -> int | None:
    stmt = select(Tag.version).where(Tag.dataset_id == dataset_id, Tag.name == tag)
    return session.scalar(stmt)


def tags_by_version(session: Session, dataset_id: int) -> dict[int, list[str]]:
    stmt = select(Tag.version, Tag.name).where(Tag.dataset_id == dataset_id).order_by(Tag.name)
    found: dict[int, list[str]] = {}
    for number, name in session.execute(stmt):
        found.setdefault(number, []).append(name)
    return found


def add_tag(session: Session, *, dataset_id: int, name: str, version: int, user_id: int) -> None:
    session.add(Tag(dataset_id=dataset_id, name=name, version=version, created_by=user_id))
    session.flush()


def live_entries(session: Session, dataset_id: int) -> Sequence[Entry]:
    stmt = select(Entry).where(Entry.dataset_id == dataset_id, Entry.removed_in.is_(None))
    return session.scalars(stmt).all()


def entries_at(
    session: Session, dataset_id: int, number: int, prefix: str | None = None
) -> Sequence[Any]:
    """The manifest of version ``number`` as rows (path, oid, size, executable).

    Entries added at or before it and not yet removed. Plain rows, not ORM
    objects: a 100,000-file manifest loads several times faster.
    """
    stmt = (
        select(Entry.path, Entry.oid, Entry.size, Entry.executable)
        .where(Entry.dataset_id == dataset_id, *_live_at(number))
        .order_by(Entry.path)
    )
    if prefix:
        stmt = stmt.where(starts_with(Entry.path, prefix))
    return session.execute(stmt).all()


def entry_at(session: Session, dataset_id: int, number: int, path: str) -> Any | None:
    """The row (path, oid, size, executable) of one file of version ``number``, or None."""
    stmt = select(Entry.path, Entry.oid, Entry.size, Entry.executable).where(
        Entry.dataset_id == dataset_id, Entry.path == path, *_live_at(number))
    return session.execute(stmt).first()


def blame_rows(session: Session, dataset_id: int, number: int, prefix: str | None = None,
               *, oids: bool = True) -> list[tuple[Any, ...]]:
    """Each live file at ``number`` and the version that last changed it, by path (code
    point order, whatever the database's collation): rows of (path, size, added_in, oid),
    without the oid if ``oids`` is false. One read of the covering index
    ``ix_entries_by_path_covering``, in path order; the versions are described apart,
    once each (``version_notes``), not joined onto every row. Fetched as the driver's
    tuples: for 100,000 files a result Row per file cost as much as the query."""
    rows = _driver_rows(session, blame_statement(dataset_id, number, prefix, oids=oids))
    # SQLite's order is already code point order (a few ms to confirm); a PostgreSQL
    # collation other than "C" may differ. Paths are unique among live entries.
    rows.sort()
    return rows


def blame_statement(dataset_id: int, number: int, prefix: str | None = None, *,
                    oids: bool = True) -> Any:
    """``blame_rows``'s query (a test reads its plan)."""
    columns = (Entry.path, Entry.size, Entry.added_in, *((Entry.oid,) if oids else ()))
    stmt = (
        select(*columns)
        .where(Entry.dataset_id == dataset_id, *_live_at(number))
        .order_by(Entry.path)
    )
    if prefix:
        stmt = stmt.where(starts_with(Entry.path, prefix))
    return stmt


def version_notes(session: Session, dataset_id: int,
                  numbers: set[int]) -> list[tuple[int, str, Any, str, str | None]]:
    """(number, author, created_at, message, git_commit) of the versions named, in one
    query; when many are named, every version of the dataset is read and the rest left
    out (one range beats dozens of ``IN`` lists). Read as the driver's tuples, only
    ``created_at`` converted (``utc_moment``): SQLAlchemy's rows and its SQLite timestamp
    parser took 80 ms for 10,000 versions, four times as long."""
    stmt = (
        select(Version.number, User.name, Version.created_at, Version.message,
               Version.git_commit)
        .outerjoin(User, User.id == Version.author_id)
        .where(Version.dataset_id == dataset_id)
    )
    if len(numbers) <= _CHUNK:
        stmt = stmt.where(Version.number.in_(sorted(numbers)))
    return [(n, author or "?", utc_moment(at), message, commit)
            for n, author, at, message, commit in _driver_rows(session, stmt) if n in numbers]


def _driver_rows(session: Session, stmt: Any) -> list[Any]:
    """All rows of ``stmt`` as the database driver returns them (tuples), in the session's
    transaction, without SQLAlchemy's result processing: only for columns that need none
    (strings, integers) or that the caller converts (``utc_moment``)."""
    connection = session.connection()
    compiled = stmt.compile(dialect=connection.dialect,
                            compile_kwargs={"render_postcompile": True})  # IN lists
    params = compiled.construct_params()
    args: Any = params
    if compiled.positional:  # SQLite's "?": the values in the statement's order
        args = [params[name] for name in compiled.positiontup or ()]
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def path_history(session: Session, dataset_id: int, path: str) -> Sequence[Entry]:
    stmt = (
        select(Entry)
        .where(Entry.dataset_id == dataset_id, Entry.path == path)
        .order_by(Entry.added_in)
    )
    return session.scalars(stmt).all()


def history_under(session: Session, dataset_id: int, prefix: str) -> Sequence[Any]:
    """Every entry, past and present, whose path starts with ``prefix`` (a directory's
    history): rows of (path, size, added_in, removed_in)."""
    stmt = (
        select(Entry.path, Entry.size, Entry.added_in, Entry.removed_in)
        .where(Entry.dataset_id == dataset_id, starts_with(Entry.path, prefix))
        .order_by(Entry.added_in)
    )
    return session.execute(stmt).all()


def end_entries(session: Session, entry_ids: Sequence[int], number: int) -> None:
    for start in range(0, len(entry_ids), _CHUNK):
        chunk = entry_ids[start : start + _CHUNK]
        session.execute(update(Entry).where(Entry.id.in_(chunk)).values(removed_in=number))


_ENTRY_COLUMNS = ("dataset_id", "path", "oid", "size", "executable", "added_in", "removed_in")


def insert_entries(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Rows of :data:`_ENTRY_COLUMNS` (tuples: see bulk.py, per-row cost matters here)."""
    insert_rows(session, Entry, _ENTRY_COLUMNS, rows)


def record_objects(session: Session, sizes: dict[str, int]) -> None:
    """Insert the objects not yet known; a known one keeps its row (and its ``created_at``).

    In id order: random ids inserted in turn touch a random page of the key's
    B-tree each; sorted, each page is touched once (10,000 rows into SQLite: about
    half the time)."""
    rows = [(oid, sizes[oid]) for oid in sorted(sizes)]
    insert_rows(session, StoredObject, ("oid", "size"), rows, same={"created_at": utcnow()},
                skip_existing=True)


def user_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    rows = session.execute(select(User.id, User.name).where(User.id.in_(set(ids))))
    return {row.id: row.name for row in rows}


def _live_at(number: int) -> tuple[Any, ...]:
    return (
        Entry.added_in <= number,
        or_(Entry.removed_in.is_(None), Entry.removed_in > number),
    )
