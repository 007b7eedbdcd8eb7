"""Argon2id hashing: format, verification, upgrades, unusable hashes, worker threads."""

from __future__ import annotations

import os
import subprocess
import sys

import anyio
import anyio.lowlevel
import pytest

from trivium.auth import DEFAULT_HASHER
from trivium.auth import PasswordHasher
from trivium.auth import dummy_verify
from trivium.auth import hash_password
from trivium.auth import verify_password
from trivium.errors import ConfigurationError

pytestmark = pytest.mark.drives_no_app

FAST = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
STRONG = PasswordHasher()
"""The default's parameters (the suite runs with `TRIVIUM_PASSWORD_HASHER=fast-for-tests`)."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_default_hash_is_argon2id_with_rfc_9106_parameters() -> None:
    encoded = await hash_password("correct horse battery staple", hasher=STRONG)
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert encoded != await hash_password("correct horse battery staple", hasher=STRONG)
    ok = await verify_password("correct horse battery staple", encoded, hasher=STRONG)
    assert ok == (True, None)
    bad = await verify_password("correct horse battery stapler", encoded, hasher=STRONG)
    assert bad == (False, None)
    assert not STRONG.needs_rehash(encoded)


@pytest.mark.anyio
async def test_verify_returns_a_new_hash_when_parameters_changed() -> None:
    old = await hash_password("pw", hasher=FAST)
    ok, new = await verify_password("pw", old, hasher=STRONG)
    assert ok
    assert new is not None
    assert new.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert await verify_password("pw", new, hasher=STRONG) == (True, None)
    assert await verify_password("wrong", old) == (False, None)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "encoded",
    ["", "!", "!unusable-random", "plaintext", "$argon2id$garbage", "pbkdf2_sha256$1$x$y"],
)
async def test_unusable_or_malformed_hashes_never_match(encoded: str) -> None:
    assert await verify_password(encoded, encoded, hasher=FAST) == (False, None)
    assert await verify_password("", encoded, hasher=FAST) == (False, None)


@pytest.mark.anyio
async def test_dummy_verify_runs_a_full_check() -> None:
    await dummy_verify(hasher=FAST)
    await dummy_verify(hasher=FAST)  # the dummy hash is made once and reused
    await dummy_verify()


@pytest.mark.anyio
async def test_hashing_does_not_block_the_event_loop() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await anyio.lowlevel.checkpoint()

    async with anyio.create_task_group() as group:
        group.start_soon(ticker)
        await hash_password("pw")
        group.cancel_scope.cancel()
    assert ticks > 1


def test_sync_faces_for_scripts() -> None:
    encoded = FAST.hash_sync("pw")
    assert FAST.verify_sync("pw", encoded) == (True, None)
    assert repr(FAST) == "PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)"


@pytest.mark.parametrize(
    "options",
    [
        {"time_cost": 0},
        {"parallelism": 0},
        {"memory_cost": 4, "parallelism": 1},
        {"hash_len": 8},
        {"salt_len": 4},
    ],
)
def test_weak_parameters_are_refused_at_start_up(options: dict[str, int]) -> None:
    with pytest.raises(ConfigurationError, match="auth-weak-hasher") as info:
        PasswordHasher(**options)
    assert info.value.code == "auth-weak-hasher"


def _default_in_fresh_interpreter(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TRIVIUM_PASSWORD_HASHER"}
    if value is not None:
        env["TRIVIUM_PASSWORD_HASHER"] = value
    code = "from trivium.auth import DEFAULT_HASHER; print(repr(DEFAULT_HASHER))"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )


def test_the_default_hasher_is_rfc_9106_unless_a_suite_asks_for_the_fast_one() -> None:
    strong = _default_in_fresh_interpreter(None)
    assert strong.stdout.strip() == "PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4)"
    fast = _default_in_fresh_interpreter("fast-for-tests")
    assert fast.stdout.strip() == "PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)"
    wrong = _default_in_fresh_interpreter("md5")
    assert wrong.returncode != 0
    assert "[auth-hasher-env]" in wrong.stderr
    assert "fast-for-tests" in wrong.stderr


def test_production_refuses_the_fast_test_hasher(monkeypatch: pytest.MonkeyPatch) -> None:
    from trivium import App
    from trivium.auth import Auth
    from trivium.db import Database

    monkeypatch.setenv("TRIVIUM_ENV", "production")
    assert DEFAULT_HASHER.params.memory_cost == 64  # the suite's switch (root conftest.py)
    db = Database("sqlite+aiosqlite://")
    auth = Auth(db, secret_key="k" * 40, site_url="https://example.com")
    app = App(plugins=[auth])
    with pytest.raises(ConfigurationError, match=r"auth-weak-hasher.*TRIVIUM_PASSWORD_HASHER"):
        app.build()
