"""workspace: one daemon that owns a shared, content-addressed data cache.

The package is layered (see docs/design.md); imports point downwards only.

``import workspace`` also gives the Python API (docs/python.md), imported on
first use so that importing the package stays cheap::

    workspace.open(ref, path, mode="rb" | "r")   # a file object
    workspace.read_bytes(ref, path), workspace.read_text(ref, path)
    workspace.ls(ref, prefix=None)                 # [FileEntry]
    workspace.get(ref, path)                       # `ws get`, from Python
"""

from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False  # not typing's: importing typing would cost every `ws` run ~2 ms
if TYPE_CHECKING:
    from typing import Any

    from workspace.client.files import FileEntry, get, ls, open, read_bytes, read_text

_API = frozenset({"FileEntry", "get", "ls", "open", "read_bytes", "read_text"})
__all__ = ["FileEntry", "__version__", "get", "ls", "open", "read_bytes", "read_text"]


def __getattr__(name: str) -> Any:
    if name in _API:
        from workspace.client import files

        return getattr(files, name)
    raise AttributeError(f"module 'workspace' has no attribute {name!r}")
