"""Reading a file from the daemon as a stream of bytes: any size, bounded memory.

The fallback when no file descriptor can be passed (a remote daemon, or
``transport="stream"``): a seekable raw file whose reads pull from one open
``GET /v1/files/content``; a seek elsewhere drops it, and the next read asks
for the rest from there (``Range``). The reference is pinned to the version
the daemon resolved first, so a moving alias cannot change the bytes halfway.
Wrapped in ``io.BufferedReader`` by ``workspace.open``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from workspace.client.daemon import DaemonClient, Download
from workspace.errors import InvalidInput, WorkspaceError

ROUTE = "/v1/files/content"


class StreamReader(io.RawIOBase):
    """A read-only, seekable raw file over the daemon's content route."""

    def __init__(self, client: DaemonClient, ref: str, path: str, size: int) -> None:
        super().__init__()
        self._client, self._params, self._size = client, {"ref": ref, "path": path}, size
        self._pos = 0
        self._download: Download | None = None
        self._chunks: Iterator[bytes] = iter(())
        self._pending = memoryview(b"")
        self.name = f"{ref}/{path}"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}.get(whence)
        if base is None or base + offset < 0:
            raise InvalidInput(f"cannot seek to {offset} from {whence}")
        if base + offset != self._pos:
            self._drop()
            self._pos = base + offset
        return self._pos

    def readinto(self, buffer: Any) -> int:
        if self._pos >= self._size:
            return 0
        if not self._pending:
            self._pending = memoryview(self._next_chunk())
        view = memoryview(buffer).cast("B")
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self._pos += count
        return count

    def close(self) -> None:
        if not self.closed:
            self._drop()
            self._client.close()
        super().close()

    def _next_chunk(self) -> bytes:
        if self._download is None:
            self._download = self._client.download(ROUTE, self._params, start=self._pos)
            self._chunks = self._download.chunks()
        chunk = next(self._chunks, b"")
        if not chunk:
            raise WorkspaceError(
                f"the daemon's stream of {self.name} ended at byte {self._pos} of {self._size}",
                hint="the connection was cut: read again")
        return chunk

    def _drop(self) -> None:
        if self._download is not None:
            self._download.close()
        self._download, self._chunks, self._pending = None, iter(()), memoryview(b"")
