"""Password rules: length, common passwords, similarity to the user, all-digit passwords."""

from __future__ import annotations

import pytest

from trivium.auth import DEFAULT_VALIDATORS
from trivium.auth import CommonPassword
from trivium.auth import MinimumLength
from trivium.auth import NumericPassword
from trivium.auth import PasswordValidationError
from trivium.auth import User
from trivium.auth import UserAttributeSimilarity
from trivium.auth import password_help_texts
from trivium.auth import validate_password

pytestmark = pytest.mark.drives_no_app


def test_a_good_password_passes_every_default_rule() -> None:
    validate_password("Tr0mbone-under-the-lighthouse", {"username": "ada"})
    validate_password("Tr0mbone-under-the-lighthouse")


def test_every_broken_rule_is_reported_at_once() -> None:
    with pytest.raises(PasswordValidationError) as info:
        validate_password("123456")
    assert info.value.messages == [
        "This password is too short. It must contain at least 10 characters.",
        "This password is too common.",
        "This password is entirely numeric.",
    ]
    assert str(info.value).startswith("This password is too short.")
    assert isinstance(info.value, ValueError)


def test_minimum_length_is_configurable() -> None:
    assert MinimumLength(4).validate("abcd") is None
    assert MinimumLength(5).validate("abcd") == (
        "This password is too short. It must contain at least 5 characters."
    )
    assert MinimumLength().min_length == 10


@pytest.mark.parametrize("password", ["password", "PASSWORD", "qwerty", "iloveyou", "dragon"])
def test_common_passwords_from_the_shipped_list_are_refused(password: str) -> None:
    assert CommonPassword().validate(password) == "This password is too common."


def test_shipped_list_has_thousands_of_entries_and_accepts_rare_ones() -> None:
    rule = CommonPassword()
    assert rule.validate("glacier-teapot-71-vortex") is None
    assert rule.validate("letmein") is not None
    assert rule.validate("trustno1") is not None


def test_common_password_list_can_be_replaced() -> None:
    rule = CommonPassword(["Hunter2"])
    assert rule.validate("hunter2") == "This password is too common."
    assert rule.validate("password") is None


def test_numeric_passwords_are_refused() -> None:
    assert NumericPassword().validate("12345678901234") == "This password is entirely numeric."
    assert NumericPassword().validate("1234567890a") is None


@pytest.mark.parametrize(
    ("user", "password", "attribute"),
    [
        ({"username": "marguerite"}, "Marguerite", "username"),
        ({"username": "marguerite"}, "marguerite1", "username"),
        ({"email": "tolkien.fan@example.com"}, "tolkien.fan", "email"),
        ({"email": "shadowfax@example.com"}, "Shadowfax!", "email"),
        (User(username="gandalf_grey", email="g@middle.earth"), "gandalf_grey", "username"),
    ],
)
def test_passwords_close_to_user_attributes_are_refused(
    user: object, password: str, attribute: str
) -> None:
    message = UserAttributeSimilarity().validate(password, user)
    assert message == f"The password is too similar to the {attribute}."


def test_similarity_ignores_missing_short_and_unrelated_attributes() -> None:
    rule = UserAttributeSimilarity(attributes=("username", "email", "first_name"))
    assert rule.validate("unrelated-long-passphrase", {"username": "ada", "email": None}) is None
    assert rule.validate("anything at all", None) is None
    assert rule.validate("ab", {"username": "ab"}) is None
    assert (
        UserAttributeSimilarity(attributes=("first_name",)).validate(
            "Bartholomew", {"first_name": "bartholomew"}
        )
        == "The password is too similar to the first name."
    )


def test_similarity_threshold_is_checked() -> None:
    with pytest.raises(ValueError, match="max_similarity"):
        UserAttributeSimilarity(max_similarity=0.0)
    lenient = UserAttributeSimilarity(max_similarity=1.0)
    assert lenient.validate("marguerite1", {"username": "marguerite"}) is None
    assert lenient.validate("marguerite", {"username": "marguerite"}) is not None


def test_custom_validators_and_help_texts() -> None:
    class NoSpaces:
        help_text = "Your password can't contain spaces."

        def validate(self, password: str, user: object = None) -> str | None:
            return "This password contains spaces." if " " in password else None

    with pytest.raises(PasswordValidationError) as info:
        validate_password("a b", validators=[NoSpaces(), MinimumLength(2)])
    assert info.value.messages == ["This password contains spaces."]
    assert password_help_texts([NoSpaces()]) == ["Your password can't contain spaces."]
    assert password_help_texts() == [
        "Your password can't be too similar to your other personal information.",
        "Your password must contain at least 10 characters.",
        "Your password can't be a commonly used password.",
        "Your password can't be entirely numeric.",
    ]
    assert len(DEFAULT_VALIDATORS) == 4
