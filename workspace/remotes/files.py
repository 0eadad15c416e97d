"""A ``file://`` remote: a directory (a local disk or an NFS mount) shaped like a bucket.

Keys are relative paths below the root. Each value is written to a private
temp file in ``<root>/.tmp``, fsynced, then given its name: ``link`` when it
must not replace anything (``create_only``, like S3's If-None-Match), else
``rename``; then the directory is fsynced. So a key is either absent or
complete, also after a crash, and readers never see a partial value.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path

from workspace.errors import NotFound, PermissionDenied, RemoteUnavailable
from workspace.remotes.url import RemoteUrl

_CHUNK = 8 * 1024 * 1024
_TMP = ".tmp"


class FileBackend:
    """The directory ``url.path``, created on first write (its parent must exist)."""

    def __init__(self, url: RemoteUrl) -> None:
        self.description = url.text
        self.root = Path(url.path)

    def put_bytes(self, key: str, data: bytes, *, create_only: bool = False) -> bool:
        with self._errors(key):
            temp = self._write_temp(key, [data])
            return self._publish(temp, key, create_only)

    def put_stream(self, key: str, chunks: Iterator[bytes], size: int) -> None:
        with self._errors(key):
            self._publish(self._write_temp(key, chunks), key, False)

    def get_bytes(self, key: str) -> bytes | None:
        with self._errors(key):
            try:
                return self._path(key).read_bytes()
            except FileNotFoundError:
                return None

    def get_ranges(self, key: str, ranges: list[tuple[int, int]]) -> list[bytes]:
        with self._errors(key), self._path(key).open("rb") as handle:
            return [os.pread(handle.fileno(), length, offset) for offset, length in ranges]

    def get_stream(self, key: str) -> Iterator[bytes]:
        with self._errors(key), self._path(key).open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk

    def list(self, prefix: str) -> Iterator[tuple[str, int]]:
        self._require_parent()
        base = self._path(prefix.rsplit("/", 1)[0]) if "/" in prefix else self.root
        with self._errors(prefix):
            for directory, dirs, files in os.walk(base):
                dirs[:] = [d for d in dirs if d != _TMP]
                for name in files:
                    path = Path(directory, name)
                    key = path.relative_to(self.root).as_posix()
                    if key.startswith(prefix):
                        yield key, path.stat().st_size

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if any(part in ("", ".", "..", _TMP) for part in parts):
            raise ValueError(f"bad remote key {key!r}")
        return self.root.joinpath(*parts)

    def _require_parent(self) -> None:
        """The remote's directory may be created, its parent never: an unmounted share
        must not silently become a directory on the local disk."""
        if not self.root.parent.is_dir():
            raise NotFound(f"{self.root.parent} does not exist, so {self.description} cannot",
                           hint="create it, or mount the share, then try again")

    def _write_temp(self, key: str, chunks: Iterable[bytes]) -> Path:
        self._require_parent()
        self.root.mkdir(exist_ok=True)
        tmp_dir = self.root / _TMP
        tmp_dir.mkdir(exist_ok=True)
        temp = tmp_dir / f"{secrets.token_hex(8)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            for chunk in chunks:
                _write_all(fd, chunk)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        os.close(fd)
        return temp

    def _publish(self, temp: Path, key: str, create_only: bool) -> bool:
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            if create_only:
                try:
                    os.link(temp, final)
                except FileExistsError:
                    return False
            else:
                os.replace(temp, final)
        finally:
            temp.unlink(missing_ok=True)
        _fsync_dir(final.parent)
        return True

    @contextlib.contextmanager
    def _errors(self, key: str) -> Iterator[None]:
        try:
            yield
        except FileNotFoundError:
            raise NotFound(f"{self.description}/{key} does not exist on the remote",
                           hint="`ws remote status` shows what the remote holds") from None
        except PermissionError as exc:
            raise PermissionDenied(
                f"the daemon may not use {self.description}: {exc.strerror}",
                hint="give the daemon's user read and write access to that directory") from None
        except OSError as exc:
            raise RemoteUnavailable(
                f"the remote {self.description} failed on {key}: "
                f"{exc.strerror or errno.errorcode.get(exc.errno or 0, exc)}",
                hint="check that the directory (or its mount) is available, then try again",
                details={"remote": self.description, "key": key}) from None


def _write_all(fd: int, chunk: bytes) -> None:
    view = memoryview(chunk)
    while view:
        view = view[os.write(fd, view):]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
