"""`Retry`: how often and how soon a failed task runs again."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from trivium.errors import ConfigurationError

__all__ = ["Retry", "retry_policy"]


@dataclass(frozen=True, slots=True)
class Retry:
    """A task's retry policy: exponential backoff with jitter, up to `max_attempts` runs.

    Attempt `n` (counting from 1) that fails with one of the `on` exception types is
    run again after `min(max_delay, delay * 2 ** (n - 1))` seconds; with `jitter` the
    wait is drawn between half that and all of it, so that tasks failing together
    (an outage) do not all come back at once.
    """

    max_attempts: int = 1
    """How many times the task runs at most (1: never retried)."""
    delay: float = 1.0
    """The wait before the second attempt, in seconds; it doubles for each later one."""
    max_delay: float = 600.0
    """The longest wait between two attempts, in seconds."""
    jitter: bool = True
    """Whether waits are randomised (between half the computed wait and all of it)."""
    on: tuple[type[BaseException], ...] | type[BaseException] = (Exception,)
    """The exception types that are retried; any other fails the task at once.

    One class (`on=ConnectionError`) is kept as a tuple of one.
    """

    def __post_init__(self) -> None:
        if not _whole(self.max_attempts) or self.max_attempts < 1:
            raise ConfigurationError(
                f"Retry(max_attempts={self.max_attempts!r}): give a whole number >= 1",
                "tasks-retry",
            )
        if (
            not (_number(self.delay) and _number(self.max_delay))
            or math.isnan(self.delay)
            or math.isnan(self.max_delay)
            or min(self.delay, self.max_delay) < 0
        ):
            raise ConfigurationError(
                f"Retry(delay={self.delay!r}, max_delay={self.max_delay!r}): "
                "give waits in seconds, >= 0",
                "tasks-retry",
            )
        on = self.on
        kinds = (on,) if isinstance(on, type) else on
        if (
            not isinstance(kinds, (tuple, list, set, frozenset))
            or not kinds
            or not all(isinstance(kind, type) and issubclass(kind, BaseException) for kind in kinds)
        ):
            raise ConfigurationError(
                f"Retry(on={on!r}): give an exception class or a tuple of them", "tasks-retry"
            )
        object.__setattr__(self, "on", tuple(kinds))  # frozen: set once, normalised

    def retries(self, attempt: int, error: BaseException) -> bool:
        """Whether attempt number `attempt`, failed with `error`, is run again."""
        return attempt < self.max_attempts and isinstance(error, self.on)

    def wait(self, attempt: int) -> float:
        """Return the seconds to wait after failed attempt number `attempt`."""
        # 2.0 ** 1024 overflows (OverflowError) where a policy of thousands of attempts
        # reaches it; any delay > 0 has met a finite max_delay long before 2 ** 1023.
        doubled = min(max(attempt - 1, 0), 1023)
        seconds = float(min(self.max_delay, self.delay * 2.0**doubled))
        if self.jitter:
            seconds = seconds / 2 + random.uniform(0, seconds / 2)  # noqa: S311 - not crypto
        return seconds


def retry_policy(retry: object) -> Retry:
    """Return the `Retry` of a task's `retry=` (a policy, a number of attempts or `None`).

    Raises:
        ConfigurationError: anything else (`tasks-retry`).
    """
    if retry is None:
        return Retry()
    if isinstance(retry, Retry):
        return retry
    if isinstance(retry, int) and not isinstance(retry, bool):
        return Retry(max_attempts=retry)
    raise ConfigurationError(
        f"task retry={retry!r}: give a Retry(...) or a whole number of attempts (retry=3)",
        "tasks-retry",
    )


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
