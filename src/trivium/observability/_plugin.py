"""`Observability`: request IDs, access log, Prometheus metrics, traces and health routes.

Everything is a plugin on the public protocol: one request step compiled into each
route (no ASGI middleware), routes for `/metrics`, `/livez` and `/readyz`, and a
lifespan hook that attaches the database-pool gauge. A route costs one `before` and one
`after`; what they do is fixed at start-up by the options.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import itertools
import logging
import os
import random
import re
import time
from bisect import bisect_left
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from collections.abc import Sequence
from contextvars import ContextVar
from time import perf_counter
from typing import TYPE_CHECKING
from typing import Any

from trivium.errors import ConfigurationError
from trivium.errors import MissingDependencyError
from trivium.errors import unhandled_error
from trivium.http import Response
from trivium.middleware import current_request_id
from trivium.observability._health import Check
from trivium.observability._health import check_problems
from trivium.observability._health import readiness_checks
from trivium.observability._health import run_checks
from trivium.observability._metrics import BUCKETS
from trivium.observability._metrics import Metrics
from trivium.observability._metrics import RouteMetrics
from trivium.observability._tracing import RequestSpans
from trivium.plugins import Observer
from trivium.plugins import Plugin
from trivium.plugins import RequestStep
from trivium.plugins import RouteNeeds
from trivium.protocols.logging import bind_client
from trivium.protocols.logging import bind_request_id
from trivium.routing import Router

if TYPE_CHECKING:
    from trivium.app import App
    from trivium.http import HTTPConnection
    from trivium.http import Request
    from trivium.routing import BaseRoute

__all__ = ["Observability", "ObservabilityStep"]

access_logger = logging.getLogger("trivium.access")

_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
_started: ContextVar[float] = ContextVar("trivium_request_started", default=0.0)
_span: ContextVar[Any] = ContextVar("trivium_request_span", default=None)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class Observability(Plugin):
    """Request IDs, structured access logs, metrics, traces and health checks for an app.

    ```python
    app = App(plugins=[db, Observability(metrics=True, trusted_proxies=["10.0.0.0/8"])])
    ```

    Args:
        request_id_header: the header an incoming request ID is read from (when
            well-formed: 1-128 of `A-Za-z0-9._:+/=-`) and echoed in; else one is made.
        trusted_proxies: addresses or networks of proxies whose `X-Forwarded-For` is
            believed; the client address logged is the last one not among them.
        access_log: log one line per request (logger `trivium.access`).
        metrics: serve Prometheus metrics at `metrics_path` (extra `trivium[metrics]`).
        metrics_path: where the metrics are served.
        tracing: open an OpenTelemetry span per request, named by the route template
            (extra `trivium[otel]`; the project configures the SDK and exporter); or
            the OpenTelemetry `Tracer` to use instead of `trace.get_tracer("trivium")`.
        health: serve `/livez` and `/readyz`.
        checks: extra readiness checks by name: `async def` functions without
            arguments. A check passes when it returns `None` or `True`; it fails when it
            raises, returns `False`, or returns a string saying what is wrong.
        check_timeout: seconds each readiness check may take.

    Raises:
        ConfigurationError: a trusted proxy is not an address or network, or a check
            is not an `async def` function (`observability-option`).
        MissingDependencyError: `metrics` or `tracing` without its extra.
    """

    install_hint = "app.install(Observability())"

    def __init__(  # noqa: PLR0913 - keyword options of one plugin, documented above
        self,
        *,
        request_id_header: str = "x-request-id",
        trusted_proxies: Sequence[str] = (),
        access_log: bool = False,
        metrics: bool = False,
        metrics_path: str = "/metrics",
        tracing: bool | Any = False,
        health: bool = True,
        checks: Mapping[str, Check] | None = None,
        check_timeout: float = 2.0,
    ) -> None:
        self.header = request_id_header.lower()
        """The request ID header, lower-case."""
        self.header_bytes = self.header.encode("latin-1")
        self.trusted = _networks(trusted_proxies)
        """The proxies whose forwarding headers are believed."""
        self.access_log = access_log
        """Whether one line per request is logged."""
        self.metrics = Metrics() if metrics else None
        """The Prometheus metrics, or `None`."""
        self.metrics_path = metrics_path
        """Where the metrics are served."""
        self.tracer = (_tracer() if tracing is True else tracing) or None
        """The OpenTelemetry tracer, or `None`."""
        self.spans = RequestSpans(self.tracer) if self.tracer is not None else None
        """Starts each request's span in the incoming trace and makes it current."""
        self.health = health
        """Whether `/livez` and `/readyz` are served."""
        self.checks = dict(checks or {})
        not_async = check_problems(self.checks)
        if not_async:
            raise ConfigurationError(
                f"readiness check {', '.join(map(repr, not_async))} is not an async function; "
                "write it as `async def check() -> None` (run blocking work in it with "
                "`await anyio.to_thread.run_sync(...)`)",
                "observability-option",
            )
        """The project's own readiness checks."""
        self.check_timeout = check_timeout
        """Seconds each readiness check may take."""
        self.binds_client = bool(self.trusted) or access_log
        self._app: App | None = None
        self._own: set[Any] = set()

    def setup(self, app: App) -> None:
        """Remember the app, for the readiness checks of its databases and stores."""
        self._app = app

    def routes(self, app: App) -> Sequence[Router | BaseRoute]:
        """`/livez`, `/readyz` and (with `metrics=True`) the metrics route."""
        router = Router()
        if self.health:
            router.add_route("/livez", self._livez, ["GET"], include_in_schema=False)
            router.add_route("/readyz", self._readyz, ["GET"], include_in_schema=False)
            self._own.update((self._livez, self._readyz))
        if self.metrics is not None:
            router.add_route(self.metrics_path, self._metrics, ["GET"], include_in_schema=False)
            self._own.add(self._metrics)
        return [router]

    @property
    def watches_only(self) -> bool:
        """Whether routes need only an observer: no access log, traces or proxy addresses.

        Those read the request (its path, its client) and so take a request step.
        """
        return not (self.access_log or self.tracer is not None or self.trusted)

    def request_steps(self, route: RouteNeeds) -> Sequence[RequestStep]:
        """One step per route and method set (none for the plugin's own routes)."""
        if route.websocket or route.endpoint in self._own:
            return ()
        if self._observed(route):
            return ()  # an observer does it, cheaper (`observers`)
        template = "<unmatched>" if route.fallback else route.path
        return (ObservabilityStep(self, template, route.methods),)

    def observers(self, route: RouteNeeds) -> Sequence[Observer]:
        """The request ID and metrics of a route, when that is all there is to do."""
        if route.endpoint in self._own or not self._observed(route):
            return ()
        if self.metrics is None:
            return (RequestObserver(self),)
        (method,) = route.methods
        return (MeasuredObserver(self, self.metrics.route(route.path, method_label(method))),)

    def _observed(self, route: RouteNeeds) -> bool:
        """Whether an observer serves `route`, rather than the request step.

        An observer can't read the request's method: with metrics on, a route of several
        methods takes the step, which counts each request under its own method.
        """
        if not self.watches_only or route.fallback:
            return False
        return self.metrics is None or len(route.methods) == 1

    def lifespan(self, app: App) -> Any:
        """Attach the database-pool gauge and hand counts to the metrics while serving."""
        if self.metrics is None:
            return None
        self.metrics.watch_pools(app)
        return self.metrics.flushing()

    async def _livez(self) -> dict[str, str]:
        return {"status": "ok"}

    async def _readyz(self) -> Response:
        app = self._app
        checks = readiness_checks(app, self.checks) if app is not None else dict(self.checks)
        return await run_checks(checks, self.check_timeout)

    async def _metrics(self) -> Response:
        assert self.metrics is not None  # the route exists only with metrics on
        body, media_type = self.metrics.exposition()
        return Response(body, media_type=media_type)

    def client_of(self, connection: HTTPConnection) -> str | None:
        """Return the client's address: the socket peer, or forwarded by trusted proxies."""
        client = connection.client
        host = client.host if client is not None else None
        if host is None or not self.trusted or not self._is_trusted(host):
            return host
        forwarded = connection.headers.get("x-forwarded-for")
        if not forwarded:
            return host
        for hop in reversed([part.strip() for part in forwarded.split(",")]):
            if not hop or not self._is_trusted(hop):
                return hop or host
        return host

    def _is_trusted(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.trusted)


class RequestObserver(Observer):
    """The per-route observer: request ID (bound to log records and echoed), no metrics.

    It shares the ID choice (`_bind_id`) and the echo (`_echo`) with the request step.
    """

    __slots__ = ("header", "header_bytes")

    def __init__(self, plugin: Observability) -> None:
        self.header = plugin.header
        self.header_bytes = plugin.header_bytes

    def start(self, header: Callable[[str], str | None]) -> Any:
        """Bind the request's ID: the incoming one when well-formed, else a new one."""
        return _bind_id(header(self.header))

    def finish(self, started: Any, response: Response) -> None:
        """Echo the ID unless the response names one itself."""
        _echo(response.raw_headers, self.header_bytes, started)


class MeasuredObserver(RequestObserver):
    """`RequestObserver` plus the route's metrics: in-flight, count and latency by status."""

    __slots__ = ("children",)

    def __init__(self, plugin: Observability, children: RouteMetrics) -> None:
        super().__init__(plugin)
        self.children = children

    # `_bind_id`, `_echo` and `RouteMetrics.observe`, inline: these two run on every
    # request of every route, where each Python call is a measurable share.
    def start(self, header: Callable[[str], str | None]) -> Any:
        """Bind the request's ID and start the clock."""
        incoming = header(self.header)
        request_id = incoming if incoming and _ID.fullmatch(incoming) else _ids.next_id()
        bind_request_id(request_id)
        self.children.active += 1
        return request_id, perf_counter()

    def finish(self, started: Any, response: Response) -> None:
        """Echo the ID; count and time the request."""
        request_id, began = started
        seconds = perf_counter() - began
        children = self.children
        children.active -= 1
        status = response.status_code
        entry = children.pending.get(status) or children.entry(status)
        entry[0] += 1
        entry[1] += seconds
        entry[2][bisect_left(BUCKETS, seconds)] += 1
        raw = response.raw_headers
        name = self.header_bytes
        for key, _ in raw:
            if key == name:
                return
        raw.append((name, request_id.encode("latin-1")))


class ObservabilityStep(RequestStep):
    """The per-route step: request ID, client address, timing, metrics, span and access log."""

    __slots__ = ("by_method", "methods", "plugin", "template", "timed")

    order = 50  # before sessions and authentication, so their log lines carry the ID

    def __init__(self, plugin: Observability, template: str, methods: Collection[str] = ()) -> None:
        self.plugin = plugin
        self.template = template
        self.methods = frozenset(methods)
        """The route's methods (none for the fallback)."""
        self.by_method: dict[str, RouteMetrics] = {}
        """The route's metrics by request method, made on the method's first request."""
        self.timed = plugin.metrics is not None or plugin.access_log or plugin.tracer is not None

    def children(self, method: str) -> RouteMetrics | None:
        """Return the route's metrics for requests of `method`, or `None` without metrics."""
        found = self.by_method.get(method)
        if found is None:
            metrics = self.plugin.metrics
            if metrics is None:
                return None
            label = method_label(method)
            if label == "HEAD" and self.methods and "HEAD" not in self.methods:
                label = "GET"  # answered by the GET handler, as on routes an observer serves
            found = next(
                (known for known in self.by_method.values() if known.labels[1] == label), None
            ) or metrics.route(self.template, label)
            self.by_method[method] = found
        return found

    async def before(self, connection: HTTPConnection) -> None:
        """Bind the request ID and client address; start the clock, gauge and span."""
        plugin = self.plugin
        _bind_id(connection.header_value(plugin.header))
        if plugin.binds_client:
            bind_client(plugin.client_of(connection))
        if self.timed:
            _started.set(time.perf_counter())
        children = self.children(connection.scope.get("method", "GET"))
        if children is not None:
            children.active += 1
        if plugin.spans is not None:
            name = f"{connection.scope.get('method', '')} {self.template}"
            _span.set(plugin.spans.start(connection, name, self.template))

    async def after(self, request: Request, response: Response | None) -> None:
        """Echo the ID; count, time and log the request; end its span."""
        request_id = current_request_id()
        status = response.status_code if response is not None else 101
        if response is not None and request_id is not None:
            _echo(response.raw_headers, self.plugin.header_bytes, request_id)
        if not self.timed:
            return
        elapsed = time.perf_counter() - _started.get()
        children = self.children(request.scope.get("method", "GET"))
        if children is not None:
            children.active -= 1
            children.observe(status, elapsed)
        started = _span.get()
        if started is not None and self.plugin.spans is not None:
            self.plugin.spans.end(started, status, unhandled_error(request.scope))
            _span.set(None)
        if self.plugin.access_log:
            access_logger.info(
                "%s %s %d %.1fms",
                request.method,
                request.url.path,
                status,
                elapsed * 1000,
                extra={"status": status, "duration_ms": round(elapsed * 1000, 3)},
            )


class _IDs:
    """Request IDs: this process's random half, then a count (unique, not secret).

    `next_id()` is a `map` over a counter: formatting an ID runs no Python frame.
    """

    __slots__ = ("next_id",)

    def __init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        prefix = f"{random.getrandbits(64):016x}"
        self.next_id = map((prefix + "%016x").__mod__, itertools.count(1)).__next__


_ids = _IDs()
# A worker forked from a process that made IDs must not repeat them.
os.register_at_fork(after_in_child=_ids.reseed)


STANDARD_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")
)
"""The methods a metrics label names; any other counts as "OTHER" (the labels stay few)."""


def method_label(method: str) -> str:
    """Return the `method` label of a request of `method`."""
    return method if method in STANDARD_METHODS else "OTHER"


def _bind_id(incoming: str | None) -> str:
    """Bind the request's ID to its log records: the incoming one when well-formed, else new."""
    request_id = incoming if incoming and _ID.fullmatch(incoming) else _ids.next_id()
    bind_request_id(request_id)
    return request_id


def _echo(raw: list[tuple[bytes, bytes]], name: bytes, request_id: str) -> None:
    """Echo the request ID in the response unless the response names one itself."""
    for key, _ in raw:
        if key == name:
            return
    raw.append((name, request_id.encode("latin-1")))


def _networks(values: Sequence[str]) -> tuple[IPNetwork, ...]:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"trusted_proxies has {value!r}, which is not an IP address or network; "
                "write '10.0.0.1' or '10.0.0.0/8'",
                "observability-option",
            ) from None
    return tuple(networks)


def _tracer() -> Any:
    if importlib.util.find_spec("opentelemetry") is None:
        raise MissingDependencyError("opentelemetry-api", "otel")
    from opentelemetry import trace

    return trace.get_tracer("trivium")
