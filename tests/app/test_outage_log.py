"""`OutageLog`: one line when a backend's outage starts, one when it ends (public API)."""

from __future__ import annotations

import logging

import pytest

from trivium.errors import OutageLog

pytestmark = pytest.mark.drives_no_app

LOGGER = "tests.outage"


def _lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == LOGGER]


def test_one_line_when_it_starts_and_one_when_it_ends(caplog: pytest.LogCaptureFixture) -> None:
    outage = OutageLog(logging.getLogger(LOGGER), "search service")
    with caplog.at_level(logging.INFO, LOGGER):
        assert outage.recovered() is False  # nothing to end
        assert outage.failed("search down: %s", "refused") is True
        for _ in range(4):
            assert outage.failed("search down: %s", "refused") is False
        assert outage.down
        assert outage.failures == 5
        assert outage.recovered() is True
        assert outage.recovered() is False
    lines = _lines(caplog)
    assert [level for level, _ in lines] == ["ERROR", "WARNING"]
    assert lines[0][1] == "search down: refused"
    assert lines[1][1].startswith("search service is available again after ")
    assert lines[1][1].endswith(" s (5 failures)")
    assert not outage.down
    assert outage.failures == 0


def test_a_second_outage_is_told_again(caplog: pytest.LogCaptureFixture) -> None:
    outage = OutageLog(logging.getLogger(LOGGER), "broker", back="works again", counted="tries")
    with caplog.at_level(logging.INFO, LOGGER):
        for _ in range(2):
            outage.failed("broker down")
            outage.recovered()
    lines = _lines(caplog)
    assert [level for level, _ in lines] == ["ERROR", "WARNING"] * 2
    assert "broker works again after" in lines[1][1]
    assert lines[1][1].endswith("(1 tries)")


def test_settle_keeps_an_on_and_off_backend_one_outage(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    monkeypatch.setattr("trivium.errors.time.monotonic", lambda: now[0])
    outage = OutageLog(logging.getLogger(LOGGER), "pool", settle=1.0)
    with caplog.at_level(logging.INFO, LOGGER):
        outage.failed("pool exhausted")
        now[0] += 0.5
        assert outage.recovered() is False  # too soon after the failure
        outage.failed("pool exhausted")
        now[0] += 1.5
        assert outage.recovered() is True
    lines = _lines(caplog)
    assert len(lines) == 2
    assert lines[1][1] == "pool is available again after 2.0 s (2 failures)"
