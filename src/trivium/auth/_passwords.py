"""Password hashing with Argon2id, run in a worker thread so the event loop never stalls.

Hashing is deliberately slow (tens of milliseconds and 64 MiB of memory with the default
parameters), so every call goes through `anyio.to_thread.run_sync`. Verification tells the
caller when a stored hash was made with other parameters than the hasher's, so the hash
can be upgraded on the next successful login. `dummy_verify` spends the same time as a real
check, for logins of unknown users (an attacker must not learn which users exist from how
fast the answer comes).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets

import anyio.to_thread
import argon2
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

from trivium.errors import ConfigurationError

__all__ = [
    "DEFAULT_HASHER",
    "HASHER_ENV",
    "PasswordHasher",
    "dummy_verify",
    "hash_password",
    "make_unusable_password",
    "refuse_weak_hasher",
    "verify_password",
]

UNUSABLE_PREFIX = "!"


@dataclasses.dataclass(frozen=True, slots=True)
class _Params:
    time_cost: int
    memory_cost: int
    parallelism: int
    hash_len: int
    salt_len: int


class PasswordHasher:
    """Argon2id hashing with configurable cost; the defaults follow RFC 9106 (low memory).

    ```python
    hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
    encoded = await hasher.hash("correct horse battery staple")
    ok, new_hash = await hasher.verify("correct horse battery staple", encoded)
    ```

    Args:
        time_cost: number of passes over the memory.
        memory_cost: memory used, in KiB (65 536 = 64 MiB).
        parallelism: number of lanes (threads) per hash.
        hash_len: length of the hash in bytes.
        salt_len: length of the random salt in bytes.

    Raises:
        ConfigurationError: a parameter is below Argon2's minimum (`auth-weak-hasher`).
    """

    __slots__ = ("_argon2", "_dummy_hash", "params")

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost: int = 65_536,
        parallelism: int = 4,
        hash_len: int = 32,
        salt_len: int = 16,
    ) -> None:
        if time_cost < 1 or parallelism < 1 or memory_cost < 8 * parallelism:
            raise ConfigurationError(
                f"invalid Argon2 parameters (time_cost={time_cost}, memory_cost={memory_cost}, "
                f"parallelism={parallelism}): time_cost and parallelism must be at least 1 "
                "and memory_cost (KiB) at least 8 x parallelism",
                "auth-weak-hasher",
            )
        if hash_len < 16 or salt_len < 16:
            raise ConfigurationError(
                f"hash_len={hash_len} and salt_len={salt_len}: both must be at least 16 bytes",
                "auth-weak-hasher",
            )
        self.params = _Params(time_cost, memory_cost, parallelism, hash_len, salt_len)
        """The Argon2 parameters new hashes are made with."""
        self._argon2 = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=hash_len,
            salt_len=salt_len,
            type=argon2.Type.ID,
        )
        self._dummy_hash: str | None = None

    def __repr__(self) -> str:
        p = self.params
        return (
            f"PasswordHasher(time_cost={p.time_cost}, memory_cost={p.memory_cost}, "
            f"parallelism={p.parallelism})"
        )

    def hash_sync(self, raw: str) -> str:
        """Hash `raw` in the calling thread (blocking; prefer `await hash(...)`)."""
        return self._argon2.hash(raw)

    def verify_sync(self, raw: str, encoded: str) -> tuple[bool, str | None]:
        """Check `raw` against `encoded` in the calling thread (blocking).

        Returns:
            `(matches, new_hash)`: `new_hash` is a fresh hash of `raw` when it matches but
            `encoded` was made with other parameters, else `None`.
        """
        if encoded.startswith(UNUSABLE_PREFIX) or not encoded.startswith("$argon2"):
            self._dummy_verify_sync()
            return False, None
        try:
            self._argon2.verify(encoded, raw)
        except (VerificationError, InvalidHashError):
            return False, None
        if self._argon2.check_needs_rehash(encoded):
            return True, self._argon2.hash(raw)
        return True, None

    def _dummy_verify_sync(self) -> None:
        if self._dummy_hash is None:
            self._dummy_hash = self._argon2.hash(secrets.token_urlsafe(16))
        with contextlib.suppress(VerificationError):
            self._argon2.verify(self._dummy_hash, secrets.token_urlsafe(16))

    async def hash(self, raw: str) -> str:
        """Return the encoded Argon2id hash of `raw` (computed in a worker thread)."""
        return await anyio.to_thread.run_sync(self.hash_sync, raw)

    async def verify(self, raw: str, encoded: str) -> tuple[bool, str | None]:
        """Check `raw` against `encoded` in a worker thread; see `verify_sync`."""
        return await anyio.to_thread.run_sync(self.verify_sync, raw, encoded)

    async def dummy_verify(self) -> None:
        """Spend as long as a real verification and return (for unknown users)."""
        await anyio.to_thread.run_sync(self._dummy_verify_sync)

    def needs_rehash(self, encoded: str) -> bool:
        """Whether `encoded` was made with other parameters than this hasher's."""
        try:
            return self._argon2.check_needs_rehash(encoded)
        except InvalidHashError:
            return True


HASHER_ENV = "TRIVIUM_PASSWORD_HASHER"
"""Set to `fast-for-tests` to make `DEFAULT_HASHER` cheap in a test suite (never in production)."""

FAST_FOR_TESTS = "fast-for-tests"


def _default_hasher() -> PasswordHasher:
    choice = os.environ.get(HASHER_ENV, "")
    if choice == "":
        return PasswordHasher()
    if choice == FAST_FOR_TESTS:
        # Like Django's advice to use a fast hasher in tests: one pass over 64 KiB.
        return PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    raise ConfigurationError(
        f"{HASHER_ENV}={choice!r} is not understood; unset it (Argon2id, 3 passes, 64 MiB) "
        f"or set {FAST_FOR_TESTS!r} in a test suite",
        "auth-hasher-env",
    )


DEFAULT_HASHER = _default_hasher()
"""The hasher used when none is given: Argon2id, 3 passes, 64 MiB, 4 lanes.

With `TRIVIUM_PASSWORD_HASHER=fast-for-tests` it is a cheap one (1 pass, 64 KiB) for
test suites; `Auth` refuses to start in production mode with it (`auth-weak-hasher`).
"""


def refuse_weak_hasher(production: bool) -> None:
    """Refuse production mode while `TRIVIUM_PASSWORD_HASHER` asks for the test hasher.

    Raises:
        ConfigurationError: `auth-weak-hasher`.
    """
    if production and os.environ.get(HASHER_ENV, "") == FAST_FOR_TESTS:
        raise ConfigurationError(
            f"{HASHER_ENV}={FAST_FOR_TESTS} makes password hashes too weak for production; "
            "unset it (it is for test suites only)",
            "auth-weak-hasher",
        )


async def hash_password(raw: str, *, hasher: PasswordHasher | None = None) -> str:
    """Return the encoded Argon2id hash of `raw`, computed in a worker thread."""
    return await (hasher or DEFAULT_HASHER).hash(raw)


async def verify_password(
    raw: str, encoded: str, *, hasher: PasswordHasher | None = None
) -> tuple[bool, str | None]:
    """Check `raw` against the stored `encoded` hash, in a worker thread.

    An unusable (`"!"`-prefixed) or malformed `encoded` never matches, after spending the
    time of a real check.

    Returns:
        `(matches, new_hash)`: store `new_hash` in place of `encoded` when it is not `None`
        (the hasher's parameters changed since `encoded` was made).
    """
    return await (hasher or DEFAULT_HASHER).verify(raw, encoded)


async def dummy_verify(*, hasher: PasswordHasher | None = None) -> None:
    """Spend the time of one password check: call it when the user does not exist."""
    await (hasher or DEFAULT_HASHER).dummy_verify()


def make_unusable_password() -> str:
    """Return a stored-password value that no password matches (`"!"` + random text)."""
    return UNUSABLE_PREFIX + secrets.token_urlsafe(30)
