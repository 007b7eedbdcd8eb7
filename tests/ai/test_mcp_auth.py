"""MCP with trivium.auth: OAuth 2.1 resource server, identity, guards and scopes per tool."""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path
from typing import Annotated
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError
from tests.ai.mcpkit import mcp_client
from tests.ai.mcpkit import running
from tests.auth.authapp import add_user

from trivium import App
from trivium import Depends
from trivium.ai import MCP
from trivium.auth import Auth
from trivium.auth import CurrentUser
from trivium.auth import JWTConfig
from trivium.auth import require_scopes
from trivium.auth import require_staff
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.stores import MemoryStore

SECRET = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
AUDIENCE = "http://localhost/mcp"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'mcp.db'}")

    async def create() -> None:
        await database.create_all()
        await database.dispose()

    anyio.run(create)
    return database


def jwt_config(audience: str | None = AUDIENCE) -> JWTConfig:
    return JWTConfig(keys={"k1": "k" * 40}, issuer="https://issuer.test", audience=audience)


def make_app(db: Database, jwt: JWTConfig | None = None, **options: Any) -> App:
    app = App()
    db.init_app(app)
    Auth(db, secret_key=SECRET, session_store=MemoryStore(), jwt=jwt or jwt_config()).init_app(app)
    options.setdefault("authorization_servers", ["https://issuer.test"])
    app.install(MCP(**options))

    @app.get("/me", mcp=True)
    async def whoami(user: CurrentUser) -> dict[str, Any]:
        """Who the caller is."""
        return {"id": user.id, "username": user.username}

    @app.post("/notes", mcp=True, dependencies=[Depends(require_scopes("notes:write"))])
    async def write_note(text: str) -> dict[str, str]:
        """Write a note (needs the notes:write scope)."""
        return {"saved": text}

    @app.get("/staff-report", mcp=True)
    async def staff_report(user: Annotated[Any, Depends(require_staff)]) -> dict[str, int]:
        """A report for staff only."""
        return {"by": user.id}

    return app


def bearer(app: App, user_id: int, scopes: tuple[str, ...] = ()) -> dict[str, str]:
    config = jwt_config()
    return {"Authorization": f"Bearer {config.access_token(user_id, scopes)}"}


def test_anonymous_requests_get_a_401_linking_the_resource_metadata(db: Database) -> None:
    async def go() -> None:
        async with running(make_app(db)) as http:
            response = await http.post(
                "/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"accept": "application/json, text/event-stream"},
            )
            assert response.status_code == 401
            challenge = response.headers["www-authenticate"]
            url = "http://localhost/.well-known/oauth-protected-resource/mcp"
            assert challenge.startswith(f'Bearer resource_metadata="{url}"')
            metadata = (await http.get(url)).json()
            assert metadata["resource"] == AUDIENCE
            assert metadata["authorization_servers"] == ["https://issuer.test"]
            assert metadata["scopes_supported"] == ["notes:write"]
            assert (await http.get("/.well-known/oauth-protected-resource")).json() == metadata
            forged = await http.post(
                "/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"authorization": "Bearer not-a-token"},
            )
            assert forged.status_code == 401
            assert 'error="invalid_token"' in forged.headers["www-authenticate"]

    anyio.run(go)


def test_a_token_for_another_audience_is_refused(db: Database) -> None:
    user_id = add_user(db, username="ada")
    other = JWTConfig(keys={"k1": "k" * 40}, issuer="https://issuer.test", audience="other")

    async def go() -> None:
        async with running(make_app(db)) as http:
            token = other.access_token(user_id, ())
            response = await http.post(
                "/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"authorization": f"Bearer {token}"},
            )
            assert response.status_code == 401

    anyio.run(go)


def test_tools_run_as_the_caller_and_unusable_tools_are_hidden(db: Database) -> None:
    user_id = add_user(db, username="ada")

    async def go() -> None:
        app = make_app(db)
        async with mcp_client(app, headers=bearer(app, user_id)) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert names == {"whoami"}  # no notes:write scope, not staff
            me = await client.call_tool("whoami", {})
            assert me.structured_content == {"id": user_id, "username": "ada"}
            with pytest.raises(MCPError, match="write_note.*refused") as info:
                await client.call_tool("write_note", {"text": "hi"})
            assert info.value.code == -32003
            with pytest.raises(MCPError, match="staff_report.*refused"):
                await client.call_tool("staff_report", {})
        scoped = bearer(app, user_id, ("notes:write",))
        async with mcp_client(make_app(db), headers=scoped) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert names == {"whoami", "write_note"}
            saved = await client.call_tool("write_note", {"text": "hi"})
            assert saved.structured_content == {"saved": "hi"}

    anyio.run(go)


def test_jwt_without_an_audience_is_a_configuration_error(db: Database) -> None:
    app = make_app(db, jwt=jwt_config(audience=None))
    with pytest.raises(ConfigurationError) as info:
        app.plugin(MCP).catalogue(app)
    assert info.value.code == "mcp-audience"


def test_a_resource_without_a_jwt_audience_is_a_configuration_error(db: Database) -> None:
    app = make_app(db, jwt=jwt_config(audience=None), resource="http://localhost/mcp")
    with pytest.raises(ConfigurationError, match=r"JWTConfig\(audience=") as info:
        app.plugin(MCP).catalogue(app)
    assert info.value.code == "mcp-audience"


def token_for(user_id: int, audience: str | list[str]) -> str:
    claims = {"sub": str(user_id), "type": "access", "jti": uuid.uuid4().hex, "aud": audience}
    return jwt_config(audience=None).encode(claims, datetime.timedelta(minutes=5))


def test_tokens_must_name_the_resource_when_it_is_not_the_jwt_audience(db: Database) -> None:
    user_id = add_user(db, username="ada")
    resource = "https://mcp.example.com/mcp"
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    accept = {"accept": "application/json, text/event-stream"}

    async def go() -> None:
        async with running(make_app(db, resource=resource)) as http:
            for audience in (AUDIENCE, [AUDIENCE, "https://other.example"]):
                token = token_for(user_id, audience)
                headers = {**accept, "authorization": f"Bearer {token}"}
                refused = await http.post("/mcp", json=listing, headers=headers)
                assert refused.status_code == 401
                assert resource in refused.json()["detail"]
                challenge = refused.headers["www-authenticate"]
                assert challenge.startswith('Bearer resource_metadata="')
                assert 'error="invalid_token"' in challenge
            token = token_for(user_id, [AUDIENCE, resource])
            headers = {**accept, "authorization": f"Bearer {token}"}
            accepted = await http.post("/mcp", json=listing, headers=headers)
            assert accepted.status_code == 200
            metadata = (await http.get("/.well-known/oauth-protected-resource/mcp")).json()
            assert metadata["resource"] == resource

    anyio.run(go)


def test_api_token_auth_gets_a_challenge_without_metadata_it_does_not_serve(db: Database) -> None:
    app = App()
    db.init_app(app)
    Auth(db, secret_key=SECRET, session_store=MemoryStore()).init_app(app)
    app.install(MCP(require_auth=True))

    @app.get("/me", mcp=True)
    async def whoami(user: CurrentUser) -> dict[str, Any]:
        """Who the caller is."""
        return {"id": user.id}

    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}

    async def go() -> None:
        async with running(app) as http:
            anonymous = await http.post("/mcp", json=listing)
            assert anonymous.status_code == 401
            assert anonymous.headers["www-authenticate"] == "Bearer"
            bad = await http.post("/mcp", json=listing, headers={"authorization": "Token trv_x"})
            assert bad.status_code == 401
            assert "resource_metadata" not in bad.headers["www-authenticate"]
            assert (await http.get("/.well-known/oauth-protected-resource/mcp")).status_code == 404

    anyio.run(go)


def test_the_metadata_url_and_default_resource_keep_the_root_path(db: Database) -> None:
    app = App(root_path="/api")
    db.init_app(app)
    Auth(db, secret_key=SECRET, session_store=MemoryStore(), jwt=jwt_config()).init_app(app)
    app.install(MCP())
    plain = App(root_path="/api")
    plain.install(MCP(authorization_servers=["https://issuer.test"]))
    listing = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    url = "http://localhost/api/.well-known/oauth-protected-resource/mcp"

    async def go() -> None:
        async with running(app) as http:
            response = await http.post("/api/mcp", json=listing)
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == f'Bearer resource_metadata="{url}"'
            assert (await http.get(url)).json()["resource"] == AUDIENCE
        async with running(plain) as http:
            metadata = (await http.get(url)).json()
            assert metadata["resource"] == "http://localhost/api/mcp"

    anyio.run(go)
