"""Argon2id hashing: format, verification, upgrades, unusable hashes, worker threads."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from trivium.auth import DEFAULT_HASHER
from trivium.auth import PasswordHasher
from trivium.auth import dummy_verify
from trivium.auth import hash_password
from trivium.auth import verify_password
from trivium.errors import ConfigurationError

FAST = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_default_hash_is_argon2id_with_rfc_9106_parameters() -> None:
    encoded = await hash_password("correct horse battery staple")
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert encoded != await hash_password("correct horse battery staple")  # salted
    assert await verify_password("correct horse battery staple", encoded) == (True, None)
    assert await verify_password("correct horse battery stapler", encoded) == (False, None)
    assert not DEFAULT_HASHER.needs_rehash(encoded)


@pytest.mark.anyio
async def test_verify_returns_a_new_hash_when_parameters_changed() -> None:
    old = await hash_password("pw", hasher=FAST)
    ok, new = await verify_password("pw", old, hasher=DEFAULT_HASHER)
    assert ok
    assert new is not None
    assert new.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert await verify_password("pw", new) == (True, None)
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
