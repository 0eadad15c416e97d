"""Helpers shared by the store tests."""

from __future__ import annotations

import os
from pathlib import Path

from workspace.store import ObjectStore


def object_files(store: ObjectStore) -> list[Path]:
    """Every file under objects/ (there should be no other kind of entry)."""
    return sorted(p for p in (store.root / "objects").rglob("*") if not p.is_dir())


def tmp_entries(store: ObjectStore) -> list[str]:
    """Names left in the store's tmp/ (only uncommitted batches have any)."""
    return sorted(os.listdir(store.root / "tmp"))
