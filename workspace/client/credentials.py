"""Remote logins: which token `ws` sends to which server, and where it keeps them.

`ws login --server URL` trades a password for a short-lived token (a JWT) and
keeps it in ``$XDG_CONFIG_HOME/workspace/credentials.json`` (default
``~/.config/workspace/``), keyed by server URL. The token is as good as the
password until it expires, so the file is treated like an SSH key:

* created 0600 in a 0700 directory, written to a temp file opened with
  ``O_CREAT|O_EXCL|O_NOFOLLOW`` and renamed over the old one, so a reader
  never sees half a file and a planted symlink is never followed;
* read only if nobody but its owner may read it (else: refused, exit 4);
* updated under an exclusive ``flock`` on the directory, so two logins at
  once do not lose one another.

A robot sets ``WORKSPACE_TOKEN`` to an API token instead; it wins over any
stored login, so CI never depends on a home directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workspace.errors import AuthenticationRequired, InvalidInput, PermissionDenied, WorkspaceError

TOKEN_VARIABLE = "WORKSPACE_TOKEN"
_FILE_NAME = "credentials.json"
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_Logins = dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Remote:
    """A daemon reached over TCP, and the bearer token to show it (None: login only)."""

    server: str
    token: str | None = None
    from_variable: bool = False

    def relogin_hint(self) -> str:
        """What to do when the daemon refuses the token (HTTP 401)."""
        if self.from_variable:
            return (
                f"the API token in {TOKEN_VARIABLE} was refused (revoked, expired or "
                "mistyped): ask its owner for a new one (`ws token create`)"
            )
        return f"run `ws login --server {self.server}` again"


def normalize_server(url: str) -> str:
    """``http(s)://host[:port][/prefix]`` without a trailing slash: the key of a login."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"not a server URL: {url!r}", hint="give it as http://HOST:PORT or https://HOST"
        )
    if parts.username is not None or parts.query or parts.fragment:
        raise InvalidInput(
            f"a server URL carries no user, password, query or fragment: {url!r}",
            hint="give it as http://HOST:PORT; `ws login --user NAME` names you",
        )
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def remote_for(server: str) -> Remote:
    """The token to send to ``server``: ``$WORKSPACE_TOKEN``, else the stored login."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if token:
        return Remote(server, token, from_variable=True)
    login = stored(server)
    if login is None:
        raise AuthenticationRequired(
            f"you are not logged in to {server}",
            hint=f"run `ws login --server {server}` (a robot sets {TOKEN_VARIABLE} "
            "to an API token instead)",
        )
    if _expired(login.get("expires_at")):
        raise AuthenticationRequired(
            f"your login to {server} expired at {login['expires_at']}",
            hint=f"run `ws login --server {server}` again",
        )
    return Remote(server, str(login["token"]))


def stored(server: str) -> dict[str, Any] | None:
    """The login kept for ``server`` (token, user, expires_at), if any."""
    login = _read(credentials_path()).get(server)
    return login if isinstance(login, dict) and isinstance(login.get("token"), str) else None


def save(server: str, *, token: str, user: str, expires_at: object) -> Path:
    """Keep (or replace) the login for ``server``; returns the file it is in."""
    entry = {"token": token, "user": user, "expires_at": expires_at}
    return _update(lambda logins: logins.__setitem__(server, entry))


def forget(server: str) -> bool:
    """Drop the login for ``server``; False if there was none."""
    if stored(server) is None:
        return False
    _update(lambda logins: logins.pop(server, None))
    return True


def credentials_path() -> Path:
    """``$XDG_CONFIG_HOME/workspace/credentials.json`` (a relative XDG value is ignored)."""
    config = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(config) if os.path.isabs(config) else Path.home() / ".config"
    return base / "workspace" / _FILE_NAME


def _expired(expires_at: object) -> bool:
    if not isinstance(expires_at, str):
        return False
    try:
        moment = datetime.fromisoformat(expires_at)
    except ValueError:
        return False  # an odd value: let the daemon decide
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) <= datetime.now(UTC)


def _update(change: Callable[[_Logins], object]) -> Path:
    path = credentials_path()
    with _locked(_private_directory(path.parent)):
        logins = _read(path)
        change(logins)
        _write(path, logins)
    return path


def _private_directory(directory: Path) -> Path:
    """The credentials directory, created 0700 if missing (an existing one is left as is)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        directory.mkdir(mode=0o700)
    return directory


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read(path: Path) -> _Logins:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise _unreadable(path, exc) from exc
    with os.fdopen(fd, "rb") as file:
        _check_private(path, os.fstat(file.fileno()).st_mode)
        raw = file.read()
    try:
        servers = json.loads(raw).get("servers")
    except (ValueError, AttributeError) as exc:
        raise _unreadable(path, exc) from exc
    return servers if isinstance(servers, dict) else {}


def _check_private(path: Path, mode: int) -> None:
    if mode & 0o077:
        raise PermissionDenied(
            f"{path} holds login tokens but others may read it (mode {mode & 0o777:04o})",
            hint=f"run `chmod 600 {path}`, then `ws login` again: the tokens may have been seen",
        )


def _unreadable(path: Path, exc: Exception) -> WorkspaceError:
    return WorkspaceError(
        f"cannot read the stored logins in {path}: {exc}",
        hint=f"remove {path} and run `ws login --server URL` again",
    )


def _write(path: Path, logins: _Logins) -> None:
    """Replace ``path`` atomically by a new 0600 file holding ``logins``."""
    temp = path.with_name(f".{_FILE_NAME}.{secrets.token_hex(8)}.tmp")
    data = json.dumps({"version": 1, "servers": logins}, indent=2).encode() + b"\n"
    fd = os.open(temp, _CREATE, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), 0o600)  # exactly 0600, whatever the umask
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
