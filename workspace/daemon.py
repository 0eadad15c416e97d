"""Running the daemon: migrate, open the store, bind the socket(s), serve.

One daemon per home directory (an exclusive ``flock`` on ``daemon.lock``);
a stale socket left by a crash is replaced, a live one is refused.
"""

from __future__ import annotations

import fcntl
import gc
import logging
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from workspace.config import Settings, parse_tcp
from workspace.errors import Conflict, InvalidInput, PermissionDenied

if TYPE_CHECKING:
    from fastapi import FastAPI

    from workspace.watch.workspaces import WorkspaceWatcher
    from workspace.workspaces.context import ObjectSource, ServiceContext

log = logging.getLogger("workspace.daemon")
KEEP_ALIVE_TIMEOUT = 5
"""Seconds an idle connection stays open after a response (uvicorn's default, said aloud)."""


def serve(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn's graceful shutdown)."""
    import uvicorn

    from workspace.acl.startup import running
    from workspace.api import create_app
    from workspace.api.peercred import ConnectionLimits, protocol_class
    from workspace.audit.checkpoint import checkpointing
    from workspace.daemon_access import open_access
    from workspace.daemon_maintenance import maintaining, prune_job, refusals_job
    from workspace.web import with_dashboard

    _configure_logging(settings.log_level)
    if settings.mode == "service":
        check_service_mode(settings)
    with ExitStack() as stack:
        _prepare_home(settings.home)
        stack.enter_context(_single_instance(settings.home / "daemon.lock"))
        ctx = stack.enter_context(_service_context(settings))
        stack.enter_context(checkpointing(  # the final checkpoint is written at shutdown
            ctx.db, settings.audit_log_path, every=settings.audit_checkpoint_every,
            interval=settings.audit_checkpoint_interval))
        access = stack.enter_context(open_access(settings, ctx.db))
        stack.enter_context(maintaining([prune_job(settings, ctx.db),
                                         refusals_job(settings, ctx.db, access.refusals)]))
        acl = stack.enter_context(running(settings, ctx.db, ctx.store, access.authorizer))
        if acl is not None:
            ctx.acl = acl  # before the first request: no link is ever made without an ACL
        sockets = [_bind_unix(settings.socket_path)]
        stack.callback(_remove_socket, settings.socket_path)
        if settings.tcp:
            sockets.append(_bind_tcp(settings.tcp))
        limits = ConnectionLimits(header_timeout=settings.request_header_timeout,
                                  body_timeout=settings.request_body_timeout)
        app = with_dashboard(create_app(ctx, settings, access), settings)
        stack.enter_context(_passing_fds(app, settings.socket_path, ctx))
        config = uvicorn.Config(app, http=protocol_class(limits),
                                lifespan="off", log_level=settings.log_level, access_log=False,
                                timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
                                timeout_graceful_shutdown=30)
        log.info("workspace daemon listening on %s%s", settings.socket_path,
                 f" and tcp {settings.tcp}" if settings.tcp else "")
        # uvicorn re-raises SIGTERM once it has shut down gracefully; unwind instead of
        # dying, so the cleanups above run (the final audit checkpoint among them).
        signal.signal(signal.SIGTERM, _exit_cleanly)
        tune_garbage_collector()
        uvicorn.Server(config).run(sockets=sockets)


def tune_garbage_collector() -> None:
    """Keep the cyclic collector off the per-file hot paths.

    A status, checkout or add of 10,000 files makes tens of thousands of short-lived
    objects (stat results, rows, tuples), which CPython's default thresholds (700
    allocations) turn into hundreds of collections, some of them full ones
    traversing every object the daemon holds (the app, SQLAlchemy's tables, the
    watcher's trees): ~30% of the daemon's CPU time in a polled status (perf). What
    was built at start-up lives as long as the daemon, so it is frozen out of every
    collection, and the youngest generation is collected every 50,000 allocations
    instead. Reference counting still frees nearly everything at once; this only
    delays finding cycles, whose memory is bounded by the same threshold.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


PROTECTED_HARDLINKS = Path("/proc/sys/fs/protected_hardlinks")
ROOT_HARDLINKS = (
    "RUNNING AS ROOT WITH link_mode = \"hardlink\": files in workspaces are the store's own "
    "objects and root can write them in place, so `echo x >> data/file` changes that data "
    "for every version and workspace sharing it (ws status reports such a file as modified, "
    "and checkout refuses a damaged object, but its original bytes are gone until they are "
    "added again). Use link_mode = \"auto\" (copies for root) or run the daemon as an "
    "ordinary user.")


def check_service_mode(settings: Settings, *, euid: int | None = None,
                       sysctl: Path = PROTECTED_HARDLINKS) -> None:
    """Refuse to serve a shared server from a setup whose safety rests on nothing.

    Root could write every 0444 object, so "users cannot modify shared data"
    would not hold; without ``protected_hardlinks`` a user could hardlink the
    daemon's objects into a directory of theirs and keep them past gc or a
    revoked grant. The socket must be reachable by users, so not in the 0700 home.
    """
    if (os.geteuid() if euid is None else euid) == 0:
        raise PermissionDenied(
            "service mode refuses to run as root: root can write the shared read-only objects",
            hint="run it as the dedicated service user (deploy/workspace.service does), "
            "or set mode = \"single\" to run a daemon for yourself")
    require_protected_hardlinks(sysctl)
    if settings.home in settings.socket_path.parents:
        raise InvalidInput(
            f"the socket {settings.socket_path} is inside the daemon's home {settings.home}, "
            "which is 0700 in service mode: no user could connect",
            hint="put it elsewhere, e.g. socket = \"/run/workspace/ws.sock\" (deploy/)")


def require_protected_hardlinks(sysctl: Path = PROTECTED_HARDLINKS) -> None:
    """``fs.protected_hardlinks`` must be 1 (the kernel then lets only owners relink a file)."""
    try:
        value = sysctl.read_text().strip()
    except OSError as exc:
        value = f"unreadable ({exc.strerror})"
    if value != "1":
        raise PermissionDenied(
            f"fs.protected_hardlinks is {value}, not 1: any user could then hardlink the "
            "daemon's objects (which they may read but not write) into their own directories "
            "and keep them after gc or after their access was revoked; the sharing model "
            "depends on the kernel refusing that",
            hint="run `sysctl -w fs.protected_hardlinks=1` and make it permanent in "
            "/etc/sysctl.d/ (it is the default on Debian), then start the daemon again")


@contextmanager
def _service_context(settings: Settings) -> Iterator[ServiceContext]:
    from workspace.db import Database, migrate
    from workspace.maintenance.pins import clear_stale_rows
    from workspace.maintenance.quotas import WriteLimits
    from workspace.maintenance.scrub import Scrubber
    from workspace.store import ObjectStore, prepare_leases
    from workspace.workspaces.context import ServiceContext, resolve_link_mode

    migrate(settings.db_url)
    db = Database(settings.db_url, background_checkpoints=True)
    store = ObjectStore.open(settings.store_path, private=settings.mode == "service",
                             max_acl_entries=settings.acl_max_entries)
    store.start_workers(file_workers(settings))
    prepare_leases()
    clear_stale_rows(db, store)
    log.info("database: %s; store: %s", _redact(settings.db_url), settings.store_path)
    link_mode = resolve_link_mode(settings.link_mode, os.geteuid())
    if link_mode == "hardlink" and os.geteuid() == 0:
        log.warning(ROOT_HARDLINKS)
    ctx = ServiceContext(db=db, store=store, mode=settings.mode, link_mode=link_mode,
                         limits=WriteLimits(min_free=settings.min_free))
    ctx.object_source = _object_source(settings, ctx)
    watcher = _start_watcher(settings, ctx)
    scrubber = Scrubber(ctx, interval=settings.scrub_interval,
                        period=settings.scrub_period).start() if settings.scrub_interval else None
    try:
        yield ctx
    finally:
        if scrubber is not None:
            scrubber.close()
        if watcher is not None:
            watcher.close()
        store.close()
        db.dispose()


def file_workers(settings: Settings) -> int:
    """How many worker processes link checkouts and write grants' ACLs: one per CPU unless
    ``file_workers`` says (0: none, all in the request's thread)."""
    if settings.file_workers is not None:
        return settings.file_workers
    return len(os.sched_getaffinity(0))


def _object_source(settings: Settings, ctx: ServiceContext) -> ObjectSource:
    """Checkouts fetch objects the store lacks from the default remote (``remotes/``)."""
    from workspace.remotes.backend import RemoteOptions
    from workspace.remotes.fetch import RemoteFetcher

    return RemoteFetcher(ctx.db, ctx.store, RemoteOptions.from_settings(settings))


def _start_watcher(settings: Settings, ctx: ServiceContext) -> WorkspaceWatcher | None:
    """The workspace watcher (``ws status`` from memory), unless off or inotify is missing."""
    if not settings.watch:
        return None
    try:
        from workspace.watch.workspaces import WorkspaceWatcher

        watcher = WorkspaceWatcher(ctx, state_dir=settings.home / "watch",
                                   rescan_interval=settings.watch_rescan_interval,
                                   max_watches=settings.watch_max_watches)
    except Exception as exc:  # no inotify here (or no instance left): status scans
        log.warning("not watching workspaces, status will scan: %s", exc)
        return None
    ctx.watcher = watcher
    return watcher


@contextmanager
def _passing_fds(app: FastAPI, socket_path: Path, ctx: ServiceContext) -> Iterator[None]:
    """The fd-passing socket beside the HTTP one (api/fdpass.py), for the Python API."""
    from workspace.api.fdpass import FdServer, fd_socket_path

    path = fd_socket_path(socket_path)
    server = FdServer(_bind_unix(path), app.state.fd_tickets, ctx.store).start()
    app.state.fd_socket = str(path)
    try:
        yield
    finally:
        server.close()
        _remove_socket(path)


def _prepare_home(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    if home.stat().st_mode & 0o077:
        os.chmod(home, 0o700)


@contextmanager
def _single_instance(lock_path: Path) -> Iterator[None]:
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
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
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
    logging.getLogger("casbin").setLevel(logging.ERROR)  # it logs every rule load and deny
