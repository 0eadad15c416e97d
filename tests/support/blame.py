"""Reading `GET /v1/blame`'s columns (docs/api.md) back as one record per file, for tests."""

from __future__ import annotations

from typing import Any


def blamed(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """path -> {"version", "oid", "size", and the version's author, created_at, message,
    git_commit, pruned}, in the answer's path order."""
    columns = zip(answer["paths"], answer["path_versions"], answer["oids"], answer["sizes"],
                  strict=True)
    return {path: {"version": number, "oid": oid, "size": size,
                   **answer["versions"][str(number)]}
            for path, number, oid, size in columns}
