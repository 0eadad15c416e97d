"""Aliases: names that move between versions (``production``), with their whole history.

A tag names one version forever; an alias is moved on purpose, by someone,
for a reason: every set, move and removal is kept (``alias_moves``) and
audited in the same transaction. Tags and aliases share one namespace per
dataset, so ``DATASET@NAME`` always means one thing (refs.py): setting an
alias named like a tag is refused, and so is the reverse (history.tag).

Who may move which alias is decided before this runs (api/resources.py:
``maintain`` on the dataset; ``promote`` for protected names such as
``production``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workspace.audit import Action, record
from workspace.auth import Caller
from workspace.datasets.versions import describe, resolve
from workspace.db.base import utcnow
from workspace.db.models import Dataset
from workspace.db.models_aliases import Alias, AliasMove
from workspace.db.queries import aliases as aq
from workspace.db.queries import datasets as q
from workspace.errors import Conflict, InvalidInput, NotFound
from workspace.refs import Ref, validate_alias


@dataclass(frozen=True, slots=True)
class Move:
    """One entry of an alias's history: from -> to (None: did not exist / removed)."""

    alias: str
    from_version: int | None
    to_version: int | None
    user: str
    at: datetime
    message: str


def set_alias(session: Session, caller: Caller, *, dataset: str, name: str, ref: Ref,
              message: str) -> dict[str, Any]:
    """Point ``dataset@name`` at the version ``ref`` names now (creating the alias if new)."""
    validate_alias(name)
    _require_message(message)
    if ref.dataset != dataset:
        raise InvalidInput(f"{ref} is not a version of {dataset}",
                           hint="an alias names a version of its own dataset")
    found = _locked_dataset(session, dataset)
    _, version = resolve(session, ref)
    _refuse_tag_name(session, found, name)
    alias = aq.current(session, found.id, name)
    if alias is not None and alias.version == version.number:
        return _answer(session, found, name, version.number, alias.version, unchanged=True)
    previous = alias.version if alias is not None else None
    if alias is None:
        session.add(Alias(dataset_id=found.id, name=name, version=version.number,
                          moved_by=caller.user_id, moved_at=utcnow()))
    else:
        alias.version, alias.moved_by, alias.moved_at = version.number, caller.user_id, utcnow()
    _record_move(session, caller, found, name, previous, version.number, message)
    return _answer(session, found, name, version.number, previous, unchanged=False)


def remove_alias(session: Session, caller: Caller, *, dataset: str, name: str,
                 message: str) -> dict[str, Any]:
    """Remove ``dataset@name``; its history stays (``ws alias log``)."""
    validate_alias(name)
    _require_message(message)
    found = _locked_dataset(session, dataset)
    alias = aq.current(session, found.id, name)
    if alias is None:
        raise NotFound(f"{dataset} has no alias {name}",
                       hint=f"`ws alias list {dataset}` lists its aliases")
    previous = alias.version
    session.delete(alias)
    _record_move(session, caller, found, name, previous, None, message)
    return {"dataset": dataset, "alias": name, "version": None, "from_version": previous}


def list_aliases(session: Session, dataset: str) -> dict[str, Any]:
    found = _existing(session, dataset)
    aliases = aq.of_dataset(session, found.id)
    users = q.user_names(session, {a.moved_by for a in aliases})
    return {"dataset": dataset, "aliases": [
        {"name": a.name, "version": a.version, "moved_by": users.get(a.moved_by, "?"),
         "moved_at": a.moved_at} for a in aliases]}


def alias_log(session: Session, dataset: str, name: str,
              at: datetime | None = None) -> dict[str, Any]:
    """Every move of the alias, newest first; with ``at``, also the version it named then."""
    validate_alias(name)
    found = _existing(session, dataset)
    moves = _moves(session, aq.moves(session, found.id, name))
    if not moves:
        raise NotFound(f"{dataset} has no alias {name}, and never had",
                       hint=f"`ws alias list {dataset}` lists its aliases")
    answer: dict[str, Any] = {"dataset": dataset, "alias": name,
                              "version": aq.target(session, found.id, name), "moves": moves}
    if at is not None:
        answer["at"] = version_at(session, found, name, at)
    return answer


def version_at(session: Session, dataset: Dataset, name: str, at: datetime) -> dict[str, Any]:
    """``{"time", "version", "move"}``: the version ``name`` named at ``at`` (None: none),
    and the move that put it there."""
    last = _moves(session, aq.moves(session, dataset.id, name, until=at, limit=1))
    move = last[0] if last else None
    return {"time": at, "version": move.to_version if move else None, "move": move}


def _record_move(session: Session, caller: Caller, dataset: Dataset, name: str,
                 previous: int | None, to: int | None, message: str) -> None:
    aq.add_move(session, AliasMove(dataset_id=dataset.id, name=name, from_version=previous,
                                   to_version=to, user_id=caller.user_id, at=utcnow(),
                                   message=message))
    action = Action.DATASET_ALIAS_SET if to is not None else Action.DATASET_ALIAS_REMOVE
    record(session, actor=caller.name, action=action, dataset=dataset.name, version=to,
           detail={"alias": name, "from": previous, "to": to, "message": message})


def _answer(session: Session, dataset: Dataset, name: str, number: int, previous: int | None,
            *, unchanged: bool) -> dict[str, Any]:
    version = q.version(session, dataset.id, number)
    assert version is not None
    return {"dataset": dataset.name, "alias": name, "version": number, "from_version": previous,
            "unchanged": unchanged, "version_info": describe(session, dataset, version)}


def _refuse_tag_name(session: Session, dataset: Dataset, name: str) -> None:
    tagged = q.tag_target(session, dataset.id, name)
    if tagged is not None:
        raise Conflict(f"{name} is a tag of {dataset.name} (version {tagged})",
                       hint="tags and aliases share names, so that DATASET@NAME means one "
                       "thing: choose another alias name")


def _locked_dataset(session: Session, name: str) -> Dataset:
    """The dataset, row-locked on PostgreSQL so tags and alias moves on it serialize."""
    found = q.dataset_by_name(session, name, lock=True)
    if found is None or found.latest == 0:
        raise NotFound(f"dataset {name} does not exist", hint="`ws datasets` lists the datasets")
    return found


def _existing(session: Session, name: str) -> Dataset:
    found = q.dataset_by_name(session, name)
    if found is None or found.latest == 0:
        raise NotFound(f"dataset {name} does not exist", hint="`ws datasets` lists the datasets")
    return found


def _moves(session: Session, rows: Sequence[AliasMove]) -> list[Move]:
    users = q.user_names(session, {row.user_id for row in rows})
    return [Move(row.name, row.from_version, row.to_version, users.get(row.user_id, "?"),
                 row.at, row.message) for row in rows]


def _require_message(message: str) -> None:
    if not message.strip():
        raise InvalidInput("moving an alias needs a reason",
                           hint="pass -m 'why this version' (shown by `ws alias log`)")
