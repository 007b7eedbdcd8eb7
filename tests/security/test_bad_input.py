"""Hostile and malformed input: every case is a 4xx with a JSON body, never a 500.

After each case the app must keep serving, checked by a final request.
"""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel

from trivium import App
from trivium import Form
from trivium import Query
from trivium import Request
from trivium import Response
from trivium import UploadFile
from trivium.http import FormLimits
from trivium.http import Limits
from trivium.responses import JSONResponse
from trivium.responses import RedirectResponse
from trivium.testing import TestClient


class Item(BaseModel):
    name: str
    tags: list[str] = []


def make_app() -> App:
    app = App(
        limits=Limits(
            max_body_size=4096,
            max_upload_size=8192,
            max_json_depth=16,
            form=FormLimits(max_fields=5, max_files=2, max_field_size=100, max_file_size=1000),
        )
    )

    @app.post("/items")
    async def create(item: Item) -> Item:
        return item

    @app.post("/raw")
    async def raw(request: Request) -> int:
        data = await request.json()
        return len(str(data))

    @app.get("/search")
    async def search(
        q: Annotated[str, Query(max_length=50)] = "", page: int = 1
    ) -> dict[str, object]:
        return {"q": q, "page": page}

    @app.get("/users/{user_id}")
    async def user(user_id: int) -> int:
        return user_id

    @app.post("/form")
    async def form(name: Annotated[str, Form()], upload: UploadFile | None = None) -> str:
        return name

    @app.post("/raw-bytes")
    async def raw_bytes(request: Request) -> int:
        return len(await request.body())

    @app.get("/go")
    async def go(to: str) -> RedirectResponse:
        return RedirectResponse(to)

    @app.get("/cookie")
    async def cookie(value: str, response: Response) -> str:
        response.set_cookie("c", value)
        return "ok"

    @app.get("/health")
    async def health() -> str:
        return "ok"

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app(), raise_server_exceptions=False)


def _assert_clean_4xx(response, status: int | None = None) -> None:  # type: ignore[no-untyped-def]
    assert 400 <= response.status_code < 500, response.text
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "detail" in response.json()


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"name": "x"', 400),  # truncated
        (b"{name: 'x'}", 400),  # not JSON
        (b"\xff\xfe{}", 400),  # invalid UTF-8
        (b"[" * 20 + b"]" * 20, 400),  # deeper than max_json_depth
        (b'{"name": 5}', 422),  # wrong type
        (b"[]", 422),  # wrong shape
        (b"null", 422),
        (b'{"name": "x", "tags": "notalist"}', 422),
        (b"x" * 5000, 413),  # over max_body_size
    ],
)
def test_malformed_json_bodies(client: TestClient, body: bytes, status: int) -> None:
    _assert_clean_4xx(client.post("/items", content=body, headers=JSON), status)
    assert client.get("/health").status_code == 200


def test_deep_json_is_refused_for_raw_request_json_too(client: TestClient) -> None:
    _assert_clean_4xx(client.post("/raw", content=b"[" * 100 + b"]" * 100, headers=JSON), 400)


def test_brackets_inside_strings_do_not_count_as_depth(client: TestClient) -> None:
    body = b'{"name": "' + b"[" * 100 + b'"}'
    assert client.post("/items", content=body, headers=JSON).status_code == 200


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("text/plain", 415), ("application/xml", 415), ("application/x-www-form-urlencoded", 415)],
)
def test_wrong_content_types(client: TestClient, content_type: str, status: int) -> None:
    _assert_clean_4xx(
        client.post("/items", content=b'{"name":"x"}', headers={"content-type": content_type}),
        status,
    )


def test_invalid_content_length(client: TestClient) -> None:
    response = client.post(
        "/raw", content=b"{}", headers={"content-type": "application/json", "content-length": "abc"}
    )
    assert response.status_code in (400, 413)


@pytest.mark.parametrize(
    "path",
    [
        "/users/%ff%fe",  # invalid UTF-8 in a path parameter
        "/users/1%00",  # NUL byte
        "/users/" + "9" * 5000,  # huge number
        "/users/-1.5",
    ],
)
def test_bad_path_parameters(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (404, 422), response.text
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    "query",
    [
        "q=%ff%fe",
        "q=%zz",
        "page=%00",
        "page=1e309",
        "q=" + "a" * 30_000,
        "&&&==&=",
        "page=" + "9" * 5000,
    ],
)
def test_bad_query_strings(client: TestClient, query: str) -> None:
    response = client.get("/search?" + query)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        _assert_clean_4xx(response, 422)


def test_huge_number_of_query_parameters(client: TestClient) -> None:
    query = "&".join(f"k{i}=v" for i in range(5_000))
    assert client.get("/search?" + query).status_code == 200


@pytest.mark.parametrize(
    ("data", "files", "status"),
    [
        ({"name": "x" * 200}, None, 413),  # field too large
        ({f"f{i}": "v" for i in range(10)}, None, 400),  # too many fields
        ({"name": "ok"}, {"upload": ("a.bin", b"x" * 2000)}, 413),  # file too large
        (
            {"name": "ok"},
            [("upload", ("a", b"1")), ("upload", ("b", b"2")), ("upload", ("c", b"3"))],
            400,
        ),  # too many files
    ],
)
def test_form_limits(client: TestClient, data, files, status: int) -> None:  # type: ignore[no-untyped-def]
    _assert_clean_4xx(client.post("/form", data=data, files=files), status)


def test_multipart_without_boundary(client: TestClient) -> None:
    response = client.post(
        "/form", content=b"--x\r\n", headers={"content-type": "multipart/form-data"}
    )
    _assert_clean_4xx(response, 400)


def test_truncated_multipart(client: TestClient) -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nval'
    response = client.post(
        "/form", content=body, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    _assert_clean_4xx(response, 400)


def test_upload_over_total_limit(client: TestClient) -> None:
    response = client.post("/form", data={"name": "x"}, files={"upload": ("a", b"x" * 9000)})
    _assert_clean_4xx(response, 413)


@pytest.mark.parametrize("path", ["/raw", "/raw-bytes"])
def test_claiming_multipart_never_lifts_the_body_limit_of_a_raw_read(
    client: TestClient, path: str
) -> None:
    # The upload limit (8192) holds for a multipart form being parsed, never for a body
    # read whole (`json()`, `body()`) because the client said "multipart".
    body = b'{"blob": "' + b"x" * 6000 + b'"}'
    for content_type in ("application/json", "multipart/form-data; boundary=x"):
        response = client.post(path, content=body, headers={"content-type": content_type})
        _assert_clean_4xx(response, 413)


def test_header_injection_through_redirect_is_not_possible(client: TestClient) -> None:
    response = client.get("/go", params={"to": "/x\r\nSet-Cookie: evil=1"}, follow_redirects=False)
    assert response.status_code == 307
    assert "evil" not in response.headers.get("set-cookie", "")
    assert "\r" not in response.headers["location"]
    assert "\n" not in response.headers["location"]


def test_header_injection_through_cookie_value_is_not_possible(client: TestClient) -> None:
    response = client.get("/cookie", params={"value": "a\r\nX-Evil: 1"})
    assert "x-evil" not in response.headers
    assert response.status_code in (200, 500)


@pytest.mark.parametrize(
    "cookie",
    ['a="unterminated', "=novalue", ";;;", "a=b; c", "\x00=1", "a=" + "x" * 10_000],
)
def test_invalid_cookies_do_not_break_requests(client: TestClient, cookie: str) -> None:
    response = client.get("/search", headers={"cookie": cookie})
    assert response.status_code == 200


def test_server_keeps_serving_after_everything(client: TestClient) -> None:
    assert client.get("/health").json() == "ok"


@pytest.mark.parametrize("value", ["a\x00b", "a\x01b", "a\x0bb", "a\x7fb", "a\rb"])
def test_a_control_character_in_a_response_header_is_a_json_500_on_every_interface(
    value: str,
) -> None:
    app = App()

    @app.get("/echo")
    async def echo(v: str) -> JSONResponse:
        return JSONResponse({"ok": 1}, headers={"x-echo": v})

    @app.get("/later")
    async def later(v: str, response: Response) -> dict[str, int]:
        response.headers["x-echo"] = v
        return {"ok": 1}

    client = TestClient(app, raise_server_exceptions=False)
    for path in ("/echo", "/later"):
        answer = client.get(path, params={"v": value})
        assert answer.status_code == 500
        assert answer.json() == {"detail": "Internal Server Error"}
        assert "x-echo" not in answer.headers
    assert client.get("/echo", params={"v": "tab\tis fine"}).headers["x-echo"] == "tab\tis fine"


@pytest.mark.parametrize("bad", ["x-a\r\nset-cookie: injected=1", "x a", "x:a", "", "x\x00"])
def test_a_header_name_or_media_type_that_could_inject_is_a_json_500(bad: str) -> None:
    app = App()

    @app.get("/name")
    async def name(n: str, response: Response) -> dict[str, int]:
        response.headers[n] = "v"
        return {"ok": 1}

    @app.get("/given")
    async def given(n: str) -> JSONResponse:
        return JSONResponse({"ok": 1}, headers={n: "v"})

    @app.get("/media")
    async def media(v: str) -> Response:
        return Response(b"x", media_type=v)

    client = TestClient(app, raise_server_exceptions=False)
    paths = [("/name", {"n": bad}), ("/given", {"n": bad})]
    if "\r" in bad or "\x00" in bad:
        paths.append(("/media", {"v": "text/html" + bad}))
    for path, params in paths:
        answer = client.get(path, params=params)
        assert answer.status_code == 500, path
        assert answer.json() == {"detail": "Internal Server Error"}
        assert "set-cookie" not in answer.headers
    assert client.get("/given", params={"n": "X-Custom_Header.1"}).status_code == 200
    assert client.get("/media", params={"v": "text/csv"}).headers["content-type"] == (
        "text/csv; charset=utf-8"
    )
