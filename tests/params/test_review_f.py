"""Constraints that cannot apply to a parameter's type stop the app at start-up."""

from __future__ import annotations

import datetime
from typing import Annotated

import pytest

from trivium import App
from trivium import Body
from trivium import File
from trivium import Path
from trivium import Query
from trivium import UploadFile
from trivium.errors import ConfigurationError
from trivium.testing import TestClient


def test_max_length_on_an_int_query_parameter_is_refused_at_start_up() -> None:
    app = App()

    @app.get("/items")
    def items(limit: Annotated[int, Query(max_length=3)] = 10) -> int:
        return limit

    with pytest.raises(ConfigurationError, match="param-constraint-type") as caught:
        app.build()
    assert "max_length does not apply to int parameter 'limit'" in str(caught.value)
    assert caught.value.code == "param-constraint-type"


def test_gt_on_a_str_query_parameter_is_refused_at_start_up() -> None:
    app = App()

    @app.get("/search")
    def search(q: Annotated[str, Query(gt=5)]) -> str:
        return q

    with pytest.raises(ConfigurationError, match="gt does not apply to str parameter 'q'"):
        app.build()


def test_max_length_on_an_upload_is_refused_with_the_limit_to_use() -> None:
    app = App()

    @app.post("/avatar")
    async def avatar(f: Annotated[UploadFile, File(max_length=1000)]) -> int:
        return 1

    with pytest.raises(ConfigurationError, match=r"FormLimits\(max_file_size=") as caught:
        app.build()
    assert "max_length does not apply to UploadFile parameter 'f'" in str(caught.value)


def test_an_optional_parameter_is_checked_against_its_type() -> None:
    app = App()

    @app.get("/items/{day}")
    def items(
        day: Annotated[datetime.date, Path(pattern="^2")],
        limit: Annotated[int | None, Query(min_length=1)] = None,
    ) -> str:
        return str(day)

    with pytest.raises(ConfigurationError, match="pattern does not apply to date parameter"):
        app.build()


def test_a_numeric_constraint_on_a_json_body_string_is_refused() -> None:
    app = App()

    @app.post("/notes")
    def notes(text: Annotated[str, Body(multiple_of=2)]) -> str:
        return text

    with pytest.raises(ConfigurationError, match="multiple_of does not apply to str"):
        app.build()


def test_constraints_that_apply_still_validate_each_request() -> None:
    app = App()

    @app.get("/items")
    def items(
        q: Annotated[str, Query(max_length=3, pattern="^[a-z]+$")],
        limit: Annotated[int, Query(gt=0, le=100)] = 10,
        tags: Annotated[list[str], Query(max_length=2)] = [],  # noqa: B006 - FastAPI style
    ) -> dict[str, object]:
        return {"q": q, "limit": limit, "tags": tags}

    @app.post("/blob")
    def blob(data: Annotated[bytes, File(max_length=4)]) -> int:
        return len(data)

    client = TestClient(app)
    assert client.get("/items?q=abc&limit=5&tags=a").json() == {
        "q": "abc",
        "limit": 5,
        "tags": ["a"],
    }
    assert client.get("/items?q=abcd").status_code == 422
    assert client.get("/items?q=ab&limit=0").status_code == 422
    assert client.get("/items?q=ab&tags=a&tags=b&tags=c").status_code == 422
    assert client.post("/blob", files={"data": ("a", b"abc")}).json() == 3
    assert client.post("/blob", files={"data": ("a", b"abcdef")}).status_code == 422


# Body(media_type=...): a body of the declared type is handed over as it is, as in FastAPI.

BINARY = b"\x00\xff\xfe binary \x80"


def blob_app(app: App) -> App:
    @app.post("/blobs")
    async def upload_blob(
        data: Annotated[bytes, Body(media_type="application/octet-stream")],
    ) -> dict[str, object]:
        return {"size": len(data), "hex": data.hex()}

    @app.post("/notes")
    async def note(text: Annotated[str, Body(media_type="text/*")]) -> str:
        return text

    return app


def test_a_bytes_body_of_its_declared_media_type_arrives_whole() -> None:
    client = TestClient(blob_app(App()))
    headers = {"content-type": "application/octet-stream"}
    response = client.post("/blobs", content=BINARY, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"size": len(BINARY), "hex": BINARY.hex()}


def test_a_declared_media_type_matches_by_wildcard_and_text_arrives_as_text() -> None:
    client = TestClient(blob_app(App()))
    headers = {"content-type": "text/markdown; charset=utf-8"}
    response = client.post("/notes", content="# héllo".encode(), headers=headers)
    assert response.json() == "# héllo"


def test_a_json_body_is_still_read_as_json_and_another_type_refused() -> None:
    client = TestClient(blob_app(App()))
    assert client.post("/blobs", json="abc").json() == {"size": 3, "hex": b"abc".hex()}
    response = client.post("/blobs", content=b"abc", headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["detail"] == (
        "Unsupported media type 'text/plain': this endpoint expects 'application/json' "
        "or 'application/octet-stream'"
    )


def test_a_ported_fastapi_app_gets_the_raw_bytes_too() -> None:
    from trivium.compat.fastapi import Body as FastAPIBody
    from trivium.compat.fastapi import FastAPI

    app = FastAPI()

    @app.post("/blobs")
    async def upload_blob(data: bytes = FastAPIBody(media_type="application/octet-stream")) -> int:
        return len(data)

    headers = {"content-type": "application/octet-stream"}
    response = TestClient(app).post("/blobs", content=BINARY, headers=headers)
    assert response.json() == len(BINARY)
