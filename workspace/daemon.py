"""Running the daemon: migrate, open the store, bind the socket(s), serve.

One daemon per home directory (an exclusive ``flock`` on ``daemon.lock``);
a stale socket left by a crash is replaced, a live one is refused.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
from contextlib import ExitStack, suppress
from pathlib import Path

from workspace.config import Settings, parse_tcp
from workspace.errors import Conflict, InvalidInput

log = logging.getLogger("workspace.daemon")


def serve(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn's graceful shutdown)."""
    import uvicorn

    from workspace.api import create_app
    from workspace.api.peercred import PeerCredProtocol

    _configure_logging(settings.log_level)
    with ExitStack() as stack:
        _prepare_home(settings.home)
        stack.enter_context(_single_instance(settings.home / "daemon.lock"))
        ctx = stack.enter_context(_service_context(settings))
        sockets = [_bind_unix(settings.socket_path)]
        stack.callback(_remove_socket, settings.socket_path)
        if settings.tcp:
            sockets.append(_bind_tcp(settings.tcp))
        config = uvicorn.Config(create_app(ctx, settings), http=PeerCredProtocol,
                                lifespan="off", log_level=settings.log_level,
                                access_log=False, timeout_graceful_shutdown=30)
        log.info("workspace daemon listening on %s%s", settings.socket_path,
                 f" and tcp {settings.tcp}" if settings.tcp else "")
        uvicorn.Server(config).run(sockets=sockets)


def _service_context(settings: Settings):  # type: ignore[no-untyped-def]
    from contextlib import contextmanager

    from workspace.auth import bootstrap_admin
    from workspace.db import Database, migrate
    from workspace.store import ObjectStore, prepare_leases
    from workspace.workspaces.context import ServiceContext

    @contextmanager
    def opened():  # type: ignore[no-untyped-def]
        migrate(settings.db_url)
        db = Database(settings.db_url)
        store = ObjectStore.open(settings.store_path)
        prepare_leases()
        with db.write() as session:
            admin = bootstrap_admin(session, os.geteuid())
        log.info("admin user: %s; database: %s; store: %s", admin.name,
                 _redact(settings.db_url), settings.store_path)
        try:
            yield ServiceContext(db=db, store=store, mode=settings.mode,
                                 link_mode=settings.link_mode)
        finally:
            store.close()
            db.dispose()

    return opened()


def _prepare_home(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if home.stat().st_mode & 0o077:
        os.chmod(home, 0o700)


def _single_instance(lock_path: Path):  # type: ignore[no-untyped-def]
    from contextlib import contextmanager

    @contextmanager
    def held():  # type: ignore[no-untyped-def]
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Conflict(f"another workspace daemon is running on {lock_path.parent}",
                           hint="stop it first, or give this one another --home") from None
        try:
            yield
        finally:
            os.close(fd)

    return held()


def _bind_unix(path: Path) -> socket.socket:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        if _is_live(path):
            raise Conflict(f"a daemon already listens on {path}", hint="stop it first")
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    os.chmod(path, 0o666)  # every local user may connect; the peer uid is the gate
    sock.listen(128)
    return sock


def _bind_tcp(address: str) -> socket.socket:
    host, port = parse_tcp(address)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidInput(f"cannot listen on tcp {address}: {exc.strerror}") from exc
    sock.listen(128)
    return sock


def _is_live(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _remove_socket(path: Path) -> None:
    with suppress(FileNotFoundError):
        path.unlink()


def _redact(url: str) -> str:
    """Never log a database password."""
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    return f"{scheme}{sep}***@{rest.rsplit('@', 1)[1]}"


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
