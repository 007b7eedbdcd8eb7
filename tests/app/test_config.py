"""The App's options: FastAPI's keywords and the two frozen groups they fill.

Every option has one home, a field of `DocsConfig` or `HTTPConfig`: the keyword and
the group give the same app, one option given both ways with two values is refused,
and the app's attributes read the group and replace it when assigned.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from trivium import App
from trivium import DocsConfig
from trivium import HTTPConfig
from trivium import Request
from trivium.compat.fastapi import FastAPI
from trivium.errors import ConfigurationError
from trivium.http import Limits
from trivium.testing import TestClient

DOCS: dict[str, Any] = {
    "title": "Shop",
    "version": "2.1",
    "description": "Things to buy.",
    "summary": "A shop",
    "contact": {"name": "Ops", "email": "ops@example.com"},
    "license_info": {"name": "MIT", "identifier": "MIT"},
    "terms_of_service": "https://example.com/terms",
    "openapi_url": "/api/openapi.json",
    "docs_url": "/api/docs",
    "redoc_url": None,
    "servers": [{"url": "https://shop.example.com"}],
    "openapi_tags": [{"name": "items", "description": "What we sell"}],
    "swagger_ui_parameters": {"syntaxHighlight": False},
    "separate_input_output_schemas": False,
}

HTTP: dict[str, Any] = {
    "root_path": "/v1",
    "redirect_slashes": False,
    "strict_content_type": False,
    "security_headers": {"X-Shop": "yes"},
    "limits": Limits(max_json_depth=8),
    "thread_pool_size": 4,
}


def with_route(app: App) -> App:
    @app.get("/items/{item_id}", tags=["items"])
    async def item(item_id: int, request: Request) -> dict[str, Any]:
        return {"id": item_id, "root": request.scope["root_path"]}

    return app


def test_docs_keywords_and_docs_config_give_the_same_app() -> None:
    by_keyword = with_route(App(**DOCS))
    by_group = with_route(App(docs=DocsConfig(**DOCS)))
    assert by_keyword.docs_config == by_group.docs_config
    assert by_keyword.openapi() == by_group.openapi()
    document = by_group.openapi()
    assert document["info"]["title"] == "Shop"
    assert document["info"]["license"] == {"name": "MIT", "identifier": "MIT"}
    assert document["tags"] == [{"name": "items", "description": "What we sell"}]
    client = TestClient(by_group)
    assert client.get("/api/docs").status_code == 200
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_http_keywords_and_http_config_give_the_same_app() -> None:
    by_keyword = with_route(App(**HTTP))
    by_group = with_route(App(http=HTTPConfig(**HTTP)))
    assert by_keyword.http_config == by_group.http_config
    for app in (by_keyword, by_group):
        response = TestClient(app).get("/items/3")
        assert response.json() == {"id": 3, "root": "/v1"}
        assert response.headers["x-shop"] == "yes"
        assert "x-frame-options" not in response.headers
        assert TestClient(app).get("/items/3/").status_code == 404  # no slash redirect
        assert app.limits.max_json_depth == 8


def test_keywords_and_a_group_combine_when_they_set_different_options() -> None:
    app = App(title="Shop", docs=DocsConfig(version="2.0"), root_path="/v1/")
    assert (app.title, app.version) == ("Shop", "2.0")
    assert app.http_config.root_path == "/v1"  # the trailing slash is dropped


def test_the_same_value_given_both_ways_is_accepted() -> None:
    app = App(title="Shop", docs=DocsConfig(title="Shop"), http=HTTPConfig(thread_pool_size=4))
    assert app.docs_config.title == "Shop"
    assert App(thread_pool_size=4, http=HTTPConfig(thread_pool_size=4)).thread_pool_size == 4


def test_a_docs_option_given_twice_with_two_values_is_refused() -> None:
    with pytest.raises(
        ConfigurationError, match=r"title='Shop'.*DocsConfig\(title='Store'\)"
    ) as info:
        App(title="Shop", docs=DocsConfig(title="Store"))
    assert info.value.code == "app-docs-config"


def test_an_http_option_given_twice_with_two_values_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="set root_path once") as info:
        App(root_path="/a", http=HTTPConfig(root_path="/b"))
    assert info.value.code == "app-http-config"
    with pytest.raises(ConfigurationError, match="set limits once"):
        App(limits=Limits(max_json_depth=8), http=HTTPConfig(limits=Limits(max_json_depth=9)))


def test_the_body_limit_lives_in_limits_only() -> None:
    app = App(max_body_size=100, http=HTTPConfig(limits=Limits(max_json_depth=8)))
    assert app.http_config.limits == Limits(max_body_size=100, max_json_depth=8)
    with pytest.raises(ConfigurationError) as info:
        App(max_body_size=100, http=HTTPConfig(limits=Limits(max_body_size=200)))
    assert info.value.code == "app-body-limit"


def test_an_unknown_keyword_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="titel"):
        App(titel="Shop")  # type: ignore[call-arg]


def test_assigning_an_option_before_start_up_replaces_its_group() -> None:
    app = with_route(App())
    before = app.docs_config
    app.title = "Renamed"
    app.docs_url = None
    app.root_path = "/v2"
    app.security_headers = False
    assert before.title == "Trivium"  # the old group is untouched
    assert app.docs_config == dataclasses.replace(before, title="Renamed", docs_url=None)
    assert app.http_config.root_path == "/v2"
    client = TestClient(app)
    assert client.get("/docs").status_code == 404
    response = client.get("/items/1")
    assert response.json() == {"id": 1, "root": "/v2"}
    assert "x-content-type-options" not in response.headers
    assert client.get("/openapi.json").json()["info"]["title"] == "Renamed"


def test_clearing_the_cached_document_picks_up_a_new_title() -> None:
    app = App(title="First")
    assert app.openapi()["info"]["title"] == "First"
    app.title = "Second"
    app.openapi_schema = None
    assert app.openapi()["info"]["title"] == "Second"


def test_the_groups_are_frozen() -> None:
    app = App()
    with pytest.raises(dataclasses.FrozenInstanceError):
        app.docs_config.title = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        app.http_config.root_path = "/x"  # type: ignore[misc]


def test_a_list_given_to_the_app_is_copied() -> None:
    servers = [{"url": "https://a.example.com"}]
    app = App(servers=servers)
    servers.append({"url": "https://b.example.com"})
    assert app.openapi()["servers"] == [{"url": "https://a.example.com"}]


def test_fastapi_behaviours_are_fields_of_the_http_group() -> None:
    trivium_app, fastapi_app = App(), FastAPI()
    assert trivium_app.http_config.slash_redirect_status == 308
    assert not trivium_app.json_errors_as_validation
    config = fastapi_app.http_config
    assert (config.slash_redirect_status, config.slash_redirect_absolute) == (307, True)
    assert fastapi_app.json_errors_as_validation
    assert fastapi_app.plain_server_errors
    assert not fastapi_app.strict_path_params


def test_openapi_config_may_not_give_an_app_option_another_value() -> None:
    from trivium.openapi import OpenAPIConfig
    from trivium.openapi import configure

    app = App(contact={"name": "Ops"}, swagger_ui_parameters={"docExpansion": "list"})
    configure(app, OpenAPIConfig(info={"contact": {"name": "Sales"}}))
    with pytest.raises(ConfigurationError, match=r"info\['contact'\]") as info:
        app.build()
    assert info.value.code == "app-docs-config"
    other = App(swagger_ui_parameters={"docExpansion": "list"})
    configure(other, OpenAPIConfig(swagger_ui_parameters={"docExpansion": "none"}))
    with pytest.raises(ConfigurationError, match="docExpansion"):
        other.build()


def test_openapi_config_may_add_what_the_app_leaves_unset() -> None:
    from trivium.openapi import OpenAPIConfig
    from trivium.openapi import configure

    app = App(contact={"name": "Ops"})
    configure(app, OpenAPIConfig(info={"contact": {"name": "Ops"}, "x-logo": {"url": "/l"}}))
    info = app.openapi()["info"]
    assert info["contact"] == {"name": "Ops"}
    assert info["x-logo"] == {"url": "/l"}
