"""`Outage`: one log line when a broker, Redis or database stops answering, one when it's back.

During an outage every request that enqueues, every worker poll and every outbox sweep
meets the same error; a line (and a traceback) each would bury the log. Connection
errors and timeouts are the outage itself and get no traceback; any other error is a
bug and keeps it.
"""

from __future__ import annotations

import logging

from trivium.errors import OutageLog

__all__ = ["Outage", "is_outage"]

logger = logging.getLogger("trivium.tasks")


class Outage(OutageLog):
    """Log an outage once when it starts (error) and once when it ends (warning)."""

    __slots__ = ()

    def __init__(self, what: str) -> None:
        # `what` says what stops working, as the log says it (`receiving tasks`).
        super().__init__(logger, what, back="works again", counted="failed attempts")


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
