"""Password strength rules, run before a password is set (sign-up, change, CLI).

Each validator returns a message for the user when the password breaks its rule, or `None`.
`validate_password` runs them all and raises `PasswordValidationError` with every message,
so a form can show all the problems at once. A validator is any object with a
`validate(password, user)` method and a `help_text` attribute (see `PasswordValidator`).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from collections.abc import Sequence
from importlib import resources
from typing import Protocol

from trivium.errors import TriviumError

__all__ = [
    "DEFAULT_VALIDATORS",
    "CommonPassword",
    "MinimumLength",
    "NumericPassword",
    "PasswordValidationError",
    "PasswordValidator",
    "UserAttributeSimilarity",
    "password_help_texts",
    "validate_password",
]

UserLike = object | Mapping[str, object] | None
"""A user object, a mapping of its attributes (before it exists), or `None`."""


class PasswordValidationError(TriviumError, ValueError):
    """The password breaks one or more rules; `messages` says which, for the user."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        """One sentence per broken rule."""
        super().__init__(" ".join(messages))


class PasswordValidator(Protocol):
    """What `validate_password` needs of a validator."""

    @property
    def help_text(self) -> str:
        """Describe the rule to the user ("Your password must ...")."""

    def validate(self, password: str, user: UserLike = None) -> str | None:
        """Return why `password` breaks the rule, or `None` if it is fine."""


class MinimumLength:
    """The password has at least `min_length` characters (default 10)."""

    __slots__ = ("min_length",)

    def __init__(self, min_length: int = 10) -> None:
        self.min_length = min_length
        """The smallest accepted length."""

    @property
    def help_text(self) -> str:
        """Describe the rule."""
        return f"Your password must contain at least {self.min_length} characters."

    def validate(self, password: str, user: UserLike = None) -> str | None:
        """Refuse passwords shorter than `min_length`."""
        del user
        if len(password) < self.min_length:
            return (
                f"This password is too short. It must contain at least "
                f"{self.min_length} characters."
            )
        return None


@functools.cache
def _shipped_common_passwords() -> frozenset[str]:
    text = resources.files("trivium.auth").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


class CommonPassword:
    """The password is not one of the most common ones (10,000 shipped, or your own list).

    Args:
        passwords: the forbidden passwords (compared lower-cased); default: the shipped
            list of the 10,000 most common passwords.
    """

    __slots__ = ("_passwords",)

    def __init__(self, passwords: Sequence[str] | None = None) -> None:
        # The shipped list is read on first use, so importing trivium.auth stays cheap.
        self._passwords = (
            None if passwords is None else frozenset(p.strip().lower() for p in passwords)
        )

    @property
    def help_text(self) -> str:
        """Describe the rule."""
        return "Your password can't be a commonly used password."

    def validate(self, password: str, user: UserLike = None) -> str | None:
        """Refuse a password found in the list."""
        del user
        passwords = _shipped_common_passwords() if self._passwords is None else self._passwords
        if password.strip().lower() in passwords:
            return "This password is too common."
        return None


class NumericPassword:
    """The password is not made of digits only."""

    __slots__ = ()

    @property
    def help_text(self) -> str:
        """Describe the rule."""
        return "Your password can't be entirely numeric."

    def validate(self, password: str, user: UserLike = None) -> str | None:
        """Refuse an all-digit password."""
        del user
        if password.isdigit():
            return "This password is entirely numeric."
        return None


def _attribute(user: UserLike, name: str) -> str | None:
    value = user.get(name) if isinstance(user, Mapping) else getattr(user, name, None)
    return value if isinstance(value, str) and value else None


class UserAttributeSimilarity:
    """The password is not too similar to the user's name, e-mail or other attributes.

    The password is compared with each attribute and with each word of it (e-mails split
    at `@` and `.`); a similarity ratio (`difflib`) of `max_similarity` or more refuses it.

    Args:
        attributes: the user's attributes to compare with.
        max_similarity: the ratio from which passwords are refused (0.1 to 1.0).
    """

    __slots__ = ("attributes", "max_similarity")

    def __init__(
        self, attributes: Sequence[str] = ("username", "email"), max_similarity: float = 0.7
    ) -> None:
        if not 0.1 <= max_similarity <= 1.0:
            raise ValueError(f"max_similarity={max_similarity}: choose a value from 0.1 to 1.0")
        self.attributes = tuple(attributes)
        """The attribute names compared with the password."""
        self.max_similarity = max_similarity
        """The similarity ratio from which a password is refused."""

    @property
    def help_text(self) -> str:
        """Describe the rule."""
        return "Your password can't be too similar to your other personal information."

    def validate(self, password: str, user: UserLike = None) -> str | None:
        """Refuse a password too close to one of the user's attributes."""
        if user is None:
            return None
        lowered = password.lower()
        for name in self.attributes:
            value = _attribute(user, name)
            if value is None:
                continue
            value = value.lower()
            for part in {value, *re.split(r"\W+", value)}:
                if len(part) < 3:
                    continue
                matcher = difflib.SequenceMatcher(a=lowered, b=part)
                if matcher.quick_ratio() >= self.max_similarity and (
                    matcher.ratio() >= self.max_similarity
                ):
                    label = name.replace("_", " ")
                    return f"The password is too similar to the {label}."
        return None


DEFAULT_VALIDATORS: tuple[PasswordValidator, ...] = (
    UserAttributeSimilarity(),
    MinimumLength(),
    CommonPassword(),
    NumericPassword(),
)
"""The rules applied when none are given."""


def validate_password(
    password: str,
    user: UserLike = None,
    validators: Sequence[PasswordValidator] = DEFAULT_VALIDATORS,
) -> None:
    """Check `password` against every validator; raise with all the messages if any fails.

    Args:
        password: the raw password.
        user: the user (object or mapping of attributes like `{"email": ...}`), for
            the similarity rule.
        validators: the rules to apply.

    Raises:
        PasswordValidationError: one or more rules are broken; `messages` lists them.
    """
    messages = [
        message for validator in validators if (message := validator.validate(password, user))
    ]
    if messages:
        raise PasswordValidationError(messages)


def password_help_texts(validators: Sequence[PasswordValidator] = DEFAULT_VALIDATORS) -> list[str]:
    """Return the rules of `validators` as sentences to show next to a password field."""
    return [validator.help_text for validator in validators]
