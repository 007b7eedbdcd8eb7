"""JWT access and refresh tokens: the OAuth2 password flow, forgeries, rotation, reuse."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from typing import Any

import jwt
import pytest
from tests.auth.authapp import PASSWORD
from tests.auth.authapp import add_user
from tests.auth.authapp import make_app

from trivium.auth import JWTConfig
from trivium.db import Database
from trivium.errors import ConfigurationError
from trivium.testing import TestClient

KEY_A = "a" * 40
KEY_B = "b" * 40


def _config(**options: Any) -> JWTConfig:
    options.setdefault("keys", {"k1": KEY_A})
    return JWTConfig(issuer="https://trivium.test", audience="api", **options)


def _pair(client: TestClient, username: str = "ada", scope: str = "") -> dict[str, Any]:
    response = client.post(
        "/auth/token", data={"username": username, "password": PASSWORD, "scope": scope}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _me(client: TestClient, token: str) -> int:
    return client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})  # type: ignore[no-any-return]


def _forge(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    head = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())
    signature = hmac.new(key, head.encode(), hashlib.sha256).digest() if key else b""
    return head + "." + _b64(signature)


def test_password_flow_issues_a_working_pair(db: Database) -> None:
    user_id = add_user(db, username="ada")
    app, _ = make_app(db, jwt=_config())
    with TestClient(app) as client:
        pair = _pair(client)
        assert pair["token_type"] == "bearer"
        assert pair["expires_in"] == 900
        response = client.get(
            "/whoami", headers={"Authorization": f"Bearer {pair['access_token']}"}
        )
        assert response.json() == {"authenticated": True, "id": user_id, "method": "jwt"}
        assert _me(client, pair["refresh_token"]) == 401  # a refresh token is not an access token
        bad = client.post("/auth/token", data={"username": "ada", "password": "wrong"})
        assert bad.status_code == 400
        assert client.post("/auth/token", data={"username": "ada"}).status_code == 422


def test_tampered_tokens_get_401(db: Database) -> None:
    add_user(db, username="ada")
    other_id = add_user(db, username="eve")
    app, _ = make_app(db, jwt=_config())
    with TestClient(app) as client:
        token = _pair(client)["access_token"]
        header, payload, signature = token.split(".")
        claims = _claims(token)
        changed = _b64(json.dumps({**claims, "sub": str(other_id)}).encode())
        forgeries = {
            "payload": f"{header}.{changed}.{signature}",
            "signature": f"{header}.{payload}.{_b64(b'x' * 32)}",
            "alg none": _forge({"alg": "none", "typ": "JWT", "kid": "k1"}, claims, None),
            "unknown kid": _forge({"alg": "HS256", "kid": "k9"}, claims, KEY_A.encode()),
            "no kid": _forge({"alg": "HS256"}, claims, KEY_A.encode()),
            "garbage": "not.a.jwt",
        }
        for name, forged in forgeries.items():
            response = client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"})
            assert response.status_code == 401, name
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_expired_wrong_audience_and_wrong_issuer_tokens_get_401(db: Database) -> None:
    user_id = add_user(db, username="ada")
    app, _ = make_app(db, jwt=_config())
    claims = {"sub": str(user_id), "type": "access"}
    expired = _config().encode(claims, datetime.timedelta(seconds=-5))
    other_aud = JWTConfig(keys={"k1": KEY_A}, issuer="https://trivium.test", audience="other")
    other_iss = JWTConfig(keys={"k1": KEY_A}, issuer="https://evil.test", audience="api")
    no_aud = JWTConfig(keys={"k1": KEY_A}, issuer="https://trivium.test")
    with TestClient(app) as client:
        assert _me(client, _config().access_token(user_id)) == 200
        assert _me(client, expired) == 401
        assert _me(client, other_aud.access_token(user_id)) == 401
        assert _me(client, other_iss.access_token(user_id)) == 401
        assert _me(client, no_aud.access_token(user_id)) == 401


def test_hs256_token_signed_with_the_rsa_public_key_is_refused(db: Database) -> None:
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    user_id = add_user(db, username="ada")
    config = JWTConfig(
        keys={"rsa": pem}, algorithm="RS256", audience="api", issuer="https://trivium.test"
    )
    app, _ = make_app(db, jwt=config)
    claims = _claims(config.access_token(user_id))
    confused = _forge({"alg": "HS256", "kid": "rsa"}, claims, public)
    with TestClient(app) as client:
        assert _me(client, config.access_token(user_id)) == 200
        assert _me(client, confused) == 401


def test_old_key_verifies_after_rotation_until_removed(db: Database) -> None:
    user_id = add_user(db, username="ada")
    old = _config().access_token(user_id)
    rotated = _config(keys={"k1": KEY_A, "k2": KEY_B}, active_kid="k2")
    app, _ = make_app(db, jwt=rotated)
    with TestClient(app) as client:
        new = _pair(client)["access_token"]
        assert jwt.get_unverified_header(new)["kid"] == "k2"
        assert _me(client, old) == 200
        assert _me(client, new) == 200
    app, _ = make_app(db, jwt=_config(keys={"k2": KEY_B}))
    with TestClient(app) as client:
        assert _me(client, old) == 401
        assert _me(client, new) == 200


def test_refresh_rotates_and_a_reused_token_revokes_the_family(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db, jwt=_config())
    with TestClient(app) as client:
        first = _pair(client)
        second = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert second.status_code == 200
        second_refresh = second.json()["refresh_token"]
        assert _me(client, second.json()["access_token"]) == 200
        reused = client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert reused.status_code == 401
        # The theft is detected: the legitimate newer token is revoked too.
        after = client.post("/auth/refresh", data={"refresh_token": second_refresh})
        assert after.status_code == 401
        assert client.post("/auth/refresh", json={"refresh_token": "junk"}).status_code == 401
        assert client.post("/auth/refresh", json={}).status_code == 422


def test_password_change_revokes_refresh_tokens(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db, jwt=_config())
    with TestClient(app) as client:
        pair = _pair(client)
        headers = {"Authorization": f"Bearer {pair['access_token']}"}
        changed = client.post(
            "/auth/password/change",
            json={"old_password": PASSWORD, "new_password": "a new long passphrase 7"},
            headers=headers,
        )
        assert changed.status_code == 200
        refreshed = client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert refreshed.status_code == 401


def test_jwt_scopes_are_checked(db: Database) -> None:
    add_user(db, username="ada")
    app, _ = make_app(db, jwt=_config())
    with TestClient(app) as client:
        narrow = _pair(client, scope="items:read")["access_token"]
        wide = _pair(client, scope="items:read items:write")["access_token"]
        assert (
            client.post("/items", headers={"Authorization": f"Bearer {narrow}"}).status_code == 403
        )
        assert client.post("/items", headers={"Authorization": f"Bearer {wide}"}).status_code == 200


def test_bearer_jwt_without_jwt_config_gets_401(db: Database) -> None:
    user_id = add_user(db, username="ada")
    app, _ = make_app(db)
    with TestClient(app) as client:
        assert _me(client, _config().access_token(user_id)) == 401
        assert client.post("/auth/token", data={"username": "a", "password": "b"}).status_code in (
            404,
            405,
        )


def test_openapi_documents_the_password_flow(db: Database) -> None:
    app, _ = make_app(db, jwt=_config())
    document = app.openapi()
    scheme = document["components"]["securitySchemes"]["TriviumAuth"]
    assert scheme["flows"]["password"]["tokenUrl"] == "/auth/token"
    assert document["paths"]["/auth/me"]["get"]["security"] == [{"TriviumAuth": []}]
    assert document["paths"]["/items"]["post"]["security"] == [{"TriviumAuth": ["items:write"]}]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"keys": {}}, "at least one"),
        ({"keys": {"a": KEY_A, "b": KEY_B}}, "active_kid"),
        ({"keys": {"a": KEY_A}, "active_kid": "z"}, "not one of the keys"),
        ({"keys": {"a": "short"}}, "at least 32"),
        ({"keys": {"a": KEY_A}, "algorithm": "none"}, "unsupported"),
        ({"keys": {"a": "-----BEGIN PUBLIC KEY-----" + "x" * 40}}, "PEM"),
    ],
)
def test_bad_jwt_config_is_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        JWTConfig(**options)


def test_a_stale_access_token_does_not_stop_getting_a_new_one(db: Database) -> None:
    # SPA and mobile clients attach their access token to every call, the refresh too;
    # once it has expired (here: a forged one, refused the same way) they must still be
    # able to trade their refresh token or password for a new pair.
    add_user(db, username="ada")
    app, _ = make_app(db, jwt=_config())
    with TestClient(app) as client:
        pair = _pair(client)
        stale = {"Authorization": "Bearer " + pair["access_token"][:-4] + "AAAA"}
        assert client.get("/auth/me", headers=stale).status_code == 401  # still refused there
        refreshed = client.post(
            "/auth/refresh", json={"refresh_token": pair["refresh_token"]}, headers=stale
        )
        assert refreshed.status_code == 200, refreshed.text
        assert _me(client, refreshed.json()["access_token"]) == 200
        token = client.post(
            "/auth/token", data={"username": "ada", "password": PASSWORD}, headers=stale
        )
        assert token.status_code == 200, token.text
        # The view still judges what it was given: a wrong password stays wrong.
        wrong = client.post(
            "/auth/token", data={"username": "ada", "password": "nope"}, headers=stale
        )
        assert wrong.status_code == 400
        login = client.post(
            "/auth/login", json={"identifier": "ada", "password": PASSWORD}, headers=stale
        )
        assert login.status_code == 200, login.text
