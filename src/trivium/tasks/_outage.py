"""`Outage`: one log line when a broker, Redis or database stops answering, one when it's back.

During an outage every request that enqueues, every worker poll and every outbox sweep
meets the same error; a line (and a traceback) each would bury the log. Connection
errors and timeouts are the outage itself and get no traceback; any other error is a
bug and keeps it.
"""

from __future__ import annotations

import logging
import time

__all__ = ["Outage", "is_outage"]

logger = logging.getLogger("trivium.tasks")


class Outage:
    """Log an outage once when it starts (error) and once when it ends (warning)."""

    __slots__ = ("down_since", "failures", "what")

    def __init__(self, what: str) -> None:
        self.what = what
        """What stops working, as the log says it (`receiving tasks`)."""
        self.down_since: float | None = None
        """When the outage began (`time.monotonic()`), or `None` while all is well."""
        self.failures = 0
        """Failed attempts during the current outage."""

    def failed(self, message: str, *args: object) -> None:
        """Note a failed attempt; the first of an outage logs `message % args`."""
        self.failures += 1
        if self.down_since is None:
            self.down_since = time.monotonic()
            logger.error(message, *args)

    def recovered(self) -> None:
        """Note an attempt that worked; logs the end of an outage."""
        if self.down_since is None:
            return
        logger.warning(
            "%s works again after %.1f s (%d failed attempts)",
            self.what,
            time.monotonic() - self.down_since,
            self.failures,
        )
        self.down_since, self.failures = None, 0


def is_outage(exc: BaseException) -> bool:
    """Return whether `exc` says a server did not answer (no traceback needed).

    Connection errors and timeouts of the OS, redis-py, aio-pika and the database layer,
    and the 503s raised for them, are looked for on the cause chain and in groups.
    """
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from trivium.errors import ServiceUnavailable
    from trivium.tasks._errors import _amqp_down
    from trivium.tasks._errors import _causes

    expected = (OSError, TimeoutError, RedisConnectionError, RedisTimeoutError, ServiceUnavailable)
    for error in _causes(exc):
        if isinstance(error, expected):
            return True
        try:
            if _amqp_down(error):
                return True
        except ImportError:  # no aio-pika: not a RabbitMQ broker
            continue
    return False
