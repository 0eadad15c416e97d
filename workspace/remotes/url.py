"""Remote URLs: ``s3://BUCKET[/PREFIX]`` and ``file:///ABSOLUTE/PATH``.

A URL never carries a credential: one with user information (``s3://key:secret@...``),
a query or a fragment is refused, so nothing secret can reach the database or a log.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from workspace.errors import InvalidInput

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_HINT = "use s3://BUCKET/PREFIX (S3 or any S3-compatible store) or file:///ABSOLUTE/PATH"


@dataclass(frozen=True, slots=True)
class RemoteUrl:
    """A parsed remote URL; ``text`` is its canonical spelling (what is stored)."""

    scheme: str  # "s3" | "file"
    bucket: str  # s3 only
    path: str  # the prefix inside the bucket (no slashes around it), or the directory

    @property
    def text(self) -> str:
        if self.scheme == "file":
            return f"file://{self.path}"
        return f"s3://{self.bucket}/{self.path}" if self.path else f"s3://{self.bucket}"


def parse_url(text: str) -> RemoteUrl:
    """Validate and normalise a remote URL, or say which shapes are accepted."""
    parts = urlsplit(text.strip())
    if parts.username or parts.password or "@" in parts.netloc:
        raise InvalidInput("a remote URL must not contain credentials",
                           hint="give the daemon credentials through its environment "
                           "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); see docs/remotes.md")
    if parts.query or parts.fragment:
        raise InvalidInput(f"the remote URL {text!r} has a query or fragment", hint=_HINT)
    if parts.scheme == "s3":
        return _s3(parts.netloc, parts.path, text)
    if parts.scheme == "file":
        return _file(parts.netloc, parts.path, text)
    raise InvalidInput(f"{text!r} is not a supported remote URL", hint=_HINT)


def _s3(bucket: str, path: str, text: str) -> RemoteUrl:
    if not _BUCKET.fullmatch(bucket):
        raise InvalidInput(f"{bucket!r} in {text!r} is not a valid bucket name", hint=_HINT)
    prefix = path.strip("/")
    if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
        raise InvalidInput(f"the prefix of {text!r} has an empty, '.' or '..' part", hint=_HINT)
    return RemoteUrl("s3", bucket, prefix)


def _file(host: str, path: str, text: str) -> RemoteUrl:
    if host not in ("", "localhost"):
        raise InvalidInput(f"{text!r} names a host: file:// remotes are local paths",
                           hint="mount the share (e.g. NFS) and give its path: file:///mnt/x")
    path = unquote(path)
    if not path.startswith("/") or "\0" in path:
        raise InvalidInput(f"{text!r} does not name an absolute path", hint=_HINT)
    normal = posixpath.normpath(path)
    if normal == "/":
        raise InvalidInput("a file:// remote cannot be the root directory", hint=_HINT)
    return RemoteUrl("file", "", normal)
