"""What a serving worker does once its app has started: settle the cyclic collector.

Everything built during start-up (modules, routes, validators, pools) lives as long as
the worker, so it is collected once and frozen out of the collector's scans.

Then the young generation's threshold is raised. CPython collects it each time 700 more
container objects exist than at the last collection. A worker under load keeps a few
thousand such objects alive only while its requests are in flight (sessions, rows,
parsed forms, frames), all of them freed by reference counting when each request ends:
the count crosses 700 again and again on the way up, and each crossing scans every
request in flight for cycles there are none of. Measured on the full-stack `form_post`
benchmark (64 connections), that was about 30 us of a 500 us post; with 10,000 the
collector hardly runs under load, and real cycles are still collected, a little later.
A threshold the app set itself (anything but CPython's default) is kept.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "settle_collector"]

YOUNG_THRESHOLD = 10_000
"""Net new container objects between two collections of the young generation."""

_CPYTHON_DEFAULT = (700, 10, 10)


def settle_collector() -> None:
    """Collect and freeze what start-up built; raise the young threshold if still CPython's."""
    gc.collect()
    gc.freeze()
    thresholds = gc.get_threshold()
    if thresholds == _CPYTHON_DEFAULT:
        gc.set_threshold(YOUNG_THRESHOLD, *thresholds[1:])
