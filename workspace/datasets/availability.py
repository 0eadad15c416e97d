"""Which versions may still be used: not pruned, and (for their bytes) not damaged.

Pruned versions keep their rows (``ws log`` and ``ws blame`` show them and who
pruned them) but disappear from ``ls``, ``get``, ``checkout``, ``diff`` and
``tag``; ``DATASET`` alone means its newest kept version. A damaged version
(one of its objects failed fsck or scrub) is refused wherever its bytes or
its claims about them would be served (``ls``, ``get``, ``checkout``,
``blame``) with ``StoreCorrupt`` (exit 7) until ``ws fsck --repair``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from workspace.datasets.versions import resolve
from workspace.db.models import Dataset, Version
from workspace.db.queries import datasets as dq
from workspace.db.queries import health as hq
from workspace.db.queries import upkeep as uq
from workspace.errors import NotFound, StoreCorrupt
from workspace.maintenance.references import Liveness
from workspace.refs import Ref


def resolve_kept(session: Session, ref: Ref) -> tuple[Dataset, Version]:
    """Like ``versions.resolve``, refusing pruned versions (NotFound, saying who pruned it)."""
    if ref.version is None and ref.label is None:
        dataset = dq.dataset_by_name(session, ref.dataset)
        if dataset is not None and dataset.latest > 0:
            newest = uq.latest_kept(session, dataset.id)
            if newest is None:
                raise _removed(session, dataset)
            ref = Ref(ref.dataset, version=newest)
    dataset, version = resolve(session, ref)
    pruned = uq.pruned_one(session, dataset.id, version.number)
    if pruned is not None:
        raise NotFound(
            f"{dataset.name}@{version.number} was pruned by {pruned['by']} on "
            f"{_when(pruned['at'])} ({pruned['how']}): its files are no longer kept",
            hint=f"`ws log {dataset.name}` shows the versions that remain",
            details={"dataset": dataset.name, "version": version.number,
                     "pruned": {**pruned, "at": _iso(pruned["at"])}})
    return dataset, version


def resolve_usable(session: Session, ref: Ref, store_id: str) -> tuple[Dataset, Version]:
    """``resolve_kept``, also refusing a damaged version (StoreCorrupt, exit 7)."""
    dataset, version = resolve_kept(session, ref)
    bad = hq.damaged_files(session, store_id, dataset.id, version.number)
    if bad:
        shown = ", ".join(f"{row.path} ({row.problem})" for row in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise StoreCorrupt(
            f"{dataset.name}@{version.number} is damaged: {shown}{more} failed verification "
            "in the store, so it is not served",
            hint="an admin can restore it with `ws fsck --repair` (from any workspace that "
            "still has a good copy); other versions are not affected",
            details={"dataset": dataset.name, "version": version.number,
                     "damaged": [{"path": r.path, "oid": r.oid, "problem": r.problem}
                                 for r in bad]})
    return dataset, version


def damaged_versions(session: Session, store_id: str, dataset_id: int) -> dict[int, list[str]]:
    """version -> paths of damaged objects, for the dataset's kept versions."""
    rows = hq.damaged_ranges(session, store_id, dataset_id)
    if not rows:
        return {}
    liveness = Liveness.load(session)
    found: dict[int, list[str]] = {}
    for row in rows:
        for number in liveness.kept_numbers(row.dataset_id, row.added_in, row.removed_in):
            found.setdefault(number, []).append(row.path)
    return found


def _removed(session: Session, dataset: Dataset) -> NotFound:
    last = uq.pruned_one(session, dataset.id, dataset.latest) or {}
    return NotFound(
        f"dataset {dataset.name} was removed by {last.get('by', '?')} on "
        f"{_when(last.get('at'))}: every version is pruned",
        hint=f"`ws log {dataset.name}` still shows its history; `ws add` can start it again",
        details={"dataset": dataset.name, "removed": True})


def _iso(moment: object) -> str | None:
    return moment.isoformat() if isinstance(moment, datetime) else None


def _when(moment: object) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if isinstance(moment, datetime) else "?"
