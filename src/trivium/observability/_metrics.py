"""Prometheus metrics that add up across every worker process of a server.

Granian runs several worker processes; a counter kept in one worker's memory would make
`/metrics` answer whichever worker the scrape reached. With `PROMETHEUS_MULTIPROC_DIR`
set (`trivium run` sets it for the workers it starts), prometheus-client keeps each
value in a memory-mapped file per process, and `/metrics` adds them all up. Without it
(a single process, tests) the values live in a registry of this app.

Per request the cost is one precomputed child per route and method for the in-flight
gauge, and one per route, method and status (cached after the first response of that
status) for the counter and the histogram: no label look-up by string.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import MissingDependencyError

if TYPE_CHECKING:
    from trivium.app import App

__all__ = ["MULTIPROC_ENV", "Metrics", "RouteMetrics"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""The environment variable naming prometheus-client's folder of per-process files."""

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RouteMetrics:
    """The metric children of one route and method, built once at start-up."""

    __slots__ = ("_by_status", "_metrics", "in_flight", "labels")

    def __init__(self, metrics: Metrics, route: str, method: str) -> None:
        self._metrics = metrics
        self.labels = (route, method)
        self.in_flight: Any = metrics.in_flight.labels(route, method)
        self._by_status: dict[int, tuple[Any, Any]] = {}

    def observe(self, status: int, seconds: float) -> None:
        """Count one finished request of `status` that took `seconds`."""
        children = self._by_status.get(status)
        if children is None:
            route, method = self.labels
            code = str(status)
            children = (
                self._metrics.requests.labels(route, method, code),
                self._metrics.latency.labels(route, method, code),
            )
            self._by_status[status] = children
        children[0].inc()
        children[1].observe(seconds)


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
            buckets=_BUCKETS,
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
        """Return the children of `route` (its template) and `method`."""
        return RouteMetrics(self, route, method)

    def exposition(self) -> tuple[bytes, str]:
        """Return the text exposition of every metric and its content type."""
        import prometheus_client
        from prometheus_client import multiprocess

        registry = self.registry
        if self.multiprocess:
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
            event.listen(pool, "checkout", functools.partial(_count, gauge, 1))
            event.listen(pool, "checkin", functools.partial(_count, gauge, -1))


def _count(gauge: Any, step: int, *_event: object) -> None:
    gauge.inc(step)
