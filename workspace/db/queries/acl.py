"""Queries on the object-ACL index: stores, holdings, their objects, private copies.

Sets of object ids are sent in chunks of ``CHUNK`` (``IN`` lists stay well
inside SQLite's and PostgreSQL's parameter limits).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from workspace.db.base import utcnow
from workspace.db.models import Dataset, TrackedPath, Workspace
from workspace.db.models_acl import AclCopy, AclHolding, AclObject, AclStore
from workspace.db.queries.bulk import insert_many

CHUNK = 500


class Claim(NamedTuple):
    """One reason for an entry: ``oid`` is in a holding of (tag, ident) whose state is this."""

    oid: str
    tag: int
    ident: int
    state: str


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ---- stores ---------------------------------------------------------------------------


def store_row(session: Session, token: str) -> AclStore:
    """The row of the store with this token, created on first use."""
    row = session.scalar(select(AclStore).where(AclStore.token == token))
    if row is None:
        row = AclStore(token=token, evaluated_version=None, converted=False)
        session.add(row)
        session.flush()
    return row


def request_evaluation(session: Session) -> None:
    """Every store re-evaluates its holdings soon (an account changed: not a policy version)."""
    session.execute(update(AclStore).values(evaluated_version=None))


# ---- holdings -------------------------------------------------------------------------


def holding(session: Session, store_id: int, tag: int, ident: int,
            dataset: str) -> AclHolding | None:
    return session.scalar(select(AclHolding).where(
        AclHolding.store_id == store_id, AclHolding.tag == tag, AclHolding.ident == ident,
        AclHolding.dataset == dataset))


def add_holding(session: Session, store_id: int, tag: int, ident: int, dataset: str,
                state: str) -> AclHolding:
    row = AclHolding(store_id=store_id, tag=tag, ident=ident, dataset=dataset, state=state,
                     dirty=False, reason="grant", generation=0, done=0, total=0)
    session.add(row)
    session.flush()
    return row


def holdings(session: Session, store_id: int) -> Sequence[AclHolding]:
    return session.scalars(select(AclHolding).where(AclHolding.store_id == store_id)
                           .order_by(AclHolding.id)).all()


def holdings_of(session: Session, store_id: int, tag: int,
                ident: int) -> Sequence[AclHolding]:
    return session.scalars(select(AclHolding).where(
        AclHolding.store_id == store_id, AclHolding.tag == tag,
        AclHolding.ident == ident)).all()


def dirty(session: Session, store_id: int) -> Sequence[AclHolding]:
    return session.scalars(select(AclHolding).where(
        AclHolding.store_id == store_id, AclHolding.dirty.is_(True))
        .order_by(AclHolding.changed_at, AclHolding.id)).all()


def mark(session: Session, row: AclHolding, state: str, reason: str) -> None:
    """A new state: every object and copy of the holding gets its ACL rewritten (queued)."""
    row.state, row.reason, row.dirty = state, reason, True
    row.cursor, row.done, row.changed_at = None, 0, utcnow()
    row.generation += 1
    row.total = object_count(session, row.id) + copy_count(session, row.id)


def progress(session: Session, holding_id: int, cursor: str | None, done: int,
             generation: int) -> None:
    """Advance the rewrite, unless the holding was re-marked meanwhile (it starts over)."""
    session.execute(update(AclHolding).where(AclHolding.id == holding_id,
                                             AclHolding.generation == generation)
                    .values(cursor=cursor, done=done))


def delete_holding(session: Session, holding_id: int) -> None:
    session.execute(delete(AclHolding).where(AclHolding.id == holding_id))


def tracked_datasets(session: Session, owner_id: int,
                     exclude_workspace: int | None = None,
                     exclude_tracked: int | None = None) -> set[str]:
    """Datasets the user's tracked paths hold (but those of one workspace, or one path)."""
    stmt = (select(Dataset.name).join(TrackedPath, TrackedPath.dataset_id == Dataset.id)
            .join(Workspace, Workspace.id == TrackedPath.workspace_id)
            .where(Workspace.owner_id == owner_id))
    if exclude_workspace is not None:
        stmt = stmt.where(Workspace.id != exclude_workspace)
    if exclude_tracked is not None:
        stmt = stmt.where(TrackedPath.id != exclude_tracked)
    return set(session.scalars(stmt))


# ---- objects --------------------------------------------------------------------------


def add_objects(session: Session, holding_id: int, oids: Iterable[str]) -> list[str]:
    """Record the holding's objects (as pending) unless known; returns those that were new.

    A holding with no object yet (a user's first checkout of a dataset) needs no
    look-up: every one is new."""
    wanted = sorted(set(oids))
    column = AclObject.__table__.c
    new: list[str] = []
    empty = session.scalar(select(column.oid).where(column.holding_id == holding_id)
                           .limit(1)) is None
    for part in chunks(wanted):
        known = set() if empty else set(session.scalars(select(column.oid).where(
            column.holding_id == holding_id, column.oid.in_(part))))
        new += [oid for oid in part if oid not in known]
    insert_many(session, AclObject, [{"oid": oid} for oid in new],  # Core: the ORM's bulk
                same={"holding_id": holding_id, "pending": True})  # insert was 1/10 of a get
    return new


def settle(session: Session, holding_id: int, oids: Sequence[str]) -> None:
    """These objects' entries are set: no longer pending.

    One statement run for every row (``executemany``): an ``IN`` list of 500 ids
    was compiled again for every 500 (a tenth of a grant's time in the daemon)."""
    if not oids:
        return
    table = AclObject.__table__
    assert isinstance(table, Table)
    column = table.c
    stmt = (update(table).where(column.holding_id == bindparam("h"),
                                column.oid == bindparam("o")).values(pending=False))
    session.execute(stmt, [{"h": holding_id, "o": oid} for oid in sorted(oids)])


def remove_objects(session: Session, holding_id: int, oids: Sequence[str]) -> None:
    column = AclObject.__table__.c
    for part in chunks(sorted(oids)):
        session.execute(delete(AclObject).where(column.holding_id == holding_id,
                                                column.oid.in_(part)))


def pending(session: Session, store_id: int) -> list[str]:
    """Objects whose entries may not be set yet (a crash between row and entry)."""
    stmt = (select(AclObject.oid).join(AclHolding, AclHolding.id == AclObject.holding_id)
            .where(AclHolding.store_id == store_id, AclObject.pending.is_(True)).distinct())
    return sorted(session.scalars(stmt))


def settle_all(session: Session, store_id: int, oids: Sequence[str]) -> None:
    ids = select(AclHolding.id).where(AclHolding.store_id == store_id)
    column = AclObject.__table__.c
    for part in chunks(sorted(oids)):
        session.execute(update(AclObject).where(column.holding_id.in_(ids),
                                                column.oid.in_(part)).values(pending=False))


def settle_store(session: Session, store_id: int) -> None:
    """Every row of the store settled: after every object was rewritten from the index."""
    ids = select(AclHolding.id).where(AclHolding.store_id == store_id)
    session.execute(update(AclObject).where(AclObject.holding_id.in_(ids),
                                            AclObject.pending.is_(True)).values(pending=False))


def objects_after(session: Session, holding_id: int, after: str | None,
                  limit: int) -> list[str]:
    """The holding's objects in id order, after ``after`` (the cursor of a resumed rewrite)."""
    column = AclObject.__table__.c
    stmt = select(column.oid).where(column.holding_id == holding_id)
    if after is not None:
        stmt = stmt.where(column.oid > after)
    return list(session.scalars(stmt.order_by(column.oid).limit(limit)))


def claims(session: Session, store_id: int, oids: Sequence[str]) -> list[Claim]:
    """Every holding (with its state) that contains one of ``oids``."""
    found: list[Claim] = []
    h = AclHolding.__table__.c
    o = AclObject.__table__.c
    for part in chunks(sorted(set(oids))):
        stmt = (select(o.oid, h.tag, h.ident, h.state).join(AclHolding, h.id == o.holding_id)
                .where(h.store_id == store_id, o.oid.in_(part)))
        found += [Claim(*row) for row in session.execute(stmt)]
    return found


def all_object_ids(session: Session, store_id: int) -> list[str]:
    stmt = (select(AclObject.oid).join(AclHolding, AclHolding.id == AclObject.holding_id)
            .where(AclHolding.store_id == store_id).distinct())
    return sorted(session.scalars(stmt))


def forget_objects(session: Session, store_id: int, oids: Sequence[str],
                   dataset: str | None = None) -> None:
    """Drop the rows of ``oids`` (of one dataset's holdings, or all): for gc and prune.

    The caller rewrites those objects' ACLs afterwards (or deletes the objects).
    """
    ids = select(AclHolding.id).where(AclHolding.store_id == store_id)
    if dataset is not None:
        ids = ids.where(AclHolding.dataset == dataset)
    column = AclObject.__table__.c
    for part in chunks(sorted(oids)):
        session.execute(delete(AclObject).where(column.holding_id.in_(ids),
                                                column.oid.in_(part)))


def object_count(session: Session, holding_id: int) -> int:
    return session.scalar(select(func.count()).select_from(AclObject)
                          .where(AclObject.holding_id == holding_id)) or 0


# ---- copies ---------------------------------------------------------------------------


class CopyFile(NamedTuple):
    path: str
    executable: bool
    dev: int
    ino: int


def record_copies(session: Session, holding_id: int, owner_uid: int, root: str,
                  files: Sequence[CopyFile]) -> None:
    """These files under ``root`` are now the holding's copies (replacing older rows)."""
    column = AclCopy.__table__.c
    for part in chunks([f.path for f in files]):
        session.execute(delete(AclCopy).where(column.root == root, column.path.in_(part)))
    session.execute(insert(AclCopy), [
        {"holding_id": holding_id, "owner_uid": owner_uid, "root": root, "path": f.path,
         "executable": f.executable, "dev": f.dev, "ino": f.ino, "released": False}
        for f in files])


def copies_of(session: Session, holding_id: int) -> Sequence[AclCopy]:
    return session.scalars(select(AclCopy).where(AclCopy.holding_id == holding_id)
                           .order_by(AclCopy.id)).all()


def copy_count(session: Session, holding_id: int) -> int:
    return session.scalar(select(func.count()).select_from(AclCopy)
                          .where(AclCopy.holding_id == holding_id)) or 0


def copies_under(session: Session, root: str, prefix: str | None = None) -> Sequence[AclCopy]:
    """The copies in the workspace ``root`` (below the tracked path ``prefix`` if given)."""
    rows = session.scalars(select(AclCopy).where(AclCopy.root == root)).all()
    if prefix is None:
        return rows
    return [r for r in rows if r.path == prefix or r.path.startswith(prefix + "/")]


def release(session: Session, ids: Sequence[int]) -> None:
    for start in range(0, len(ids), CHUNK):
        session.execute(update(AclCopy).where(AclCopy.id.in_(ids[start:start + CHUNK]))
                        .values(released=True))


def released(session: Session, store_id: int) -> Sequence[AclCopy]:
    ids = select(AclHolding.id).where(AclHolding.store_id == store_id)
    return session.scalars(select(AclCopy).where(AclCopy.released.is_(True),
                                                 AclCopy.holding_id.in_(ids))).all()


def delete_copies(session: Session, ids: Sequence[int]) -> None:
    for start in range(0, len(ids), CHUNK):
        session.execute(delete(AclCopy).where(AclCopy.id.in_(ids[start:start + CHUNK])))


# ---- overview -------------------------------------------------------------------------


def counts(session: Session, store_id: int) -> dict[str, int]:
    ids = select(AclHolding.id).where(AclHolding.store_id == store_id)
    objects = select(func.count()).select_from(AclObject).where(AclObject.holding_id.in_(ids))
    return {
        "holdings": session.scalar(select(func.count()).select_from(ids.subquery())) or 0,
        "entries": session.scalar(objects) or 0,
        "pending": session.scalar(objects.where(AclObject.pending.is_(True))) or 0,
        "copies": session.scalar(select(func.count()).select_from(AclCopy)
                                 .where(AclCopy.holding_id.in_(ids))) or 0,
    }
