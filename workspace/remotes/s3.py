"""S3-compatible storage through obstore: the only module that imports it.

Why obstore (Rust ``object_store``) and not boto3: measured on the same local
S3 server (``bench/bench_s3_clients.py``), 2,000 small PUTs and GETs took half
the time (requests run on Rust's async runtime, not on Python threads under
the GIL), large files stream with multipart in bounded memory, ranged reads
of packs are coalesced, and retries with exponential back-off and jitter are
built in. See docs/remotes.md.

Configuration, in order: the settings (``s3_endpoint_url``, ``s3_region``,
``s3_allow_http``), then the standard AWS environment variables, which
obstore reads itself (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``, ``AWS_DEFAULT_REGION``...),
then the shared credentials file (``~/.aws/credentials``, profile
``AWS_PROFILE`` or ``default``) when the environment has no key. Credentials
are passed to the client and nowhere else: never stored, logged or echoed.
A plain ``http://`` endpoint is allowed on loopback; elsewhere only with
``s3_allow_http`` (or ``AWS_ALLOW_HTTP=true``).
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

import obstore
from obstore.exceptions import (
    AlreadyExistsError,
    BaseError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionError,
    UnauthenticatedError,
)
from obstore.store import S3Store

from workspace.errors import InvalidInput, NotFound, PermissionDenied, RemoteUnavailable
from workspace.remotes.backend import RemoteOptions, is_loopback
from workspace.remotes.url import RemoteUrl

if TYPE_CHECKING:  # typing-only names in obstore's stubs
    from obstore.store import ClientConfig, RetryConfig, S3Config

PART_SIZE = 8 * 1024 * 1024
"""Multipart part size; with ``PART_CONCURRENCY`` parts in flight, a transfer holds ~32 MiB."""
PART_CONCURRENCY = 4
_STREAM_CHUNK = 8 * 1024 * 1024
# obstore raises its own classes, and Python's built-in ones for some (a missing key is a
# FileNotFoundError): both are translated, never passed on.
_MISSING = (NotFoundError, FileNotFoundError)
_FAILURES = (BaseError, OSError)


class S3Backend:
    """One bucket and prefix of an S3-compatible store (see the module docstring)."""

    def __init__(self, url: RemoteUrl, options: RemoteOptions) -> None:
        self.description = url.text
        self._store = S3Store(url.bucket, prefix=url.path or None,
                              config=cast("S3Config", _config(options)),
                              client_options=cast("ClientConfig", _client_options(options)),
                              retry_config=cast("RetryConfig", _retry(options)))

    def put_bytes(self, key: str, data: bytes, *, create_only: bool = False) -> bool:
        try:
            obstore.put(self._store, key, data, mode="create" if create_only else "overwrite",
                        chunk_size=PART_SIZE, max_concurrency=PART_CONCURRENCY)
        except (AlreadyExistsError, PreconditionError, FileExistsError):
            if create_only:
                return False
            raise
        except _FAILURES as exc:
            self._fail(exc, key)
        return True

    def put_stream(self, key: str, chunks: Iterator[bytes], size: int) -> None:
        try:
            obstore.put(self._store, key, chunks, use_multipart=size > PART_SIZE,
                        chunk_size=PART_SIZE, max_concurrency=PART_CONCURRENCY)
        except _FAILURES as exc:
            self._fail(exc, key)

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return bytes(obstore.get(self._store, key).bytes())
        except _MISSING:
            return None
        except _FAILURES as exc:
            self._fail(exc, key)

    def get_ranges(self, key: str, ranges: list[tuple[int, int]]) -> list[bytes]:
        try:
            found = obstore.get_ranges(self._store, key, starts=[r[0] for r in ranges],
                                       lengths=[r[1] for r in ranges])
        except _FAILURES as exc:
            self._fail(exc, key)
        return [bytes(chunk) for chunk in found]

    def get_stream(self, key: str) -> Iterator[bytes]:
        try:
            for chunk in obstore.get(self._store, key).stream(min_chunk_size=_STREAM_CHUNK):
                yield bytes(chunk)
        except _FAILURES as exc:
            self._fail(exc, key)

    def list(self, prefix: str) -> Iterator[tuple[str, int]]:
        try:
            for batch in obstore.list(self._store, prefix, chunk_size=1000):
                for meta in batch:
                    yield str(meta["path"]), int(meta["size"])
        except _FAILURES as exc:
            self._fail(exc, prefix)

    def _fail(self, exc: Exception, key: str) -> NoReturn:
        where = f"{self.description}/{key}"
        if isinstance(exc, _MISSING):
            raise NotFound(f"{where} does not exist on the remote",
                           hint="`ws remote status` shows what the remote holds") from None
        if isinstance(exc, PermissionDeniedError | UnauthenticatedError | PermissionError):
            raise PermissionDenied(
                f"the S3 service refused the daemon's credentials for {where}",
                hint="check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or ~/.aws/credentials) "
                "in the daemon's environment, and the bucket's policy") from None
        raise RemoteUnavailable(
            f"the remote {self.description} failed on {key}: {_first_line(exc)}",
            hint="the daemon retried with back-off; check that the S3 endpoint is up "
            "(AWS_ENDPOINT_URL) and try again: completed work is kept",
            details={"remote": self.description, "key": key}) from None


def _config(options: RemoteOptions) -> dict[str, Any]:
    config: dict[str, Any] = {}
    endpoint = options.endpoint()
    if endpoint:
        config["endpoint"] = endpoint
    region = options.s3_region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get(
        "AWS_REGION") or _shared_config("region", config_file=True)
    config["region"] = region or "us-east-1"
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        for key in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
            value = _shared_config(key)
            if value:
                config[key] = value
    return config


def _client_options(options: RemoteOptions) -> dict[str, Any]:
    endpoint = options.endpoint()
    allow_http = options.s3_allow_http or os.environ.get("AWS_ALLOW_HTTP", "").lower() == "true"
    if endpoint and endpoint.startswith("http://"):
        if not (allow_http or is_loopback(endpoint)):
            raise InvalidInput(
                f"the S3 endpoint {endpoint} is plain http on another machine: credentials "
                "and data would cross the network in clear",
                hint="use https, or set s3_allow_http = true if the network is trusted")
        allow_http = True
    return {"allow_http": allow_http, "connect_timeout": timedelta(seconds=10),
            "timeout": timedelta(seconds=300)}


def _retry(options: RemoteOptions) -> dict[str, Any]:
    return {"max_retries": options.retries,
            "retry_timeout": timedelta(seconds=options.retry_timeout),
            "backoff": {"init_backoff": timedelta(milliseconds=100),
                        "max_backoff": timedelta(seconds=10), "base": 2}}


def _shared_config(key: str, *, config_file: bool = False) -> str | None:
    """A value of the AWS shared credentials (or config) file for the current profile."""
    profile = os.environ.get("AWS_PROFILE", "default")
    if config_file:
        path = os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")
        section = profile if profile == "default" else f"profile {profile}"
    else:
        path = os.environ.get("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")
        section = profile
    parser = configparser.ConfigParser()
    try:
        parser.read(Path(path).expanduser())
    except (OSError, configparser.Error):
        return None
    return parser.get(section, key, fallback=None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
