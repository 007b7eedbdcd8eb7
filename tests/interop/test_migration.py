from __future__ import annotations

import pytest
from tests.interop.flask_legacy import create_app

from trivium import App
from trivium import Request
from trivium.errors import ConfigurationError
from trivium.interop import Legacy
from trivium.interop import ShadowReport
from trivium.testing import TestClient


def make_app(**switch) -> tuple[App, list[ShadowReport]]:
    reports: list[ShadowReport] = []
    legacy = Legacy(create_app(), workers=2)
    app = App(plugins=[legacy])
    router = legacy.router(on_difference=reports.append, **switch)

    @router.get("/orders/{order_id}")
    async def order(order_id: int) -> dict[str, object]:
        return {"id": order_id, "source": "trivium" if order_id != 7 else "flask"}

    app.include_router(router)
    return app, reports


def test_unmatched_paths_fall_through_to_the_legacy_app():
    app, _ = make_app()
    with TestClient(app) as client:
        assert client.get("/hello?name=bo").json()["hello"] == "bo"
        assert client.get("/hello").json()["self"] == "/hello"


def test_triviums_own_docs_routes_win_over_the_legacy_app():
    app, _ = make_app()
    with TestClient(app) as client:
        response = client.get("/docs")
        assert response.headers["content-type"].startswith("text/html")  # Swagger UI
        assert client.get("/openapi.json").json()["openapi"].startswith("3.")


def test_with_triviums_docs_turned_off_their_paths_reach_the_legacy_app():
    app = App(plugins=[Legacy(create_app(), workers=2)], openapi_url=None)
    with TestClient(app) as client:
        assert client.get("/docs").json() == {"docs": "flask"}
        assert client.get("/openapi.json").status_code == 404  # Flask's own 404


def test_a_migrated_route_answers_from_trivium():
    app, _ = make_app()
    with TestClient(app) as client:
        assert client.get("/orders/3").json() == {"id": 3, "source": "trivium"}


def test_methods_the_new_route_lacks_still_reach_the_legacy_app():
    app, _ = make_app()
    with TestClient(app) as client:
        response = client.delete("/orders/3")
        assert response.status_code == 204  # Flask's answer, not trivium's 405


def test_without_legacy_fallback_an_unrouted_method_is_405():
    app = App()

    @app.get("/orders/{order_id}")
    async def order(order_id: int) -> dict[str, int]:
        return {"id": order_id}

    with TestClient(app) as client:
        assert client.delete("/orders/3").status_code == 405


def test_canary_header_picks_the_side():
    app, _ = make_app(percent=0, header="X-Canary")
    with TestClient(app) as client:
        assert client.get("/orders/3").json()["source"] == "flask"
        assert (
            client.get("/orders/3", headers={"x-canary": "trivium"}).json()["source"] == "trivium"
        )
        assert client.get("/orders/3", headers={"x-canary": "legacy"}).json()["source"] == "flask"


def test_header_can_send_a_request_back_to_the_legacy_app():
    app, _ = make_app(percent=100, header="X-Canary")
    with TestClient(app) as client:
        assert client.get("/orders/3").json()["source"] == "trivium"
        assert client.get("/orders/3", headers={"x-canary": "0"}).json()["source"] == "flask"


def test_percentage_splits_requests_between_both_sides():
    app, _ = make_app(percent=50)
    with TestClient(app) as client:
        sources = {client.get("/orders/3").json()["source"] for _ in range(60)}
    assert sources == {"trivium", "flask"}


def test_shadow_mode_answers_from_legacy_and_reports_differences():
    app, reports = make_app(shadow=True)
    with TestClient(app) as client:
        response = client.get("/orders/3")
        assert response.json() == {"id": 3, "source": "flask"}
        assert len(reports) == 1
        report = reports[0]
        assert (report.method, report.path) == ("GET", "/orders/3")
        assert report.legacy_status == report.trivium_status == 200
        assert b'"trivium"' in report.trivium_body
        assert b'"flask"' in report.legacy_body


def test_shadow_mode_reports_nothing_when_both_agree():
    app, reports = make_app(shadow=True)
    with TestClient(app) as client:
        # Order 7 answers what Flask answers, spelled differently (key order, spacing).
        response = client.get("/orders/7")
    assert response.json() == {"id": 7, "source": "flask"}
    assert reports == []


def test_shadow_mode_logs_a_failing_handler_without_showing_it(caplog):
    reports: list[ShadowReport] = []
    legacy = Legacy(create_app())
    app = App(plugins=[legacy])
    router = legacy.router(shadow=True, on_difference=reports.append)

    @router.get("/hello")
    async def hello() -> dict[str, str]:
        raise RuntimeError("not ready")

    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/hello").json()["hello"] == "world"
    assert [r.trivium_status for r in reports] == [500]


@pytest.mark.parametrize(
    "options",
    [
        {"percent": 150},
        {"percent": -1},
        {"percent": "10"},
        {"header": "bad header"},
        {"header": ""},
    ],
)
def test_bad_switch_options_are_configuration_errors(options):
    legacy = Legacy(create_app())
    with pytest.raises(ConfigurationError, match="percent|header") as info:
        legacy.router(**options)
    assert info.value.code == "interop-switch"


def test_an_asgi_legacy_app_is_mounted_as_it_is():
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def old(request):
        return JSONResponse({"from": "starlette", "root_path": request.scope["root_path"]})

    legacy = Legacy(Starlette(routes=[Route("/old", old)]), path="/s")
    assert not hasattr(legacy.app, "executor")  # served as it is, no WSGI bridge
    app = App(plugins=[legacy])
    with TestClient(app) as client:
        assert client.get("/s/old").json() == {"from": "starlette", "root_path": "/s"}


def test_shadow_mode_replays_the_request_body_to_both_sides():
    reports: list[ShadowReport] = []
    legacy = Legacy(create_app())
    app = App(plugins=[legacy])
    router = legacy.router(shadow=True, on_difference=reports.append, shadow_body_limit=1000)

    @router.post("/form")
    async def form(request: Request) -> dict[str, object]:
        data = await request.form()
        return {"name": data["name"].upper(), "tags": data.getlist("tag")}

    app.include_router(router)
    with TestClient(app) as client:
        response = client.post("/form", data={"name": "ann", "tag": ["a"]})
        assert response.json() == {"name": "ann", "tags": ["a"]}  # the legacy answer
        assert len(reports) == 1
        assert b'"ANN"' in reports[0].trivium_body
        # A body over the limit is served by the legacy app alone, whole.
        big = client.post("/form", data={"name": "x" * 5000})
        assert big.json()["name"] == "x" * 5000
        assert len(reports) == 1


def path_echo(environ, start_response):
    start_response("200 OK", [("content-type", "text/plain")])
    return [b"legacy " + environ["PATH_INFO"].encode()]


def test_a_converter_lets_the_paths_it_refuses_fall_through_to_the_legacy_app():
    """What docs/migrate-from-*.md recommend for Flask's and Django's `<int:id>`."""
    app = App(plugins=[Legacy(path_echo, workers=1)])

    @app.get("/notes/{note_id:int}")
    async def note(note_id: int) -> dict[str, int]:
        return {"id": note_id}

    with TestClient(app) as client:
        assert client.get("/notes/3").json() == {"id": 3}
        assert client.get("/notes/new").text == "legacy /notes/new"


def test_an_annotation_alone_keeps_the_paths_it_refuses_from_the_legacy_app():
    app = App(plugins=[Legacy(path_echo, workers=1)])

    @app.get("/notes/{note_id}")
    async def note(note_id: int) -> dict[str, int]:
        return {"id": note_id}

    with TestClient(app) as client:
        assert client.get("/notes/new").status_code == 422  # trivium's, not the legacy page
