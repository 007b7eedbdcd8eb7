"""Serving the document, Swagger UI (offline) and ReDoc, and turning each off."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from trivium import App
from trivium.errors import ConfigurationError
from trivium.openapi import REDOC_JS_URL
from trivium.openapi import OpenAPIConfig
from trivium.openapi import configure
from trivium.openapi import install
from trivium.testing import TestClient


def make_app(**options: Any) -> App:
    app = App(title="Shop <&>", **options)

    @app.get("/items")
    def items() -> list[str]:
        return []

    return app


def swagger_config(page: str) -> dict[str, Any]:
    match = re.search(
        r'<script id="trivium-swagger-config" type="application/json">(.*?)</script>', page
    )
    assert match is not None
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_openapi_json_serves_the_document() -> None:
    app = make_app()
    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == app.openapi()
    assert list(response.json()["paths"]) == ["/items"]


def test_swagger_ui_page_points_at_the_document_and_local_assets() -> None:
    response = TestClient(make_app()).get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "<title>Shop &lt;&amp;&gt; - Swagger UI</title>" in page
    assert 'href="/docs/static/swagger-ui.css"' in page
    assert 'src="/docs/static/swagger-ui-bundle.js"' in page
    assert 'src="/docs/static/trivium-swagger-init.js"' in page
    assert "http" not in page.replace("http-equiv", "")  # nothing loaded from elsewhere
    config = swagger_config(page)
    assert config["options"]["url"] == "/openapi.json"
    assert config["options"]["validatorUrl"] is None
    assert config["options"]["persistAuthorization"] is True
    assert config["oauth2RedirectPath"] == "/docs/oauth2-redirect"


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        ("swagger-ui.css", "text/css; charset=utf-8"),
        ("favicon-32x32.png", "image/png"),
        ("oauth2-redirect.js", "text/javascript; charset=utf-8"),
        ("trivium-swagger-init.js", "text/javascript; charset=utf-8"),
    ],
)
def test_swagger_ui_assets_are_served_with_their_types(name: str, content_type: str) -> None:
    response = TestClient(make_app()).get(f"/docs/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert response.content


def test_swagger_bundle_is_the_packaged_file() -> None:
    import swagger_ui_bundle  # type: ignore[import-untyped]

    expected = (Path(str(swagger_ui_bundle.swagger_ui_path)) / "swagger-ui-bundle.js").read_bytes()
    assert TestClient(make_app()).get("/docs/static/swagger-ui-bundle.js").content == expected


@pytest.mark.parametrize("name", ["index.html", "../../__init__.py", "swagger-initializer.js"])
def test_other_files_are_not_served(name: str) -> None:
    assert TestClient(make_app()).get(f"/docs/static/{name}").status_code == 404


def test_oauth2_redirect_page_loads_the_redirect_script() -> None:
    response = TestClient(make_app()).get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert 'src="/docs/static/oauth2-redirect.js"' in response.text


def test_swagger_ui_parameters_and_oauth_init_are_configurable() -> None:
    app = make_app()
    configure(
        app,
        OpenAPIConfig(
            swagger_ui_parameters={"deepLinking": False, "docExpansion": "none"},
            swagger_ui_oauth2_init={"clientId": "docs"},
        ),
    )
    config = swagger_config(TestClient(app).get("/docs").text)
    assert config["options"]["deepLinking"] is False
    assert config["options"]["docExpansion"] == "none"
    assert config["initOAuth"] == {"clientId": "docs"}


def test_swagger_config_cannot_break_out_of_its_script_block() -> None:
    app = make_app()
    configure(app, OpenAPIConfig(swagger_ui_parameters={"x": "</script><script>alert(1)"}))
    page = TestClient(app).get("/docs").text
    assert "</script><script>alert" not in page
    assert swagger_config(page)["options"]["x"] == "</script><script>alert(1)"


def test_redoc_page_loads_the_document() -> None:
    response = TestClient(make_app()).get("/redoc")
    assert response.status_code == 200
    assert '<redoc spec-url="/openapi.json"></redoc>' in response.text
    assert f'<script src="{REDOC_JS_URL}"></script>' in response.text


def test_redoc_script_can_be_served_from_a_local_file(tmp_path: Path) -> None:
    script = tmp_path / "redoc.standalone.js"
    script.write_text("/* redoc */")
    app = make_app()
    configure(app, OpenAPIConfig(redoc_js_file=script))
    client = TestClient(app)
    assert '<script src="/redoc/redoc.standalone.js"></script>' in client.get("/redoc").text
    response = client.get("/redoc/redoc.standalone.js")
    assert response.text == "/* redoc */"
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"


def test_missing_local_redoc_file_is_a_configuration_error(tmp_path: Path) -> None:
    app = make_app()
    configure(app, OpenAPIConfig(redoc_js_file=tmp_path / "nope.js"))
    with pytest.raises(ConfigurationError, match="redoc_js_file"):
        app.build()


def test_urls_are_configurable() -> None:
    client = TestClient(
        make_app(openapi_url="/api/schema.json", docs_url="/api/docs", redoc_url="/api/redoc")
    )
    assert client.get("/api/schema.json").status_code == 200
    config = swagger_config(client.get("/api/docs").text)
    assert config["options"]["url"] == "/api/schema.json"
    assert client.get("/api/docs/static/swagger-ui.css").status_code == 200
    assert 'spec-url="/api/schema.json"' in client.get("/api/redoc").text
    assert client.get("/docs").status_code == 404


def test_docs_and_redoc_can_be_disabled_separately() -> None:
    client = TestClient(make_app(docs_url=None, redoc_url=None))
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 404
    assert client.get("/docs/static/swagger-ui.css").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_no_openapi_url_disables_everything() -> None:
    client = TestClient(make_app(openapi_url=None))
    for path in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"):
        assert client.get(path).status_code == 404


@pytest.mark.asgi_only("RSGI has no root_path")
def test_root_path_prefixes_urls_and_becomes_the_server() -> None:
    app = make_app()
    client = TestClient(app, root_path="/api")
    document = client.get("/openapi.json").json()
    assert document["servers"] == [{"url": "/api"}]
    config = swagger_config(client.get("/docs").text)
    assert config["options"]["url"] == "/api/openapi.json"
    assert config["oauth2RedirectPath"] == "/api/docs/oauth2-redirect"
    assert 'spec-url="/api/openapi.json"' in client.get("/redoc").text


@pytest.mark.asgi_only("RSGI has no root_path")
def test_declared_servers_win_over_the_root_path() -> None:
    app = make_app(servers=[{"url": "https://api.example.com"}])
    document = TestClient(app, root_path="/api").get("/openapi.json").json()
    assert document["servers"] == [{"url": "https://api.example.com"}]


def test_the_apps_own_routes_win_over_docs_routes() -> None:
    app = App()

    @app.get("/docs/")
    def my_docs() -> str:
        return "mine"

    client = TestClient(app)
    response = client.get("/docs", follow_redirects=False)
    assert response.status_code == 308
    assert client.get("/docs/").json() == "mine"
    assert client.get("/redoc").status_code == 200


def test_head_requests_to_the_document_are_answered() -> None:
    response = TestClient(make_app()).head("/openapi.json")
    assert response.status_code == 200
    assert response.content == b""


def test_missing_swagger_ui_package_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "swagger_ui_bundle", None)
    with pytest.raises(ConfigurationError, match="pip install swagger-ui-bundle-v2"):
        make_app().build()
    make_app(docs_url=None).build()


def test_install_adds_the_routes_once() -> None:
    app = make_app()
    app.build()
    count = len(app.routes)
    install(app)
    assert len(app.routes) == count


def test_install_without_openapi_url_adds_nothing() -> None:
    app = make_app(openapi_url=None)
    install(app)
    assert len(app.routes) == 1


def test_the_served_document_follows_a_reset_schema_and_late_routes() -> None:
    app = App(title="A")

    @app.get("/z")
    async def z() -> int:
        return 1

    with TestClient(app) as client:
        assert client.get("/openapi.json").json()["info"]["title"] == "A"

        @app.get("/late")
        async def late() -> int:
            return 2

        assert sorted(client.get("/openapi.json").json()["paths"]) == ["/late", "/z"]
        app.title = "B"
        app.openapi_schema = None  # as routing.md says, after changing a document option
        assert client.get("/openapi.json").json()["info"]["title"] == "B"


def test_the_document_describes_the_route_that_serves_a_path_taken_twice() -> None:
    """The app's route wins over a plugin's on one path and method, in the document too."""
    from trivium.plugins import Plugin
    from trivium.routing import Router

    async def health() -> dict[str, str]:
        return {"from": "plugin"}

    class Health(Plugin):
        def routes(self, app: App) -> list[Router]:
            router = Router()
            router.get("/health", summary="plugin's health")(health)
            return [router]

    app = App(plugins=[Health()])

    @app.get("/health", summary="app's health")
    async def health_of_the_app() -> dict[str, str]:
        return {"from": "app"}

    with TestClient(app) as client:
        assert client.get("/health").json() == {"from": "app"}
        document = client.get("/openapi.json")
    assert document.status_code == 200
    assert document.json()["paths"]["/health"]["get"]["summary"] == "app's health"
