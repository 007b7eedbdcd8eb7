"""Rate limits as route options, router options, an app-wide default and a dependency."""

from __future__ import annotations

import asyncio

import pytest
from tests.ratelimit.conftest import LimitsFactory

from trivium import App
from trivium import Depends
from trivium import HTTPException
from trivium import Request
from trivium import Router
from trivium.errors import ConfigurationError
from trivium.ratelimit import RateLimit
from trivium.ratelimit import RateLimits
from trivium.testing import AsyncTestClient
from trivium.testing import TestClient


def _statuses(client: TestClient, path: str, times: int) -> list[int]:
    return [client.get(path).status_code for _ in range(times)]


def test_route_limit_admits_n_then_answers_429_with_headers(make_limits: LimitsFactory) -> None:
    app = App(plugins=[make_limits()])

    @app.get("/search", rate_limit=RateLimit("3/hour"))
    async def search() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        first = client.get("/search")
        assert first.status_code == 200
        assert first.headers["ratelimit-limit"] == "3"
        assert first.headers["ratelimit-remaining"] == "2"
        assert 0 < int(first.headers["ratelimit-reset"]) <= 3600
        assert "retry-after" not in first.headers
        assert _statuses(client, "/search", 2) == [200, 200]
        refused = client.get("/search")
    assert refused.status_code == 429
    assert refused.headers["ratelimit-remaining"] == "0"
    assert 1100 < int(refused.headers["retry-after"]) <= 1200  # one request per 20 minutes
    assert refused.json() == {
        "detail": "Too many requests: the limit is 3 per hour; retry in "
        f"{refused.headers['retry-after']} s"
    }


def test_default_limits_every_route_with_one_budget_and_false_exempts(
    make_limits: LimitsFactory,
) -> None:
    app = App(plugins=[make_limits(default="2/hour")])

    @app.get("/a")
    async def a() -> None: ...

    @app.get("/b")
    async def b() -> None: ...

    @app.get("/health", rate_limit=False)
    async def health() -> None: ...

    with TestClient(app) as client:
        assert [client.get("/a").status_code, client.get("/b").status_code] == [200, 200]
        assert client.get("/a").status_code == 429
        health_answer = client.get("/health")
    assert health_answer.status_code == 200
    assert "ratelimit-limit" not in health_answer.headers


def test_router_limit_reaches_its_routes_and_a_route_value_wins(
    make_limits: LimitsFactory,
) -> None:
    app = App(plugins=[make_limits()])
    api = Router(rate_limit=RateLimit("1/hour"))

    @api.get("/one")
    async def one() -> None: ...

    @api.get("/two", rate_limit=RateLimit("5/hour"))
    async def two() -> None: ...

    app.include_router(api, prefix="/api")
    with TestClient(app) as client:
        assert _statuses(client, "/api/one", 2) == [200, 429]
        answer = client.get("/api/two")
    assert answer.headers["ratelimit-limit"] == "5"


def test_include_router_limit_applies_to_included_routes(make_limits: LimitsFactory) -> None:
    app = App(plugins=[make_limits()])
    api = Router()

    @api.get("/x")
    async def x() -> None: ...

    app.include_router(api, prefix="/v1", rate_limit=RateLimit("1/hour"))
    with TestClient(app) as client:
        assert _statuses(client, "/v1/x", 2) == [200, 429]


def test_dependency_limits_the_route_and_sets_headers(make_limits: LimitsFactory) -> None:
    app = App(plugins=[make_limits()])
    mail_limit = RateLimit("2/hour")

    @app.post("/mail", dependencies=[Depends(mail_limit)])
    async def mail() -> dict[str, str]:
        return {"sent": "yes"}

    with TestClient(app) as client:
        ok = client.post("/mail")
        assert ok.headers["ratelimit-remaining"] == "1"
        assert client.post("/mail").status_code == 200
        refused = client.post("/mail")
    assert refused.status_code == 429
    assert "retry-after" in refused.headers


def test_dependency_without_the_plugin_fails_naming_it() -> None:
    app = App()

    @app.get("/x", dependencies=[Depends(RateLimit("2/hour"))])
    async def x() -> None: ...

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/x").status_code == 500


def test_headers_are_written_on_401_and_403(make_limits: LimitsFactory) -> None:
    app = App(plugins=[make_limits()])

    def guard(request: Request) -> None:
        if request.headers.get("authorization") != "Bearer ok":
            raise HTTPException(401, "log in")
        raise HTTPException(403, "not yours")

    @app.get("/private", rate_limit=RateLimit("10/hour"), dependencies=[Depends(guard)])
    async def private() -> None: ...

    with TestClient(app) as client:
        unauthorized = client.get("/private")
        forbidden = client.get("/private", headers={"authorization": "Bearer ok"})
    assert unauthorized.status_code == 401
    assert unauthorized.headers["ratelimit-remaining"] == "9"
    assert forbidden.status_code == 403
    assert forbidden.headers["ratelimit-remaining"] == "8"


def test_an_unclaimed_rate_limit_fails_at_start_without_the_plugin() -> None:
    app = App()

    @app.get("/x", rate_limit=RateLimit("2/hour"))
    async def x() -> None: ...

    with pytest.raises(ConfigurationError, match="ratelimit") as info:
        app.build()
    assert info.value.code == "route-option-unclaimed"


@pytest.mark.parametrize(
    "rate",
    [
        "100",
        "ten/minute",
        "5/fortnight",
        "0/minute",
        "5 per 0 seconds",
        "",
        "5/ms",
        "5/hs",
        "5/ss",
        "５/second",
        "5/\u00b5s",
    ],
)
def test_bad_rates_are_refused_with_the_syntax(rate: str) -> None:
    with pytest.raises(ConfigurationError, match="100/minute") as info:
        RateLimit(rate)
    assert info.value.code == "ratelimit-rate"


@pytest.mark.parametrize(
    ("rate", "requests", "period"),
    [
        ("100/minute", 100, 60),
        ("5 per 10 seconds", 5, 10),
        ("10/s", 10, 1),
        ("1000/day", 1000, 86400),
        ("5/mins", 5, 60),
        ("2 per 3 hours", 2, 10800),
    ],
)
def test_rates_are_parsed(rate: str, requests: int, period: float) -> None:
    limit = RateLimit(rate)
    assert (limit.requests, limit.period) == (requests, period)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ConfigurationError) as info:
        RateLimit("1/minute", key="ip")  # type: ignore[arg-type]
    assert info.value.code == "ratelimit-option"
    with pytest.raises(ConfigurationError) as info:
        RateLimit("1/minute", cost=2)
    assert info.value.code == "ratelimit-option"
    with pytest.raises(ConfigurationError) as info:
        RateLimits(default=42)  # type: ignore[arg-type]
    assert info.value.code == "ratelimit-option"
    with pytest.raises(ConfigurationError) as info:
        RateLimits(store=object())
    assert info.value.code == "ratelimit-store"


def test_a_bad_route_value_fails_at_start() -> None:
    app = App(plugins=[RateLimits()])

    @app.get("/x", rate_limit=3)
    async def x() -> None: ...

    with pytest.raises(ConfigurationError, match="'/x'") as info:
        app.build()
    assert info.value.code == "ratelimit-option"


def test_per_message_on_an_http_route_fails_at_start() -> None:
    app = App(plugins=[RateLimits()])

    @app.get("/x", rate_limit=RateLimit("3/second", per_message=True))
    async def x() -> None: ...

    with pytest.raises(ConfigurationError, match="websocket") as info:
        app.build()
    assert info.value.code == "ratelimit-option"


def test_reset_gives_the_client_its_budget_back(make_limits: LimitsFactory) -> None:
    limits = make_limits()
    app = App(plugins=[limits])
    login_limit = RateLimit("2/hour")

    @app.post("/login", rate_limit=login_limit)
    async def login(request: Request, ok: bool = False) -> None:
        if not ok:
            raise HTTPException(401, "wrong password")
        await request.app.plugin(RateLimits).reset(request, [login_limit])

    with TestClient(app) as client:
        assert client.post("/login").status_code == 401
        assert client.post("/login", params={"ok": True}).status_code == 200
        assert [client.post("/login").status_code for _ in range(3)] == [401, 401, 429]


@pytest.mark.anyio
async def test_a_concurrent_burst_admits_exactly_the_limit(make_limits: LimitsFactory) -> None:
    # Concurrent checks of one key are charged together (one script run on Redis):
    # still exactly N pass, and the headers count down one by one.
    app = App(plugins=[make_limits()])

    @app.get("/x", rate_limit=RateLimit("10/hour"))
    async def x() -> None: ...

    async with AsyncTestClient(app) as client:
        answers = await asyncio.gather(*(client.get("/x") for _ in range(30)))
    statuses = [answer.status_code for answer in answers]
    assert statuses.count(200) == 10
    assert statuses.count(429) == 20
    remaining = sorted(
        int(a.headers["ratelimit-remaining"]) for a in answers if a.status_code == 200
    )
    assert remaining == list(range(10))


def test_limited_routes_document_their_429_in_openapi() -> None:
    app = App(plugins=[RateLimits(None)])

    @app.get("/limited", rate_limit=RateLimit("5/minute"))
    async def limited() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/free")
    async def free() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(app) as client:
        document = client.get("/openapi.json").json()
    answers = document["paths"]["/limited"]["get"]["responses"]
    assert "Too Many Requests" in answers["429"]["description"]
    schema = answers["429"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/RateLimited"}
    assert document["components"]["schemas"]["RateLimited"]["required"] == ["detail"]
    assert "429" not in document["paths"]["/free"]["get"]["responses"]
