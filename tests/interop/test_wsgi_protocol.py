"""PEP 3333's corners, as a WSGI server such as gunicorn handles them.

The status and headers wait for the first non-empty body chunk: until then a failure
is answered with trivium's 500 and `start_response(..., exc_info)` replaces them.
The environ holds what the request held, as gunicorn builds it: cookies sent in several
headers (HTTP/2) are one `HTTP_COOKIE` joined with "; ", and a header whose name holds
an underscore (which would share its `HTTP_*` key with the dashed name) is dropped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from tests.interop.flask_legacy import create_app

from trivium import App
from trivium.interop import WSGIApp
from trivium.testing import TestClient


def serve(wsgi: Any) -> TestClient:
    app = App()
    app.mount("/old", WSGIApp(wsgi, workers=1))
    return TestClient(app)


def test_a_body_failing_before_its_first_chunk_is_answered_500():
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("content-type", "text/plain")])

        def body() -> Iterator[bytes]:
            raise RuntimeError("the body failed before its first chunk")
            yield b"never"

        return body()

    with serve(app) as client:
        response = client.get("/old/x")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"


def test_empty_chunks_before_a_failure_still_leave_room_for_the_500():
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("content-type", "text/plain")])
        yield b""
        raise RuntimeError("failed after an empty chunk")

    with serve(app) as client:
        assert client.get("/old/x").status_code == 500


def test_start_response_with_exc_info_before_the_body_replaces_the_status():
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("content-type", "text/plain"), ("x-first", "1")])
        try:
            raise ValueError("the view failed after start_response")
        except ValueError:
            start_response("503 Busy", [("content-type", "text/plain")], sys.exc_info())
            return [b"the app's own error page"]

    with serve(app) as client:
        response = client.get("/old/x")
    assert response.status_code == 503
    assert response.text == "the app's own error page"
    assert "x-first" not in response.headers


def test_start_response_twice_without_exc_info_is_a_500():
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        start_response("201 Created", [])
        return [b"x"]

    with serve(app) as client:
        assert client.get("/old/x").status_code == 500


def test_a_body_before_start_response_is_a_500():
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        yield b"too early"
        start_response("200 OK", [])

    with serve(app) as client:
        assert client.get("/old/x").status_code == 500


def test_an_empty_body_still_sends_the_status_and_headers():
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("204 No Content", [("x-done", "yes")])
        return []

    with serve(app) as client:
        response = client.get("/old/x")
    assert response.status_code == 204
    assert response.headers["x-done"] == "yes"


def test_the_write_callable_sends_the_headers_first():
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("content-type", "text/plain")])
        write(b"written, ")
        return [b"then returned"]

    with serve(app) as client:
        assert client.get("/old/x").text == "written, then returned"


def test_a_body_failing_mid_stream_is_not_ended_as_complete():
    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("content-type", "text/plain")])
        yield b"first chunk\n"
        raise RuntimeError("the body failed mid-stream")

    with serve(app) as client, client.stream("GET", "/old/x") as response:
        assert response.status_code == 200
        # The failure reaches the server (which cuts the connection), here the client.
        with pytest.raises(Exception, match="failed after its response started"):
            response.read()


def test_cookie_headers_sent_separately_reach_flask_as_one_cookie_header():
    with serve(create_app()) as client:
        response = client.get("/old/cookies", headers=[("cookie", "a=1"), ("cookie", "b=2")])
    assert response.json() == {"cookies": {"a": "1", "b": "2"}, "header": "a=1; b=2"}


def environ_headers(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("content-type", "application/json")])
    seen = {k: v for k, v in environ.items() if k.startswith("HTTP_X")}
    return [json.dumps(seen).encode()]


def test_a_header_name_with_an_underscore_cannot_join_the_dashed_one():
    with serve(environ_headers) as client:
        response = client.get(
            "/old/", headers=[("X-Remote-User", "alice"), ("X-Remote_User", "admin")]
        )
    assert response.json() == {"HTTP_X_REMOTE_USER": "alice"}


def test_a_header_name_with_an_underscore_is_dropped_as_gunicorn_does():
    with serve(environ_headers) as client:
        response = client.get("/old/", headers={"X-Remote_User": "admin", "X-Other": "kept"})
    assert response.json() == {"HTTP_X_OTHER": "kept"}
