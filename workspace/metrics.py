"""Prometheus metrics: the only module that imports ``prometheus_client``.

Where each figure comes from (docs/dashboard.md lists every metric):

- requests: ``MetricsMiddleware`` times every HTTP request and counts it by
  method, route *template* (``/v1/ls``, ``/ui/files``; never the raw path, so
  the label set stays bounded; the app names it, ``api/route_table.py``) and
  status;
- authorization decisions: ``api/authz.py`` calls ``Metrics.authorization``
  for every policy requirement it decides (allow, or deny with 403);
- store, datasets, audit: read at scrape time from the database with one
  aggregate statement each (``db/queries/stats.py``), never by walking the
  store, and reused for ``cache_seconds`` so a tight scrape loop costs nothing;
- audit checkpoint age: the tail of the checkpoint file, at every scrape;
- the workspace watcher: its in-memory counters, at every scrape.

Each app owns its own ``CollectorRegistry`` (no process-global state), so a
test may build several apps in one process.

Extension point: ``Metrics.add_source(source)`` registers a function that
reads more figures from the database in the same cached pass, e.g. the last
gc, fsck and scrub results (issue 10) once they are recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session

from workspace import __version__
from workspace.audit.checkpoint_file import Checkpoint
from workspace.db import Database
from workspace.db.queries import stats
from workspace.workspaces.context import Watcher

log = logging.getLogger("workspace.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)
_TAIL = 4096  # bytes read from the end of the checkpoint file: many lines

Source = Callable[[Session], Iterable[Metric]]
"""Reads figures from the database (in the scrape's read transaction) as metric families."""

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


class Services(Protocol):
    """What the collector reads: the database, and the watcher if one runs."""

    @property
    def db(self) -> Database: ...

    @property
    def watcher(self) -> Watcher | None: ...


class Metrics:
    """Every metric of one daemon, and its exposition."""

    def __init__(self, services: Services, *, checkpoint_file: Path,
                 cache_seconds: float) -> None:
        # No ``_created`` series beside each counter: a second time series per label set
        # that Prometheus does not need (its rate() handles restarts). Process-wide, and
        # this module is the process's only user of prometheus_client.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "workspace_http_requests", "HTTP requests answered, by route template and status.",
            ["method", "route", "status"], registry=self.registry)
        self._latency = Histogram(
            "workspace_http_request_duration_seconds",
            "Time from request to the last byte of the answer, by route template and status.",
            ["method", "route", "status"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self._decisions = Counter(
            "workspace_authz_decisions", "Authorization decisions on requests.",
            ["decision"], registry=self.registry)
        for decision in ("allow", "deny"):
            self._decisions.labels(decision)  # both series exist from the start
        self._state = StateCollector(services, checkpoint_file, cache_seconds)
        self.registry.register(self._state)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self._requests.labels(method, route, str(status)).inc()
        self._latency.labels(method, route, str(status)).observe(seconds)

    def authorization(self, allowed: bool) -> None:
        self._decisions.labels("allow" if allowed else "deny").inc()

    def add_source(self, source: Source) -> None:
        """Read more figures from the database at scrape time (cached with the store's)."""
        self._state.sources.append(source)

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)


@dataclass(frozen=True, slots=True)
class _Figures:
    """What one pass over the database found; reused until ``expires``."""

    taken: float
    expires: float
    families: list[Metric]
    audit_head: int


@dataclass(eq=False)  # the registry keys collectors by identity
class StateCollector(Collector):
    """Store, dataset, audit and watcher gauges, computed when Prometheus scrapes."""

    services: Services
    checkpoint_file: Path
    cache_seconds: float
    sources: list[Source] = field(default_factory=list)
    _figures: _Figures | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def collect(self) -> Iterator[Metric]:
        figures = self._current()
        yield from figures.families
        yield _gauge("workspace_metrics_database_age_seconds",
                     "Age of the database figures in this answer (they are cached).",
                     time.monotonic() - figures.taken)
        yield from _checkpoint_metrics(self.checkpoint_file, figures.audit_head)
        yield from _watcher_metrics(self.services.watcher)
        info = GaugeMetricFamily("workspace_build_info", "The daemon's version.",
                                 labels=["version"])
        info.add_metric([__version__], 1)
        yield info

    def _current(self) -> _Figures:
        with self._lock:  # concurrent scrapes share one pass over the database
            now = time.monotonic()
            if self._figures is None or now >= self._figures.expires:
                self._figures = self._read(now)
            return self._figures

    def _read(self, now: float) -> _Figures:
        with self.services.db.read() as session:
            families = list(_store_metrics(session))
            events, head = stats.audit_totals(session)
            families.append(_counter("workspace_audit_events",
                                     "Events in the audit log.", events))
            for source in self.sources:
                families.extend(source(session))
        return _Figures(now, now + self.cache_seconds, families, head)


def _store_metrics(session: Session) -> Iterator[Metric]:
    objects, physical = stats.object_totals(session)
    logical = stats.logical_bytes(session)
    yield _gauge("workspace_store_objects", "Objects in the store.", objects)
    yield _gauge("workspace_store_bytes", "Bytes in the store, each object counted once.",
                 physical)
    yield _gauge("workspace_store_logical_bytes",
                 "Bytes of every version of every dataset counted in full.", logical)
    yield _gauge("workspace_store_dedup_ratio",
                 "Logical bytes over stored bytes (1 when nothing is shared).",
                 logical / physical if physical else 1.0)
    size = GaugeMetricFamily("workspace_dataset_bytes",
                             "Bytes of the latest version of each dataset.", labels=["dataset"])
    files = GaugeMetricFamily("workspace_dataset_files",
                              "Files in the latest version of each dataset.", labels=["dataset"])
    versions = GaugeMetricFamily("workspace_dataset_versions",
                                 "Versions of each dataset.", labels=["dataset"])
    for row in stats.latest_sizes(session):
        size.add_metric([row.name], row.total_bytes)
        files.add_metric([row.name], row.file_count)
        versions.add_metric([row.name], row.latest)
    yield from (size, files, versions)


def _checkpoint_metrics(path: Path, head: int) -> Iterator[Metric]:
    checkpoint = last_checkpoint(path)
    if checkpoint is None:
        return  # absent, not zero: "no checkpoint yet" is something to alert on
    yield _gauge("workspace_audit_checkpoint_age_seconds",
                 "Seconds since the newest audit checkpoint was written.",
                 max(0.0, time.time() - _parse_time(checkpoint.at)))
    yield _gauge("workspace_audit_checkpoint_lag_events",
                 "Events appended after the newest checkpoint.", max(0, head - checkpoint.sequence))


def _watcher_metrics(watcher: Watcher | None) -> Iterator[Metric]:
    found = None if watcher is None else watcher.stats()
    yield _gauge("workspace_watch_enabled",
                 "1 when the workspace watcher runs (status answers from memory).",
                 0 if found is None else 1)
    if found is None:
        return
    paths = GaugeMetricFamily("workspace_watch_paths", "Tracked paths the watcher knows.",
                              labels=["state"])
    paths.add_metric(["watched"], found.paths - found.unwatched)
    paths.add_metric(["unwatched"], found.unwatched)
    yield paths
    yield _gauge("workspace_watch_watches", "inotify watches in use.", found.watches)
    yield _gauge("workspace_watch_watch_budget", "inotify watches the watcher may use.",
                 found.budget)
    yield _gauge("workspace_watch_polled_files",
                 "Linked files stat-ed at every status: no inotify watch on their inode.",
                 found.polled)
    yield _counter("workspace_watch_full_scans", "Full scans of tracked paths.",
                   found.full_scans)
    yield _counter("workspace_watch_queue_overflows",
                   "Times the kernel's inotify queue overflowed (events lost, all rescanned).",
                   found.overflows)


def last_checkpoint(path: Path) -> Checkpoint | None:
    """The newest readable checkpoint in the file, reading only its tail."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - _TAIL))
            tail = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    for line in reversed(tail.splitlines()):
        found = Checkpoint.parse(line)
        if found is not None:
            return found
    return None


def _parse_time(text: str) -> float:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0  # an unreadable time is "very old": alerts fire rather than stay quiet


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


Label = Callable[[Scope, str], str]
"""(scope after the request, root path before it) -> the request's route label."""


class MetricsMiddleware:
    """Times and counts every HTTP request (pure ASGI: streamed answers are timed to their
    last byte, and nothing is buffered). ``label`` names the route; the app knows how."""

    def __init__(self, app: Asgi, metrics: Metrics, label: Label) -> None:
        self.app = app
        self.metrics = metrics
        self.label = label

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, outer_root = time.perf_counter(), str(scope.get("root_path", ""))
        status = 500  # an exception that escapes the app is answered 500 outside of us

        async def observed_send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            self.metrics.observe_request(scope["method"], self.label(scope, outer_root),
                                         status, time.perf_counter() - started)
