"""`URL`: Starlette's accessors and copy helpers, on `request.url` and built by hand."""

from __future__ import annotations

from typing import Any

import pytest

from trivium import App
from trivium import Request
from trivium.http import URL
from trivium.testing import TestClient


def url_app() -> App:
    app = App()

    @app.get("/items")
    def items(request: Request) -> dict[str, str]:
        url = request.url
        return {
            "include": str(url.include_query_params(page=2)),
            "remove": str(url.remove_query_params("page")),
            "remove_many": str(url.remove_query_params(["page", "tag"])),
            "replace": str(url.replace_query_params(page=1)),
        }

    return app


@pytest.fixture
def links() -> dict[str, str]:
    return TestClient(url_app()).get("/items?tag=a&tag=b&page=1").json()  # type: ignore[no-any-return]


def test_include_query_params_keeps_every_value_of_other_parameters(links: dict[str, str]) -> None:
    assert links["include"] == "http://testserver/items?tag=a&tag=b&page=2"


def test_include_query_params_moves_a_replaced_parameter_last() -> None:
    url = URL("/items?page=1&tag=a")
    assert str(url.include_query_params(page=2)) == "/items?tag=a&page=2"


def test_remove_query_params_drops_every_value_of_a_parameter(links: dict[str, str]) -> None:
    assert links["remove"] == "http://testserver/items?tag=a&tag=b"
    assert links["remove_many"] == "http://testserver/items"


def test_replace_query_params_leaves_only_the_given_ones(links: dict[str, str]) -> None:
    assert links["replace"] == "http://testserver/items?page=1"


def test_query_params_are_encoded() -> None:
    url = URL("https://example.com/search?q=a+b")
    assert str(url.include_query_params(next="/a&b")) == (
        "https://example.com/search?q=a+b&next=%2Fa%26b"
    )


def test_the_user_name_and_password_are_read_from_the_authority() -> None:
    url = URL("https://ann:s3cret@example.com:8443/a")
    assert (url.username, url.password) == ("ann", "s3cret")
    assert (url.hostname, url.port) == ("example.com", 8443)
    assert URL("https://example.com/").username is None


def test_components_are_a_split_result() -> None:
    parts = URL("https://example.com/a?x=1#top").components
    assert (parts.scheme, parts.netloc, parts.path, parts.query, parts.fragment) == (
        "https",
        "example.com",
        "/a",
        "x=1",
        "top",
    )
    assert parts.geturl() == "https://example.com/a?x=1#top"


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ({"hostname": "other.org"}, "https://ann:pw@other.org:8443/a"),
        ({"port": None}, "https://ann:pw@example.com/a"),
        ({"port": 9000}, "https://ann:pw@example.com:9000/a"),
        ({"username": None}, "https://example.com:8443/a"),
        ({"username": "bob", "password": None}, "https://bob@example.com:8443/a"),
        ({"scheme": "http", "path": "/b"}, "http://ann:pw@example.com:8443/b"),
    ],
)
def test_replace_changes_parts_of_the_authority(parts: dict[str, Any], expected: str) -> None:
    assert str(URL("https://ann:pw@example.com:8443/a").replace(**parts)) == expected


def test_replace_keeps_an_ipv6_host() -> None:
    assert str(URL("http://[::1]:8000/").replace(port=9000)) == "http://[::1]:9000/"


def test_the_password_is_masked_in_the_repr() -> None:
    assert repr(URL("https://ann:pw@example.com/")) == "URL('https://ann:********@example.com/')"


def test_a_url_is_built_from_a_scope() -> None:
    scope = {
        "type": "http",
        "scheme": "https",
        "path": "/items",
        "query_string": b"page=2",
        "headers": [(b"host", b"shop.example:8443")],
    }
    assert str(URL(scope=scope)) == "https://shop.example:8443/items?page=2"


def test_a_url_is_built_from_components() -> None:
    assert str(URL(scheme="https", netloc="example.com", path="/a")) == "https://example.com/a"


def test_a_url_takes_one_source() -> None:
    with pytest.raises(TypeError, match="not several"):
        URL("https://example.com/", path="/a")


def test_headers_mutablecopy_and_add_vary_header_as_in_starlette() -> None:
    from trivium.http import Headers

    headers = Headers({"accept": "text/html", "vary": "Origin"})
    copy = headers.mutablecopy()
    copy["x-extra"] = "1"
    copy.add_vary_header("Accept-Encoding")
    copy.add_vary_header("origin")  # already there: not repeated
    assert "x-extra" not in headers
    assert headers["vary"] == "Origin"
    assert copy["vary"] == "Origin, Accept-Encoding"
    fresh = Headers().mutablecopy()
    fresh.add_vary_header("Cookie")
    assert fresh["vary"] == "Cookie"
