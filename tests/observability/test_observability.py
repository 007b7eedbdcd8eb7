"""`trivium.observability`: request IDs, log context, metrics and health, over HTTP."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
from collections.abc import AsyncIterator
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from trivium import App
from trivium import Request
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.observability import Observability
from trivium.protocols.logging import JSONFormatter
from trivium.protocols.logging import TextFormatter
from trivium.testing import TestClient

log = logging.getLogger("tests.observability")


def make_app(**options: object) -> App:
    app = App(plugins=[Observability(**options)])  # type: ignore[arg-type]

    @app.get("/items/{id}")
    async def item(id: int) -> dict[str, int]:
        log.warning("reading item %d", id)
        return {"id": id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """JSON lines of every record logged while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def test_a_valid_incoming_request_id_is_kept_and_echoed() -> None:
    with TestClient(make_app()) as client:
        response = client.get("/items/1", headers={"X-Request-ID": "req-42.a"})
    assert response.headers["x-request-id"] == "req-42.a"


def test_a_missing_or_malformed_request_id_is_replaced() -> None:
    with TestClient(make_app()) as client:
        generated = client.get("/items/1").headers["x-request-id"]
        replaced = client.get("/items/1", headers={"X-Request-ID": "bad id!"})
    assert len(generated) == 32
    assert replaced.headers["x-request-id"] not in ("bad id", generated)
    assert len(replaced.headers["x-request-id"]) == 32


def test_generated_request_ids_are_unique_here_and_in_a_forked_worker() -> None:
    with TestClient(make_app()) as client:
        ids = [client.get("/items/1").headers["x-request-id"] for _ in range(50)]
    assert len(set(ids)) == 50
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    # A worker forked from this process makes IDs of its own, not this process's next ones.
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        with TestClient(make_app()) as child:
            os.write(write, child.get("/items/1").headers["x-request-id"].encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child_id = os.read(read, 64).decode()
    os.close(read)
    with TestClient(make_app()) as client:
        next_here = client.get("/items/1").headers["x-request-id"]
    assert len(child_id) == 32
    assert child_id[:16] != next_here[:16]
    assert child_id != next_here


def test_error_responses_carry_the_request_id() -> None:
    with TestClient(make_app(), raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "r1"})
        not_found = client.get("/nope", headers={"X-Request-ID": "r2"})
    assert (response.status_code, response.headers["x-request-id"]) == (500, "r1")
    assert (not_found.status_code, not_found.headers["x-request-id"]) == (404, "r2")


def test_automatic_options_answers_carry_the_request_id_and_are_counted() -> None:
    with TestClient(make_app(metrics=True)) as client:
        answer = client.options("/items/1", headers={"X-Request-ID": "r3"})
        exposition = client.get("/metrics").text
    assert answer.status_code == 204
    assert answer.headers["allow"] == "GET, HEAD, OPTIONS"
    assert answer.headers["x-request-id"] == "r3"
    assert 'route="<unmatched>",status="204"} 1.0' in exposition


def test_log_records_carry_time_level_logger_and_request_id(captured: io.StringIO) -> None:
    with TestClient(make_app()) as client:
        client.get("/items/7", headers={"X-Request-ID": "trace-7"})
    (record,) = [r for r in records(captured) if r["logger"] == "tests.observability"]
    assert record["message"] == "reading item 7"
    assert record["level"] == "WARNING"
    assert record["request_id"] == "trace-7"
    assert str(record["time"]).endswith("+00:00")


def test_access_log_names_the_forwarded_client_only_behind_a_trusted_proxy(
    captured: io.StringIO,
) -> None:
    logging.getLogger("trivium.access").setLevel(logging.INFO)
    headers = {"X-Forwarded-For": "203.0.113.9, 10.0.0.2"}
    trusting = make_app(access_log=True, trusted_proxies=["10.0.0.0/8", "127.0.0.1"])
    with TestClient(trusting, client=("10.0.0.1", 5000)) as client:
        client.get("/items/1", headers=headers)
    with TestClient(make_app(access_log=True), client=("10.0.0.1", 5000)) as client:
        client.get("/items/2", headers=headers)
    lines = [r for r in records(captured) if r["logger"] == "trivium.access"]
    assert [(line["client"], line["status"]) for line in lines] == [
        ("203.0.113.9", 200),
        ("10.0.0.1", 200),
    ]
    assert str(lines[0]["message"]).startswith("GET /items/1 200 ")


def test_text_format_is_one_readable_line(captured: io.StringIO) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(TextFormatter())
    log.addHandler(handler)
    try:
        with TestClient(make_app()) as client:
            client.get("/items/3", headers={"X-Request-ID": "t-3"})
    finally:
        log.removeHandler(handler)
    line = stream.getvalue().strip()
    assert "WARNING tests.observability [t-3 " in line
    assert line.endswith("reading item 3")


def _samples(text: str, name: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, _, value = line.rpartition(" ")
            found[labels[len(name) :]] = float(value)
    return found


def test_metrics_count_and_time_requests_by_route_template_and_status() -> None:
    with TestClient(make_app(metrics=True), raise_server_exceptions=False) as client:
        for id in ("1", "2", "x"):
            client.get(f"/items/{id}")
        client.get("/missing")
        text = client.get("/metrics").text
    counts = _samples(text, "trivium_requests_total")
    assert counts == {
        '{method="GET",route="/items/{id}",status="200"}': 2.0,
        '{method="GET",route="/items/{id}",status="422"}': 1.0,
        '{method="GET",route="<unmatched>",status="404"}': 1.0,
    }
    latency = _samples(text, "trivium_request_duration_seconds_count")
    assert latency['{method="GET",route="/items/{id}",status="200"}'] == 2.0
    assert set(_samples(text, "trivium_requests_in_flight").values()) == {0.0}


@pytest.mark.anyio
async def test_metrics_show_requests_in_flight_and_bucket_their_durations() -> None:
    import anyio

    from trivium.testing import AsyncTestClient

    app = App(plugins=[Observability(metrics=True)])
    entered, release = anyio.Event(), anyio.Event()

    @app.get("/slow")
    async def slow() -> str:
        entered.set()
        await release.wait()
        return "done"

    async with AsyncTestClient(app) as client, anyio.create_task_group() as group:
        group.start_soon(client.get, "/slow")
        await entered.wait()
        during = (await client.get("/metrics")).text
        await anyio.sleep(0.03)  # the request then lasts more than 25 ms
        release.set()
    async with AsyncTestClient(app) as client:
        after = (await client.get("/metrics")).text
    slow_route = '{method="GET",route="/slow"}'
    assert _samples(during, "trivium_requests_in_flight")[slow_route] == 1.0
    assert _samples(after, "trivium_requests_in_flight")[slow_route] == 0.0
    buckets = _samples(after, "trivium_request_duration_seconds_bucket")
    labels = 'method="GET",route="/slow",status="200"'
    took = _samples(after, "trivium_request_duration_seconds_sum")[f"{{{labels}}}"]
    assert took > 0.025
    for bound in ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "+Inf"):
        expected = 1.0 if bound == "+Inf" or took <= float(bound) else 0.0
        assert buckets[f'{{le="{bound}",{labels}}}'] == expected, bound


def test_metrics_route_is_off_unless_asked_for() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/metrics").status_code == 404


def test_database_pool_use_is_measured(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", migrations=tmp_path / "none")
    app = App(plugins=[db, Observability(metrics=True)])

    @app.get("/in-use")
    async def in_use(session: AsyncSession = db.depends()) -> str:
        await session.execute(text("SELECT 1"))
        return (await client_metrics())[0]

    async def client_metrics() -> tuple[str, str]:
        return app.plugin(Observability).metrics.exposition()  # type: ignore[union-attr,return-value]

    with TestClient(app) as client:
        during = client.get("/in-use").json()
        after = client.get("/metrics").text
    gauge = 'trivium_db_connections_in_use{database="default"}'
    assert f"{gauge} 1.0" in during
    assert f"{gauge} 0.0" in after


def test_livez_and_readyz_answer_when_all_is_well() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/livez").json() == {"status": "ok"}
        assert client.get("/readyz").json() == {"status": "ok", "checks": {}}


def test_readyz_fails_while_migrations_are_pending(tmp_path: Path) -> None:
    import anyio
    from sqlalchemy import Column
    from sqlalchemy import Integer
    from sqlalchemy import MetaData
    from sqlalchemy import Table

    from trivium.db import Database
    from trivium.db import Migrations

    metadata = MetaData()
    Table("posts", metadata, Column("id", Integer, primary_key=True))
    db = Database(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        migrations=tmp_path / "migrations",
        metadata=metadata,
    )
    anyio.run(Migrations(db).makemigrations, "create posts")
    app = App(plugins=[db, Observability()])
    with TestClient(app) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        problem = response.json()["checks"]["database:default"]
        assert problem.startswith("unapplied migrations: ")
        assert "trivium db migrate" in problem
        anyio.run(Migrations(db).migrate)
        assert client.get("/readyz").json()["checks"] == {"database:default": "ok"}


def _closing(store: Any) -> Any:
    """A lifespan closing `store` at shutdown (its connections belong to the app's loop)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await store.close()

    return lifespan


def test_readyz_fails_when_the_session_store_is_down() -> None:
    from trivium.sessions import Sessions
    from trivium.stores import RedisStore

    store = RedisStore("redis://127.0.0.1:1/0", timeout=0.5)
    app = App(
        plugins=[Sessions(secret_key="k" * 40, store=store), Observability()],
        lifespan=_closing(store),
    )
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["store:RedisStore"].startswith("failed (")


@pytest.mark.skipif(not os.environ.get("TRIVIUM_TEST_REDIS_URL"), reason="needs Redis")
def test_readyz_passes_with_redis_up() -> None:
    from trivium.sessions import Sessions
    from trivium.stores import RedisStore

    store = RedisStore(os.environ["TRIVIUM_TEST_REDIS_URL"])
    app = App(
        plugins=[Sessions(secret_key="k" * 40, store=store), Observability()],
        lifespan=_closing(store),
    )
    with TestClient(app) as client:
        assert client.get("/readyz").json()["checks"] == {"store:RedisStore": "ok"}


def test_project_checks_and_their_failures() -> None:
    async def queue() -> str:
        return "the queue is 5000 deep"

    async def cache() -> None:
        return None

    with TestClient(make_app(checks={"queue": queue, "cache": cache})) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"queue": "the queue is 5000 deep", "cache": "ok"}


def test_a_bad_trusted_proxy_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="observability-option"):
        Observability(trusted_proxies=["10.0.0.300"])


def test_request_steps_keep_other_plugins_working(captured: io.StringIO) -> None:
    from trivium.sessions import Sessions

    app = App(plugins=[Observability(), Sessions(secret_key="k" * 40)])

    @app.get("/count")
    async def count(request: Request) -> int:
        request.session["n"] = request.session.get("n", 0) + 1
        log.warning("count")
        return int(request.session["n"])

    with TestClient(app) as client:
        assert [client.get("/count").json() for _ in range(2)] == [1, 2]
    assert all(r.get("request_id") for r in records(captured) if r["message"] == "count")
