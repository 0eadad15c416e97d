"""An fsspec filesystem for ``ws://`` URLs: pandas, pyarrow, dask... read datasets directly.

    fsspec.open("ws://vision/cats@2/labels.csv")
    pyarrow.parquet.read_table("ws://sales/daily@production/2026/11.parquet")
    pandas.read_csv("workspace://vision/cats@2/labels.csv")
    fsspec.filesystem("ws").ls("vision/cats@v1.0/train")

A URL is ``ws://DATASET[@N|@TAG|@ALIAS]/PATH``; ``workspace://`` is the same
filesystem under a second name, for pandas: pandas sends every URL whose
scheme ``urllib`` knows to ``urllib`` (reading it whole into memory), and
``ws`` is a scheme ``urllib`` knows (WebSocket), so ``pandas.read_csv("ws://…")``
never reaches fsspec. Without ``@`` the dataset is the longest name you may
read that the URL starts with, at its latest version. Registered for fsspec by
``fsspec.specs`` entry points (install the ``fsspec`` extra); the only module
that imports fsspec.

Files open through ``workspace.open`` (a passed fd locally, a stream
remotely), so the daemon's policy and audit apply to every read. Listings
are cached per reference: forever for ``@N`` (a version never changes), for
``listing_ttl`` seconds otherwise (an alias or the latest version moves).
Options (fsspec's ``storage_options``): ``socket``, ``server``,
``transport``, ``listing_ttl``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO, Any

from fsspec.spec import AbstractFileSystem

from workspace.client import files
from workspace.client.connect import connect
from workspace.client.daemon import require

Info = dict[str, Any]


class WorkspaceFileSystem(AbstractFileSystem):  # type: ignore[misc]  # fsspec is untyped
    """Read-only view of the datasets you may read, through the workspace daemon."""

    protocol = ("ws", "workspace")
    root_marker = ""

    def __init__(self, socket: str | Path | None = None, server: str | None = None,
                 transport: files.Transport = "auto", listing_ttl: float = 10.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._where: dict[str, Any] = {"socket": socket, "server": server}
        self._transport, self._ttl = transport, listing_ttl
        self._listings: dict[str, tuple[float, list[Info]]] = {}

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        text = str(path)
        for scheme in cls.protocol:
            text = text.removeprefix(f"{scheme}://")
        return text.strip("/")

    def split(self, path: str) -> tuple[str, str]:
        """``vision/cats@2/train/a.csv`` -> (``vision/cats@2``, ``train/a.csv``)."""
        clean = self._strip_protocol(path)
        if "@" in clean:
            name, _, rest = clean.partition("@")
            label, _, inner = rest.partition("/")
            return f"{name}@{label}", inner
        for name in sorted(self._datasets(), key=len, reverse=True):
            if clean == name or clean.startswith(name + "/"):
                return name, clean[len(name) + 1:]
        raise FileNotFoundError(f"ws://{clean}: no dataset you may read is named so")

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        ref, inner = self.split(path)
        found = self._children(ref, inner)
        return found if detail else [entry["name"] for entry in found]

    def info(self, path: str, **kwargs: Any) -> Info:
        ref, inner = self.split(path)
        listing = self._listing(ref)
        for entry in listing:
            if entry["name"] == f"{ref}/{inner}":
                return entry
        if not inner or any(e["name"].startswith(f"{ref}/{inner}/") for e in listing):
            return {"name": f"{ref}/{inner}".rstrip("/"), "size": 0, "type": "directory"}
        raise FileNotFoundError(f"ws://{ref}/{inner}")

    def _open(self, path: str, mode: str = "rb", block_size: int | None = None,
              autocommit: bool = True, cache_options: Any = None, **kwargs: Any) -> IO[bytes]:
        if mode != "rb":
            raise PermissionError(f"ws:// is read-only (mode {mode!r}): commit with `ws commit`")
        ref, inner = self.split(path)
        binary: IO[bytes] = files.open(ref, inner, "rb", transport=self._transport,
                                       **self._where)
        return binary

    def cat_file(self, path: str, start: int | None = None, end: int | None = None,
                 **kwargs: Any) -> bytes:
        with self._open(path) as handle:
            if start:
                handle.seek(start if start >= 0 else max(0, self.size(path) + start))
            if end is None:
                return handle.read()
            stop = end if end >= 0 else self.size(path) + end
            return handle.read(max(0, stop - handle.tell()))

    def _children(self, ref: str, inner: str) -> list[Info]:
        prefix = f"{ref}/{inner}/" if inner else f"{ref}/"
        seen: dict[str, Info] = {}
        for entry in self._listing(ref):
            if entry["name"] == f"{ref}/{inner}":
                return [entry]
            if entry["name"].startswith(prefix):
                head, sep, _ = entry["name"][len(prefix):].partition("/")
                name = prefix + head
                seen.setdefault(name, {"name": name, "size": 0, "type": "directory"}
                                if sep else entry)
        if not seen:
            raise FileNotFoundError(f"ws://{ref}/{inner}")
        return list(seen.values())

    def _listing(self, ref: str) -> list[Info]:
        cached = self._listings.get(ref)
        if cached is not None and (cached[0] > time.monotonic()):
            return cached[1]
        with connect(**self._where_paths()) as client:
            answer = client.get("/v1/ls", {"ref": ref})
        listing = [{"name": f"{ref}/{f['path']}", "size": f["size"], "type": "file",
                    "oid": f["oid"], "version": answer.get("version")}
                   for f in require(answer, "files")]
        label = ref.partition("@")[2]
        expires = float("inf") if label.isdigit() else time.monotonic() + self._ttl
        self._listings[ref] = (expires, listing)
        return listing

    def _datasets(self) -> list[str]:
        with connect(**self._where_paths()) as client:
            answer = client.get("/v1/datasets")
        return [str(entry["name"]) for entry in require(answer, "datasets")]

    def _where_paths(self) -> dict[str, Any]:
        socket = self._where["socket"]
        return {"socket": Path(socket) if socket is not None else None,
                "server": self._where["server"]}
