"""Trivium's exception tree.

```
TriviumError
├── ConfigurationError          raised at start-up: the app is set up wrongly
├── MissingDependencyError      an optional extra is not installed (also an ImportError)
HTTPException                   an HTTP error response, raised from handlers
├── RequestValidationError      422: the request did not match the handler's parameters
├── ServiceUnavailable          503 with Retry-After: a backend (database, store) is down
└── GatewayTimeout              504: a backend did not answer within its deadline
WebSocketException              close a websocket with a code and reason
ResponseValidationError         a handler returned data that doesn't fit its response model (500)
```

`OutageLog` is how a backend's outage is told in the log: one line when it starts, one
when it ends, whatever the number of requests that meet it in between.
"""

from __future__ import annotations

import http
import logging
import time
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

__all__ = [
    "ConfigurationError",
    "GatewayTimeout",
    "HTTPException",
    "MissingDependencyError",
    "OutageLog",
    "RequestValidationError",
    "ResponseValidationError",
    "ServiceUnavailable",
    "TriviumError",
    "WebSocketException",
    "unhandled_error",
]

UNHANDLED_KEY = "trivium.unhandled_error"
"""The scope key under which the app keeps the unexpected error a 500 answered."""


class TriviumError(Exception):
    """Root of trivium's own errors."""


class ConfigurationError(TriviumError):
    """The application is configured wrongly; raised at start-up, never per request."""

    def __init__(self, message: str, code: str | None = None) -> None:
        self.message = message
        """What is wrong and what to change."""
        self.code = code
        """A stable identifier documented in docs/errors.md."""
        super().__init__(f"[{code}] {message}" if code else message)

    @property
    def docs_url(self) -> str:
        """Where the code is explained: the configuration errors table of docs/errors.md."""
        return "docs/errors.md#configuration-errors"

    def one_line(self) -> str:
        """Return the message as the command line and start-up logs show it, with the link."""
        return f"{self} (see {self.docs_url})"


class MissingDependencyError(TriviumError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"{package!r} is not installed; install it with: pip install 'trivium[{extra}]'"
        )


class HTTPException(Exception):  # noqa: N818 - the name FastAPI and Starlette users know
    """Stop handling a request and answer with an HTTP error.

    The `detail` becomes the JSON body `{"detail": detail}`; `headers` are added to the
    response.
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            detail = http.HTTPStatus(status_code).phrase
        self.status_code = status_code
        """The response status."""
        self.detail = detail
        """JSON-serializable detail sent to the client."""
        self.headers = dict(headers) if headers else None
        """Extra response headers."""
        super().__init__(status_code, detail)

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class RequestValidationError(HTTPException):
    """The request's parameters or body failed validation (status 422).

    `errors()` returns pydantic-style error dicts with `type`, `loc`, `msg` and `input`.
    """

    def __init__(self, errors: Sequence[Mapping[str, Any]], body: Any = None) -> None:
        self._errors = list(errors)
        self.body = body
        """The request body as received, when one was read."""
        super().__init__(422, self._errors)

    def errors(self) -> list[Mapping[str, Any]]:
        """Return the list of validation errors."""
        return self._errors


def _retry_headers(
    retry_after: int | None, headers: Mapping[str, str] | None
) -> dict[str, str] | None:
    merged = dict(headers) if headers else {}
    if retry_after is not None:
        merged.setdefault("Retry-After", str(int(retry_after)))
    return merged or None


class ServiceUnavailable(HTTPException):
    """503: something the request needs (a database, a session store) is unreachable or full.

    The response carries `Retry-After` so that clients and load balancers back off and
    try again; batteries raise subclasses (`trivium.db.DatabaseUnavailableError`,
    `trivium.stores.StoreUnavailableError`) that the usual error handling answers.
    """

    def __init__(
        self,
        detail: Any = None,
        *,
        retry_after: int | None = 5,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.retry_after = retry_after
        """Seconds the client should wait before retrying (`None`: no `Retry-After`)."""
        super().__init__(503, detail, _retry_headers(retry_after, headers))


class GatewayTimeout(HTTPException):
    """504: a backend the request waited on did not answer within its deadline."""

    def __init__(
        self,
        detail: Any = None,
        *,
        retry_after: int | None = 5,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.retry_after = retry_after
        """Seconds the client should wait before retrying (`None`: no `Retry-After`)."""
        super().__init__(504, detail, _retry_headers(retry_after, headers))


class WebSocketException(Exception):  # noqa: N818 - mirrors Starlette's name
    """Close the websocket with `code` and `reason`."""

    def __init__(self, code: int, reason: str | None = None) -> None:
        self.code = code
        """The close code sent to the client."""
        self.reason = reason or ""
        """The close reason sent to the client."""
        super().__init__(code, self.reason)


class ResponseValidationError(ValueError):
    """A handler returned data that does not match its response model: a server bug (500).

    `errors()` returns pydantic-style error dicts; `body` is the value returned.
    """

    def __init__(
        self, message: str, errors: Sequence[Mapping[str, Any]] = (), body: Any = None
    ) -> None:
        super().__init__(message)
        self._errors = list(errors)
        self.body = body
        """What the handler returned."""

    def errors(self) -> list[Mapping[str, Any]]:
        """Return the list of validation errors."""
        return self._errors


class OutageLog:
    """Tell a backend's outage in two log lines: an error when it starts, a warning at its end.

    During an outage every request, poll or sweep meets the same failure; a line (and a
    traceback) for each would bury the log. Call `failed` on each failure and `recovered`
    on each success; only the first failure and the first success after it are logged.

    ```python
    outage = OutageLog(logging.getLogger("myapp"), "the search index")
    try:
        hits = await index.search(text)
    except OSError as exc:
        outage.failed("%s unreachable, answering 503: %s", outage.what, exc)
        raise ServiceUnavailable("search is unavailable") from exc
    outage.recovered()  # "the search index is available again after 3.2 s (41 failures)"
    ```

    `settle` keeps a success within that many seconds of the latest failure from ending
    the outage, so a backend failing on and off is one outage in the log, not many.
    """

    __slots__ = (
        "back",
        "counted",
        "down_since",
        "failures",
        "last_failure",
        "logger",
        "settle",
        "what",
    )

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        back: str = "is available again",
        counted: str = "failures",
        settle: float = 0.0,
    ) -> None:
        self.logger = logger
        """Where the two lines go."""
        self.what = what
        """The backend, as the closing line names it (`"Redis store"`)."""
        self.back = back
        """What the closing line says of it after its name."""
        self.counted = counted
        """What the closing line calls the failures it counts."""
        self.settle = settle
        """Seconds after the latest failure during which a success does not end the outage."""
        self.down_since: float | None = None
        """When the outage began (`time.monotonic()`), or `None` while all is well."""
        self.failures = 0
        """Failures during the current outage."""
        self.last_failure = 0.0
        """When the latest failure happened (`time.monotonic()`)."""

    @property
    def down(self) -> bool:
        """Whether an outage is under way."""
        return self.down_since is not None

    def failed(self, message: str, *args: object) -> bool:
        """Count a failure; the first of an outage logs `message % args` as an error.

        Returns whether this failure began the outage (and was logged).
        """
        self.failures += 1
        self.last_failure = time.monotonic()
        if self.down_since is not None:
            return False
        self.down_since = self.last_failure
        self.logger.error(message, *args)
        return True

    def recovered(self) -> bool:
        """Note a success; the first after an outage logs its end. Returns whether it did."""
        since = self.down_since
        if since is None:
            return False
        now = time.monotonic()
        if self.settle and now - self.last_failure < self.settle:
            return False
        seconds, failures = now - since, self.failures
        self.logger.warning(
            "%s %s after %.1f s (%d %s)", self.what, self.back, seconds, failures, self.counted
        )
        self.down_since, self.failures = None, 0
        return True


def unhandled_error(scope: Mapping[str, Any]) -> Exception | None:
    """Return the unexpected error the request's 500 answered, or `None`.

    For tracing and error reporting in a request step's `after` (or a middleware): an
    `HTTPException`, a validation error or anything an exception handler answered as
    expected is not one. The error is re-raised to the server after the response.
    """
    error = scope.get(UNHANDLED_KEY)
    return error if isinstance(error, Exception) else None


def describe_exception(exc: BaseException) -> str:
    """Name the exception and, but for a SyntaxError, the user's line that raised it.

    That is the last frame outside the standard library, installed packages and trivium:
    `os.environ["REDIS"]` fails in `<frozen os>`, which helps nobody. A SyntaxError's own
    message names its file and line.
    """
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, SyntaxError):
        return text  # its message already names the file and line
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        frame = next((f for f in reversed(frames) if _is_users(f.filename)), frames[-1])
        text += f" (at {frame.filename}, line {frame.lineno})"
    return text


def _is_users(filename: str) -> bool:
    import sysconfig
    from pathlib import Path

    if filename.startswith("<"):
        return False
    paths = sysconfig.get_paths()
    library = {paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"]}
    library.add(str(Path(__file__).resolve().parent))  # trivium itself
    resolved = str(Path(filename).resolve())
    return not any(resolved.startswith(folder.rstrip("/") + "/") for folder in library)
