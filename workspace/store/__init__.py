"""The content-addressed object store and the symlink-safe file helpers around it.

``ObjectStore`` (objects.py) owns the on-disk store; ``IngestBatch`` (ingest.py)
is the only way bytes become objects and states the write ordering;
``safefs`` walks users' workspaces without following symlinks; ``hashing`` is
the only importer of blake3; ``leases`` makes in-place adoption safe.
"""

from workspace.store.hashing import hash_bytes, hash_fd, is_oid
from workspace.store.ingest import IngestBatch, Staged
from workspace.store.leases import prepare_leases
from workspace.store.materialize import Placement
from workspace.store.objects import ObjectStore
from workspace.store.scanning import ScannedFile, ScanResult

__all__ = [
    "IngestBatch",
    "ObjectStore",
    "Placement",
    "ScanResult",
    "ScannedFile",
    "Staged",
    "hash_bytes",
    "hash_fd",
    "is_oid",
    "prepare_leases",
]
