"""File work in worker processes: a checkout's links and a grant's ACL writes off the daemon's GIL.

Why: a checkout of 10,000 files is mostly short system calls (link, lstat;
getxattr, setxattr for a grant), each releasing and taking back the one GIL
of the daemon. Eight users checking out at once made eight threads hand that
GIL to each other: one core busy, the other mostly idle
(``bench/bench_multiuser.py``). A worker is a process with its own GIL.

**What a worker is.** ``python -c "...workers.main()" FD``, started by
the daemon (same user, same environment) with one end of a Unix socket pair.
It is handed the store's ``objects/`` and ``tmp/`` directory fds once, then
jobs: a job is
a pickled request plus the directory fds it works in, passed with
SCM_RIGHTS. A worker never resolves a path: it makes the same fd-relative,
symlink-safe calls as the daemon's own thread would (``materialize.py``,
``acl.py``), and sends back what happened.

**What stays in the daemon.** Every decision and every lock: pins, fan-out
locks, the ACL lock, the database. The thread that sends a job waits for its
answer, holding whatever it holds, so each protocol is unchanged: a worker
is only where the system calls run. A worker that dies fails the job it had
(the operation reports an internal error, as an ``OSError`` would) and is
replaced for the next one. With no workers (``count`` 0, or none could
start) every job runs in the calling thread, the same code.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import queue
import selectors
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workspace.errors import WorkspaceError
from workspace.store.layout import StoreLayout

log = logging.getLogger("workspace.store")
_HEADER = struct.Struct("!Q")
_MAX_FDS = 8  # fds per message (a job sends one; SCM_RIGHTS carries at most 253)
_MAIN = "import sys; from workspace.store.workers import main; main(sys.argv[1:])"
"""Not ``-m workspace.store.workers``: the package imports this module first, and runpy
then warns that it runs a second copy."""


@dataclass(frozen=True)
class Job:
    """One request to a worker: ``kind`` (a function in ``jobs.py``), its arguments, and the
    fds it works in. The pool closes those fds once the job is sent (the worker has its own
    duplicates) or has run in-thread, so a caller makes jobs lazily, as a generator: only
    the jobs in flight hold directories open."""

    kind: str
    args: tuple[Any, ...]
    fds: tuple[int, ...] = ()


class WorkerDied(WorkspaceError):
    """A file worker exited in the middle of a job (see the daemon's log)."""


class _Worker:
    def __init__(self, layout: StoreLayout) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _MAIN, str(child.fileno())],
                pass_fds=(child.fileno(),), stdin=subprocess.DEVNULL, close_fds=True)
        finally:
            child.close()
        self.sock = parent
        self.dead = False
        send(self.sock, ("store", (layout.object_mode,)), (layout.objects_fd, layout.tmp_fd))

    def submit(self, job: Job) -> None:
        try:
            send(self.sock, (job.kind, job.args), job.fds)
        except OSError as exc:  # EPIPE: it had exited
            raise self._died() from exc
        finally:
            _close_all(job.fds)

    def result(self) -> Any:
        try:
            answer, _ = receive(self.sock)
        except (EOFError, OSError) as exc:
            raise self._died() from exc
        status, value = answer
        if status == "error":
            raise value
        return value

    def _died(self) -> WorkerDied:
        self.dead = True
        return WorkerDied("a file worker of the daemon exited during a job",
                          hint="see the daemon's log; run the command again")

    def close(self) -> None:
        self.sock.close()  # the worker sees EOF and exits
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class FileWorkers:
    """A few worker processes shared by every request; see the module docstring."""

    def __init__(self, layout: StoreLayout, count: int) -> None:
        self._layout = layout
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: list[_Worker] = []
        self._guard = threading.Lock()
        self.count = count
        for _ in range(count):
            self._spawn()

    def _spawn(self) -> None:
        worker = _Worker(self._layout)
        with self._guard:
            self._all.append(worker)
        self._idle.put(worker)

    def run(self, jobs: Iterable[Job], at_most: int,
            on_dropped: Callable[[Any], None] = lambda result: None
            ) -> Iterator[tuple[int, Any]]:
        """Run ``jobs`` on up to ``at_most`` workers, as many as are free (at least one: it
        waits for it); yields ``(index, result)`` as each ends. A job's error is raised
        when it ends; the jobs not yet started are then not made, and the results of those
        still running are given to ``on_dropped`` (to undo what they did). Workers are
        taken only once the caller starts iterating, and always given back."""
        first = self._take_first()
        if first is None:  # none left (every restart failed): the calling thread does it
            yield from run_in_thread(jobs, self._layout)
            return
        taken = [first]
        busy: dict[int, int] = {}  # socket fd -> job index
        try:
            while len(taken) < at_most:
                try:
                    taken.append(self._idle.get_nowait())
                except queue.Empty:
                    break
            yield from self._dispatch(iter(enumerate(jobs)), taken, busy)
        finally:
            self._give_back(taken, busy, on_dropped)

    def _take_first(self) -> _Worker | None:
        """A free worker, waiting for one; None if the pool has none left at all."""
        while True:
            with self._guard:
                if not self._all:
                    return None
            try:
                return self._idle.get(timeout=1.0)
            except queue.Empty:
                continue

    def _dispatch(self, waiting: Iterator[tuple[int, Job]], taken: list[_Worker],
                  busy: dict[int, int]) -> Iterator[tuple[int, Any]]:
        by_fd = {w.sock.fileno(): w for w in taken}
        with selectors.DefaultSelector() as sel:
            for worker in taken:
                if self._start_next(worker, waiting, busy):
                    sel.register(worker.sock, selectors.EVENT_READ)
            while busy:
                for key, _ in sel.select():
                    worker = by_fd[key.fd]
                    index = busy.pop(key.fd)
                    result = worker.result()
                    if not self._start_next(worker, waiting, busy):
                        sel.unregister(worker.sock)
                    yield index, result

    @staticmethod
    def _start_next(worker: _Worker, waiting: Iterator[tuple[int, Job]],
                    busy: dict[int, int]) -> bool:
        nxt = next(waiting, None)
        if nxt is None:
            return False
        worker.submit(nxt[1])
        busy[worker.sock.fileno()] = nxt[0]
        return True

    def _give_back(self, taken: list[_Worker], busy: dict[int, int],
                   on_dropped: Callable[[Any], None]) -> None:
        """Idle workers go back; one still busy (the caller stopped early, or it died) is
        drained or replaced, so the next job never reads an old answer."""
        for worker in taken:
            if worker.sock.fileno() in busy:
                with contextlib.suppress(Exception):  # its answer is only undone
                    on_dropped(worker.result())
            if not worker.dead and worker.process.poll() is None:
                self._idle.put(worker)
            else:
                log.error("a file worker exited (status %s); starting another",
                          worker.process.returncode)
                self._replace(worker)

    def _replace(self, worker: _Worker) -> None:
        worker.sock.close()
        with self._guard:
            self._all.remove(worker)
        try:
            self._spawn()
        except OSError:
            log.exception("could not start a file worker; %d left", len(self._all))

    def close(self) -> None:
        with self._guard:
            workers, self._all = self._all, []
        for worker in workers:
            worker.close()


def run_in_thread(jobs: Iterable[Job], layout: StoreLayout) -> Iterator[tuple[int, Any]]:
    """The same jobs in the calling thread (no workers)."""
    from workspace.store.jobs import JOBS

    for index, job in enumerate(jobs):
        try:
            result = JOBS[job.kind](layout, job.fds, *job.args)
        finally:
            _close_all(job.fds)
        yield index, result


def _close_all(fds: Sequence[int]) -> None:
    for fd in fds:
        os.close(fd)


# ---- the wire: a length, a pickle, and fds riding on the length ---------------------------


def send(sock: socket.socket, message: Any, fds: Sequence[int] = ()) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    header = _HEADER.pack(len(payload))
    if fds:
        socket.send_fds(sock, [header], list(fds))
    else:
        sock.sendall(header)
    sock.sendall(payload)


def receive(sock: socket.socket) -> tuple[Any, list[int]]:
    header, fds, _, _ = socket.recv_fds(sock, _HEADER.size, _MAX_FDS)
    if not header:
        raise EOFError("the other end closed")
    header += _exactly(sock, _HEADER.size - len(header))
    (size,) = _HEADER.unpack(header)
    return pickle.loads(_exactly(sock, size)), fds


def _exactly(sock: socket.socket, size: int) -> bytes:
    parts: list[bytes] = []
    while size:
        part = sock.recv(min(size, 1 << 20))
        if not part:
            raise EOFError("the other end closed")
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


# ---- the worker's side --------------------------------------------------------------------


def serve(sock: socket.socket, jobs: dict[str, Callable[..., Any]]) -> None:
    """Answer jobs until the daemon closes its end."""
    (_, (object_mode,)), (objects_fd, tmp_fd) = receive(sock)
    layout = StoreLayout(Path("."), -1, objects_fd, tmp_fd, object_mode=object_mode)
    while True:
        try:
            (kind, args), fds = receive(sock)
        except EOFError:
            return
        try:
            answer: tuple[str, Any] = ("ok", jobs[kind](layout, tuple(fds), *args))
        except Exception as exc:  # sent back, raised in the daemon
            answer = ("error", _sendable(exc))
        finally:
            for fd in fds:
                os.close(fd)
        send(sock, answer)


def _sendable(exc: Exception) -> Exception:
    try:
        pickle.dumps(exc)
    except Exception:  # one that does not pickle: its text
        return WorkspaceError(f"a file worker failed: {type(exc).__name__}: {exc}")
    return exc


def main(argv: list[str]) -> None:
    from workspace.store.jobs import JOBS
    from workspace.store.leases import prepare_leases

    prepare_leases()  # adoption takes read leases here too
    sock = socket.socket(fileno=int(argv[0]))
    serve(sock, JOBS)
    sock.close()

