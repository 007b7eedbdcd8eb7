"""Prometheus metrics that add up across every worker process of a server.

Granian runs several worker processes; a counter kept in one worker's memory would make
`/metrics` answer whichever worker the scrape reached. With `PROMETHEUS_MULTIPROC_DIR`
set (`trivium run` sets it for the workers it starts), prometheus-client keeps each
value in a memory-mapped file per process, and `/metrics` adds them all up. Without it
(a single process, tests) the values live in a registry of this app.

Per request the cost is a few additions to plain numbers of the route's own: a request
count, a sum of durations and a histogram bucket per status, and the in-flight count.
They reach prometheus-client's values (locked, and in files when several workers share
them) in one batch: whenever metrics are read from this process, and once a second
while serving with several workers, so another worker's scrape sees this one's
requests at most a second late. Taking prometheus-client's lock and writing its file
on every request cost more than the request itself (see bench/observability).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import MissingDependencyError

if TYPE_CHECKING:
    from trivium.app import App

__all__ = ["BUCKETS", "MULTIPROC_ENV", "Metrics", "RouteMetrics"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""The environment variable naming prometheus-client's folder of per-process files."""

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
FLUSH_SECONDS = 1.0
"""How often a worker of several hands its counts to the shared files."""


class RouteMetrics:
    """The counts of one route and method, kept in plain numbers between flushes."""

    __slots__ = ("_by_status", "_gauge", "_metrics", "active", "labels", "pending")

    def __init__(self, metrics: Metrics, route: str, method: str) -> None:
        self._metrics = metrics
        self.labels = (route, method)
        self.active = 0
        """Requests of this route being served now."""
        self._gauge: Any = metrics.in_flight.labels(route, method)
        self._by_status: dict[int, tuple[Any, Any]] = {}
        self.pending: dict[int, list[Any]] = {}
        """Since the last flush, by status: `[count, seconds, count per bucket of BUCKETS]`.

        The bucket list has one more entry than `BUCKETS`: requests slower than them all.
        """

    def observe(self, status: int, seconds: float) -> None:
        """Count one finished request of `status` that took `seconds`."""
        entry = self.pending.get(status) or self.entry(status)
        entry[0] += 1
        entry[1] += seconds
        entry[2][bisect.bisect_left(BUCKETS, seconds)] += 1

    def entry(self, status: int) -> list[Any]:
        """Return the pending counts of `status`, made empty on the first request since a flush."""
        entry = self.pending.get(status)
        if entry is None:
            entry = self.pending[status] = [0, 0.0, [0] * (len(BUCKETS) + 1)]
        return entry

    def flush(self) -> None:
        """Add the counts since the last flush to prometheus-client's values."""
        self._gauge.set(self.active)
        pending, self.pending = self.pending, {}
        for status, (count, seconds, buckets) in pending.items():
            counter, histogram = self._children(status)
            counter.inc(count)
            # The histogram's own values: `observe()` one at a time is what we avoid.
            histogram._sum.inc(seconds)
            for value, added in zip(histogram._buckets, buckets, strict=True):
                if added:
                    value.inc(added)

    def _children(self, status: int) -> tuple[Any, Any]:
        children = self._by_status.get(status)
        if children is None:
            route, method = self.labels
            code = str(status)
            children = (
                self._metrics.requests.labels(route, method, code),
                self._metrics.latency.labels(route, method, code),
            )
            self._by_status[status] = children
        return children


class _Flushing:
    """A collector that yields nothing: reading the registry flushes the counts first."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> list[Any]:
        self.metrics.flush()
        return []


class Metrics:
    """The app's request and database-pool metrics, and the `/metrics` exposition."""

    def __init__(self, namespace: str = "trivium") -> None:
        try:
            import prometheus_client
        except ModuleNotFoundError:
            raise MissingDependencyError("prometheus-client", "metrics") from None
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        """Whether values are shared through prometheus-client's multiprocess files."""
        self.registry = prometheus_client.CollectorRegistry(auto_describe=True)
        """The registry the metrics are created in (per app)."""
        registry = self.registry
        self._routes: list[RouteMetrics] = []
        # First, so that whoever reads the registry sees the counts up to now.
        registry.register(_Flushing(self))
        self.requests = prometheus_client.Counter(
            f"{namespace}_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = prometheus_client.Histogram(
            f"{namespace}_request_duration_seconds",
            "Time from the request's arrival at the app to its response, in seconds.",
            ["route", "method", "status"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.in_flight = prometheus_client.Gauge(
            f"{namespace}_requests_in_flight",
            "Requests being served.",
            ["route", "method"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.pool_in_use = prometheus_client.Gauge(
            f"{namespace}_db_connections_in_use",
            "Database connections checked out of the pool, by database.",
            ["database"],
            registry=registry,
            multiprocess_mode="livesum",
        )

        self._pools: set[int] = set()

    def route(self, route: str, method: str) -> RouteMetrics:
        """Return the counts of `route` (its template) and `method`."""
        found = RouteMetrics(self, route, method)
        self._routes.append(found)
        return found

    def flush(self) -> None:
        """Hand every route's counts since the last flush to prometheus-client."""
        for route in self._routes:
            route.flush()

    @contextlib.asynccontextmanager
    async def flushing(self) -> AsyncIterator[None]:
        """Flush once a second while the block runs (several workers), and at its end."""
        task = asyncio.create_task(self._flush_often()) if self.multiprocess else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.flush()

    async def _flush_often(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            self.flush()

    def exposition(self) -> tuple[bytes, str]:
        """Return the text exposition of every metric and its content type."""
        import prometheus_client
        from prometheus_client import multiprocess

        registry = self.registry
        if self.multiprocess:
            self.flush()  # this worker's counts, up to now; the others' are a second old at most
            drop_dead_workers(os.environ[MULTIPROC_ENV])
            registry = prometheus_client.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return prometheus_client.generate_latest(registry), prometheus_client.CONTENT_TYPE_LATEST

    def watch_pools(self, app: App) -> None:
        """Count the connections the app's databases have checked out (pool events)."""
        import sys

        if "trivium.db" not in sys.modules:
            return
        from sqlalchemy import event

        from trivium.db import Database

        for database in app.plugins_of(Database):
            gauge = self.pool_in_use.labels(database.name)
            pool = database.engine.sync_engine.pool
            if id(pool) in self._pools:
                continue
            self._pools.add(id(pool))
            event.listen(pool, "checkout", functools.partial(_checked_out, gauge))
            event.listen(pool, "checkin", functools.partial(_checked_in, gauge))


def drop_dead_workers(folder: str) -> None:
    """Forget the live gauges of worker processes that died without cleaning up.

    A worker killed mid-request leaves its in-flight and pool counts in its `livesum`
    files; prometheus-client would add them up forever.
    """
    from prometheus_client import multiprocess

    for path in Path(folder).glob("gauge_live*_*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _alive(int(pid)):
            multiprocess.mark_process_dead(int(pid), folder)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_COUNTED = "trivium.metrics.counted"
"""Marks a pool record the gauge counted: SQLAlchemy also checks in records whose
checkout failed (a connection lost while being handed out), which were never counted."""


def _checked_out(gauge: Any, _connection: object, record: Any, _proxy: object) -> None:
    record.record_info[_COUNTED] = True
    gauge.inc()


def _checked_in(gauge: Any, _connection: object, record: Any) -> None:
    if record.record_info.pop(_COUNTED, False):
        gauge.dec()
