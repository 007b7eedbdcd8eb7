"""FastAPI's tutorial tests pass on trivium.compat at no less than the committed floor.

The harness (harness.py beside this file) fetches FastAPI's sdist from PyPI, ports its
`docs_src/` and `tests/test_tutorial/` with `trivium port fastapi`, and runs them on
trivium.compat and on FastAPI itself. This test runs the documented subset (`make test`
runs it over ASGI and again over RSGI) against `harness.SUBSET_RATE`; `make compat`
runs the whole tutorial suite against `harness.FULL_RATE`. Raise a floor when the compat
layer gets better; never lower it to make a regression pass.
"""

from __future__ import annotations

import importlib.util

import pytest
from tests.compat_fastapi import harness

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("fastapi") is None or importlib.util.find_spec("libcst") is None,
    reason="the tutorial suite needs fastapi (the baseline) and libcst: pip install -e '.[dev]'",
)


def test_tutorial_subset_pass_rate_stays_above_the_committed_floor() -> None:
    score = harness.run(subset=True)
    assert len(score.expected) > 300, "FastAPI itself passed too few tutorial tests to compare"
    worst = "\n".join(
        f"{len(nodes):4d} {message} (e.g. {nodes[0]})"
        for message, nodes in list(score.failures().items())[:15]
    )
    assert score.rate >= harness.SUBSET_RATE, f"{score.summary()}\nfailures by error:\n{worst}"
