"""Form parsing over HTTP: urlencoded and multipart bodies, limits and malformed input."""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from trivium.errors import ConfigurationError
from trivium.errors import HTTPException
from trivium.http._limits import Limits
from trivium.http._multipart import FormLimits
from trivium.http._multipart import parse_form
from trivium.http._request import Request
from trivium.http._upload import UploadFile
from trivium.types import Receive
from trivium.types import Scope
from trivium.types import Send

pytestmark = pytest.mark.drives_no_app

BOUNDARY = "b0undary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
FD_DIR = Path("/proc/self/fd")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _open_fds() -> int:
    """Count this process's open file descriptors (0 where /proc is unavailable)."""
    return sum(1 for _ in FD_DIR.iterdir()) if FD_DIR.exists() else 0


def _open_uploads() -> list[UploadFile]:
    # `type(o) is` rather than isinstance: lazy proxies (Django's, if imported) raise on inspection.
    return [o for o in gc.get_objects() if type(o) is UploadFile and not o.file.closed]


class FormApp:
    """A raw ASGI app that parses the form and answers with JSON describing it.

    On an HTTP error it records, while the exception (and so every frame that might
    still hold an upload) is alive, the uploads left open and the open descriptors.
    """

    def __init__(self, limits: FormLimits | None = None, *, via_request: bool = False) -> None:
        self.limits = limits
        self.via_request = via_request
        self.open_after_error: list[UploadFile] | None = None
        self.fds_after_error: int | None = None
        self.fds_before = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        self.fds_before = _open_fds()
        try:
            form = await (request.form() if self.via_request else parse_form(request, self.limits))
        except HTTPException as exc:
            self.open_after_error = _open_uploads()
            self.fds_after_error = _open_fds()
            await _send_json(send, exc.status_code, {"detail": exc.detail})
            return
        items: list[Any] = []
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                items.append(
                    {
                        "name": name,
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "size": value.size,
                        "data": data.decode("latin-1"),
                        "in_memory": value.in_memory,
                    }
                )
            else:
                items.append([name, value])
        await (request.close() if self.via_request else form.close())
        await _send_json(send, 200, items)


async def _send_json(send: Send, status: int, payload: Any) -> None:
    body = orjson.dumps(payload)
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _post(
    app: FormApp,
    content: bytes | None = None,
    content_type: str | None = MULTIPART,
    *,
    chunk: int | None = None,
    **kwargs: Any,
) -> httpx.Response:
    headers = {"content-type": content_type} if content_type and content is not None else {}
    body: Any = content
    if content is not None and chunk is not None:
        body = _chunks(content, chunk)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post("/", content=body, headers=headers, **kwargs)


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _part(headers: str, data: bytes = b"") -> bytes:
    head = headers.replace("\n", "\r\n").encode()
    return b"--" + BOUNDARY.encode() + b"\r\n" + head + b"\r\n\r\n" + data + b"\r\n"


def _field(name: str, value: bytes, extra: str = "") -> bytes:
    return _part(f'Content-Disposition: form-data; name="{name}"{extra}', value)


def _file(name: str, filename: str, data: bytes, content_type: str = "text/plain") -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"'
    return _part(f"{disposition}\nContent-Type: {content_type}", data)


def _body(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--" + BOUNDARY.encode() + b"--\r\n"


# --- urlencoded ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_urlencoded_keeps_repeated_keys_in_order() -> None:
    response = await _post(FormApp(), data={"a": ["1", "2"], "b": "x y"}, content_type=None)
    assert response.status_code == 200
    assert response.json() == [["a", "1"], ["a", "2"], ["b", "x y"]]


@pytest.mark.anyio
async def test_urlencoded_decodes_plus_percent_and_blank_values() -> None:
    body = b"q=caf%C3%A9+au+lait&empty=&bare&=anon"
    response = await _post(FormApp(), body, "application/x-www-form-urlencoded", chunk=3)
    assert response.json() == [["q", "café au lait"], ["empty", ""], ["bare", ""], ["", "anon"]]


@pytest.mark.anyio
async def test_urlencoded_honours_charset_parameter() -> None:
    ctype = "application/x-www-form-urlencoded; charset=ISO-8859-1"
    response = await _post(FormApp(), b"name=Jos%E9", ctype)
    assert response.json() == [["name", "José"]]


@pytest.mark.anyio
async def test_urlencoded_invalid_utf8_is_400() -> None:
    response = await _post(FormApp(), b"name=%FF%FE", "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["detail"] == "A form field value is not valid utf-8 text"


@pytest.mark.anyio
async def test_unknown_or_binary_charset_is_400() -> None:
    for charset in ("klingon", "base64", "punycode", "undefined", "utf-8\x00"):
        ctype = f"application/x-www-form-urlencoded; charset={charset}"
        response = await _post(FormApp(), b"a=1", ctype)
        assert response.status_code == 400
        assert response.json()["detail"] == f"Unknown charset {charset!r} in Content-Type"


@pytest.mark.anyio
async def test_urlencoded_too_many_fields_is_400() -> None:
    app = FormApp(FormLimits(max_fields=3))
    response = await _post(app, b"a=1&b=2&c=3&d=4", "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.json()["detail"] == "Too many form fields: max_fields is 3"


@pytest.mark.anyio
async def test_urlencoded_field_over_max_field_size_is_413() -> None:
    app = FormApp(FormLimits(max_field_size=10))
    response = await _post(app, b"a=" + b"x" * 11, "application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response.json()["detail"] == "A form field is larger than max_field_size (10 bytes)"


@pytest.mark.anyio
async def test_urlencoded_field_size_counts_decoded_bytes() -> None:
    app = FormApp(FormLimits(max_field_size=10))
    ctype = "application/x-www-form-urlencoded"
    response = await _post(app, b"a=" + b"%41" * 10, ctype, chunk=4)
    assert response.json() == [["a", "A" * 10]]
    response = await _post(app, b"a=" + b"%41" * 11, ctype, chunk=4)
    assert response.status_code == 413


@pytest.mark.anyio
async def test_urlencoded_huge_field_is_refused_while_streaming() -> None:
    app = FormApp(FormLimits(max_field_size=10))
    response = await _post(app, b"x" * 1000 + b"=1", "application/x-www-form-urlencoded", chunk=8)
    assert response.status_code == 413


# --- multipart: success ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_multipart_text_and_several_files_in_order() -> None:
    files = [
        ("doc", ("a.txt", b"hello", "text/plain")),
        ("doc", ("b.bin", b"\x00\x01\x02", "application/octet-stream")),
        ("photo", ("c.png", b"PNG", "image/png")),
    ]
    response = await _post(FormApp(), data={"title": "x", "tags": ["1", "2"]}, files=files)
    assert response.status_code == 200
    fields, uploads = response.json()[:3], response.json()[3:]
    assert fields == [["title", "x"], ["tags", "1"], ["tags", "2"]]
    assert [(u["name"], u["filename"], u["content_type"], u["size"]) for u in uploads] == [
        ("doc", "a.txt", "text/plain", 5),
        ("doc", "b.bin", "application/octet-stream", 3),
        ("photo", "c.png", "image/png", 3),
    ]
    assert [u["data"] for u in uploads] == ["hello", "\x00\x01\x02", "PNG"]


@pytest.mark.anyio
async def test_multipart_parses_when_split_into_tiny_chunks() -> None:
    body = _body(_field("a", b"one\r\n--not-a-boundary"), _file("f", "x.txt", b"data" * 50))
    response = await _post(FormApp(), body, chunk=1)
    assert response.status_code == 200
    assert response.json()[0] == ["a", "one\r\n--not-a-boundary"]
    assert response.json()[1]["data"] == "data" * 50


@pytest.mark.anyio
async def test_multipart_utf8_field_names_values_and_filenames() -> None:
    body = _body(
        _field("prénom", "Zoë ✓".encode()),
        _file("fichier", "résumé 日本.txt", b"x"),
    )
    response = await _post(FormApp(), body)
    assert response.json()[0] == ["prénom", "Zoë ✓"]
    assert response.json()[1]["filename"] == "résumé 日本.txt"


@pytest.mark.anyio
async def test_multipart_filename_is_kept_as_sent() -> None:
    body = _body(_file("f", "../../etc/passwd", b"x"), _file("g", "", b""))
    response = await _post(FormApp(), body)
    assert [u["filename"] for u in response.json()] == ["../../etc/passwd", ""]


@pytest.mark.anyio
@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "UTF-8"])
async def test_multipart_text_part_honours_charset(charset: str) -> None:
    extra = f"\nContent-Type: text/plain; charset={charset}"
    body = _body(_field("a", "café".encode(charset), extra))
    response = await _post(FormApp(), body)
    assert response.json() == [["a", "café"]]


@pytest.mark.anyio
async def test_multipart_empty_form_is_valid() -> None:
    response = await _post(FormApp(), _body())
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.anyio
async def test_large_file_spools_to_disk() -> None:
    data = os.urandom(64 * 1024)
    app = FormApp(FormLimits(spool_max_size=1024))
    response = await _post(
        app, _body(_file("f", "big.bin", data), _file("g", "small", b"s")), chunk=4096
    )
    big, small = response.json()
    assert big["in_memory"] is False
    assert big["size"] == len(data)
    assert big["data"].encode("latin-1") == data
    assert small["in_memory"] is True


@pytest.mark.anyio
async def test_request_form_uses_default_limits_and_caches() -> None:
    response = await _post(
        FormApp(via_request=True), _body(_field("a", b"1"), _file("f", "n", b"x"))
    )
    assert response.json()[0] == ["a", "1"]
    assert response.json()[1]["data"] == "x"


@pytest.mark.anyio
async def test_unlimited_file_size() -> None:
    app = FormApp(FormLimits(max_file_size=None, spool_max_size=10))
    response = await _post(app, _body(_file("f", "n", b"z" * 5000)))
    assert response.json()[0]["size"] == 5000


# --- multipart: limits -----------------------------------------------------------------------


def _assert_nothing_left_open(app: FormApp) -> None:
    assert app.open_after_error == []
    assert app.fds_after_error == app.fds_before


@pytest.mark.anyio
async def test_too_many_fields_is_400() -> None:
    app = FormApp(FormLimits(max_fields=2, spool_max_size=1))
    body = _body(
        _file("f", "n", b"on disk"), _field("a", b"1"), _field("b", b"2"), _field("c", b"3")
    )
    response = await _post(app, body)
    assert response.status_code == 400
    assert response.json()["detail"] == "Too many form fields: max_fields is 2"
    _assert_nothing_left_open(app)


@pytest.mark.anyio
async def test_too_many_files_is_400_and_closes_earlier_files() -> None:
    app = FormApp(FormLimits(max_files=2, spool_max_size=4))
    body = _body(*(_file("f", f"{i}.txt", b"more than four bytes") for i in range(3)))
    response = await _post(app, body, chunk=16)
    assert response.status_code == 400
    assert response.json()["detail"] == "Too many files: max_files is 2"
    _assert_nothing_left_open(app)


@pytest.mark.anyio
async def test_field_over_max_field_size_is_413() -> None:
    app = FormApp(FormLimits(max_field_size=5))
    response = await _post(app, _body(_field("a", b"123456")))
    assert response.status_code == 413
    assert response.json()["detail"] == "A form field is larger than max_field_size (5 bytes)"


@pytest.mark.anyio
async def test_file_over_max_file_size_is_413_and_closes_files() -> None:
    app = FormApp(FormLimits(max_file_size=1000, spool_max_size=100))
    body = _body(_file("ok", "a", b"a" * 1000), _file("big", "b", b"b" * 1001))
    response = await _post(app, body, chunk=64)
    assert response.status_code == 413
    assert response.json()["detail"] == "An uploaded file is larger than max_file_size (1000 bytes)"
    _assert_nothing_left_open(app)


@pytest.mark.anyio
async def test_part_headers_over_limit_is_413() -> None:
    app = FormApp(FormLimits(max_part_header_size=200))
    many = "\n".join(f"X-H{i}: {'v' * 40}" for i in range(5))
    bodies = [
        _body(_field("a", b"1", "\n" + many)),  # the total is too large
        _body(_field("a", b"1", "\nX-Long: " + "v" * 300)),  # one line is too large
    ]
    for body in bodies:
        for chunk in (50, None):
            response = await _post(app, body, chunk=chunk)
            assert response.status_code == 413
            assert response.json()["detail"] == (
                "A multipart part's headers are larger than max_part_header_size (200 bytes)"
            )


@pytest.mark.anyio
async def test_body_over_request_limit_is_413_and_closes_files() -> None:
    app = FormApp(FormLimits(spool_max_size=10))
    body = _body(*(_file("f", str(i), b"x" * 100) for i in range(200)))

    async def small_request_app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send, limits=Limits(max_upload_size=5000))
        try:
            await parse_form(request, app.limits)
        except HTTPException as exc:
            app.open_after_error = _open_uploads()
            await _send_json(send, exc.status_code, {"detail": exc.detail})

    transport = httpx.ASGITransport(small_request_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(
            "/", content=_chunks(body, 1000), headers={"content-type": MULTIPART}
        )
    assert response.status_code == 413
    assert app.open_after_error == []


# --- multipart: malformed --------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content_type", "detail"),
    [
        ("multipart/form-data", "multipart/form-data Content-Type has no boundary parameter"),
        (
            'multipart/form-data; boundary=""',
            "multipart/form-data Content-Type has no boundary parameter",
        ),
        ("multipart/form-data; boundary=a\x7fb", "Invalid multipart boundary"),
        ('multipart/form-data; boundary="ends with space "', "Invalid multipart boundary"),
        ("multipart/form-data; boundary=" + "x" * 257, "Invalid multipart boundary"),
    ],
)
async def test_bad_boundary_is_400(content_type: str, detail: str) -> None:
    response = await _post(FormApp(), _body(_field("a", b"1")), content_type)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)


@pytest.mark.anyio
async def test_body_with_other_boundary_is_400() -> None:
    body = _body(_field("a", b"1")).replace(BOUNDARY.encode(), b"different")
    response = await _post(FormApp(), body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Malformed multipart body: ")


@pytest.mark.anyio
async def test_truncated_body_is_400_and_closes_files() -> None:
    app = FormApp(FormLimits(spool_max_size=10))
    body = _body(_file("f", "a", b"x" * 100), _file("g", "b", b"y" * 100))
    for cut in (0, 50, len(body) // 2, len(body) - 3):
        response = await _post(app, body[:cut])
        assert response.status_code == 400
        assert response.json()["detail"] == (
            "Malformed multipart body: it ends before the final boundary"
        )
        _assert_nothing_left_open(app)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("part", "detail"),
    [
        (
            _part("Content-Type: text/plain", b"x"),
            "A multipart part has no Content-Disposition header",
        ),
        (
            _part("Content-Disposition: form-data", b"x"),
            "A multipart part's Content-Disposition has no name",
        ),
        (_field("a", b"\xff\xfe"), "A form field is not valid utf-8 text"),
        (_part("Bad Header Name: x", b""), "Malformed multipart body: "),
        (_part("\n".join(f"X-{i}: v" for i in range(9)), b""), "Malformed multipart body: "),
    ],
)
async def test_malformed_part_is_400(part: bytes, detail: str) -> None:
    response = await _post(FormApp(), _body(part))
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)


@pytest.mark.anyio
async def test_invalid_utf8_field_name_is_400() -> None:
    part = (
        b"--" + BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="\xff"\r\n\r\nx\r\n'
    )
    response = await _post(FormApp(), _body(part))
    assert response.status_code == 400
    assert response.json()["detail"] == "A form field name is not valid utf-8 text"


# --- content types and configuration ---------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        ("application/json", "application/json"),
        ("text/plain; charset=utf-8", "text/plain"),
        (None, "none"),
    ],
)
async def test_other_content_type_is_415(content_type: str | None, shown: str) -> None:
    response = await _post(FormApp(), b"{}", content_type)
    assert response.status_code == 415
    assert response.json()["detail"] == (
        f"Unsupported content type {shown!r} for a form: expected "
        "application/x-www-form-urlencoded or multipart/form-data"
    )


def test_form_limits_defaults() -> None:
    limits = FormLimits()
    assert (limits.max_fields, limits.max_files) == (1000, 100)
    assert limits.max_field_size == limits.spool_max_size == 1024 * 1024
    assert limits.max_file_size == 100 * 1024 * 1024
    assert limits.max_part_header_size == 16 * 1024


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_fields": -1}, "FormLimits.max_fields must be an integer >= 0, not -1"),
        ({"max_file_size": 1.5}, "FormLimits.max_file_size must be an integer >= 0, not 1.5"),
        ({"max_part_header_size": 0}, "FormLimits.max_part_header_size must be an integer >= 1"),
        ({"spool_max_size": True}, "FormLimits.spool_max_size must be an integer >= 0, not True"),
    ],
)
def test_form_limits_reject_bad_values(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace(".", r"\.")):
        FormLimits(**kwargs)
