"""`trivium_db_connections_in_use` stays right through a database outage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from trivium import App
from trivium.db import Database
from trivium.observability import Observability
from trivium.testing import TestClient


def _in_use(client: TestClient) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("trivium_db_connections_in_use{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError("no trivium_db_connections_in_use sample")


def test_failed_connections_do_not_make_the_gauge_negative(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'app.db'}")
    app = App(plugins=[db, Observability(metrics=True)])
    down = {"now": False}

    def refuse(*_args: Any) -> None:
        if down["now"]:
            raise ConnectionRefusedError("database down (test)")

    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        assert _in_use(client) == 0
        down["now"] = True
        assert client.portal is not None
        # A checkout that fails (here: in a pool listener before the gauge's) still ends
        # in a check-in, as a connection that dies while being handed out does.
        event.listen(db.engine.sync_engine.pool, "checkout", refuse, insert=True)
        for _ in range(3):
            assert client.get("/readyz").status_code == 503
            assert _in_use(client) == 0
        down["now"] = False
        assert client.get("/readyz").status_code == 200
        assert _in_use(client) == 0
