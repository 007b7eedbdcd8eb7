"""An origin regex that matches any site is refused with credentials, as `["*"]` is."""

from __future__ import annotations

import pytest

from trivium import App
from trivium.errors import ConfigurationError
from trivium.middleware import CORSMiddleware
from trivium.middleware import Middleware
from trivium.testing import TestClient

PREVIEW = r"https://[a-z0-9-]+\.preview\.example\.com"


@pytest.mark.parametrize("regex", [".*", ".+", "^.*$", "https?://.*", "https://.+", r"http://\S+"])
def test_match_all_regex_with_credentials_is_refused(regex: str) -> None:
    with pytest.raises(ConfigurationError, match="matches any origin") as info:
        CORSMiddleware(App(), allow_origin_regex=regex, allow_credentials=True)
    assert info.value.code == "cors-wildcard-credentials"


@pytest.mark.parametrize("regex", [".*", "https?://.*"])
def test_match_all_regex_without_credentials_is_allowed(regex: str) -> None:
    app = App(middleware=[Middleware(CORSMiddleware, allow_origin_regex=regex)])

    @app.get("/items")
    async def items() -> dict[str, str]:
        return {"ok": "yes"}

    response = TestClient(app).get("/items", headers={"origin": "https://any.example"})
    assert response.headers["access-control-allow-origin"] == "https://any.example"
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize(
    "regex", [PREVIEW, r"http://localhost:\d+", r"https://(a|b)\.example\.com"]
)
def test_narrow_regex_with_credentials_is_allowed(regex: str) -> None:
    CORSMiddleware(App(), allow_origin_regex=regex, allow_credentials=True)


def test_narrow_regex_with_credentials_reflects_only_matching_origins() -> None:
    app = App(
        middleware=[Middleware(CORSMiddleware, allow_origin_regex=PREVIEW, allow_credentials=True)]
    )

    @app.get("/items")
    async def items() -> dict[str, str]:
        return {"ok": "yes"}

    client = TestClient(app)
    good = client.get("/items", headers={"origin": "https://pr-1.preview.example.com"})
    assert good.headers["access-control-allow-credentials"] == "true"
    evil = client.get("/items", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers
