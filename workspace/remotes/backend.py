"""What a remote's storage must offer, and how a URL becomes one.

Both kinds of storage are flat maps from keys (``objects/ab/...``) to
immutable bytes, as S3 is; ``files.py`` gives a directory the same shape.
Every method raises ``RemoteUnavailable`` once retries are exhausted,
``PermissionDenied`` when credentials are refused, and never returns
partial data: a value is complete or the call fails.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from workspace.config import Settings
from workspace.remotes.url import RemoteUrl


class Backend(Protocol):
    """Key/value storage of one remote; keys are ``/``-separated, relative to its root."""

    description: str  # the remote's URL, for messages

    def put_bytes(self, key: str, data: bytes, *, create_only: bool = False) -> bool:
        """Store ``data`` at ``key`` atomically; with ``create_only``, False if it existed."""
        ...

    def put_stream(self, key: str, chunks: Iterator[bytes], size: int) -> None:
        """Store the ``size`` bytes ``chunks`` yields (multipart, bounded memory).

        An exception raised by ``chunks`` aborts the upload: nothing appears at ``key``.
        """
        ...

    def get_bytes(self, key: str) -> bytes | None:
        """The whole value, or None when there is no such key."""
        ...

    def get_ranges(self, key: str, ranges: list[tuple[int, int]]) -> list[bytes]:
        """The bytes at each (offset, length) of the value at ``key``."""
        ...

    def get_stream(self, key: str) -> Iterator[bytes]:
        """The value in chunks (bounded memory); NotFound when there is no such key."""
        ...

    def list(self, prefix: str) -> Iterator[tuple[str, int]]:
        """(key, size) of every value whose key starts with ``prefix``."""
        ...


@dataclass(frozen=True, slots=True)
class RemoteOptions:
    """How the daemon talks to remotes (from ``Settings``; credentials come from the env)."""

    concurrency: int = 8
    retries: int = 10
    retry_timeout: float = 120.0
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_allow_http: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteOptions:
        return cls(settings.remote_concurrency, settings.remote_retries,
                   settings.remote_retry_timeout, settings.s3_endpoint_url,
                   settings.s3_region, settings.s3_allow_http)

    def endpoint(self) -> str | None:
        """The S3 endpoint: the setting, else the standard AWS variables (None: AWS itself)."""
        for value in (self.s3_endpoint_url, os.environ.get("AWS_ENDPOINT_URL_S3"),
                      os.environ.get("AWS_ENDPOINT_URL"), os.environ.get("AWS_ENDPOINT")):
            if value:
                return value
        return None


def open_backend(url: RemoteUrl, options: RemoteOptions) -> Backend:
    """The storage behind ``url``; S3 support is imported only when an S3 remote is used."""
    if url.scheme == "file":
        from workspace.remotes.files import FileBackend

        return FileBackend(url)
    from workspace.remotes.s3 import S3Backend

    return S3Backend(url, options)


def is_loopback(endpoint: str) -> bool:
    """True for ``http://127.0.0.1:9000``, ``http://[::1]``, ``http://localhost``."""
    host = urlsplit(endpoint).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
