"""Bad `JWTConfig`, `LoginThrottle` and `AuthConfig` values are refused when built, not per request."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from trivium.auth import Auth
from trivium.auth import JWTConfig
from trivium.auth import LoginThrottle
from trivium.db import Database
from trivium.errors import ConfigurationError

pytestmark = pytest.mark.drives_no_app

KEYS = {"k1": "j" * 40}
SECRET = "s" * 48


@pytest.mark.parametrize("name", ["access_ttl", "refresh_ttl"])
def test_a_lifetime_in_bare_seconds_is_refused_with_the_timedelta_to_write(name: str) -> None:
    options: dict[str, Any] = {name: 900}
    with pytest.raises(ConfigurationError, match=r"timedelta\(seconds=900\)") as caught:
        JWTConfig(keys=KEYS, **options)
    assert caught.value.code == "auth-jwt-config"


@pytest.mark.parametrize(
    "value", [datetime.timedelta(0), datetime.timedelta(seconds=-5), "15m", None]
)
def test_a_lifetime_that_is_not_positive_is_refused(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="access_ttl") as caught:
        JWTConfig(keys=KEYS, access_ttl=value)
    assert caught.value.code == "auth-jwt-config"


@pytest.mark.parametrize("leeway", [-1, "5", True])
def test_a_negative_or_non_numeric_leeway_is_refused(leeway: Any) -> None:
    with pytest.raises(ConfigurationError, match="leeway"):
        JWTConfig(keys=KEYS, leeway=leeway)


def test_lifetimes_and_leeway_given_right_are_kept() -> None:
    config = JWTConfig(keys=KEYS, access_ttl=datetime.timedelta(minutes=5), leeway=10)
    assert config.access_ttl == datetime.timedelta(minutes=5)
    assert config.leeway == 10


@pytest.mark.parametrize(
    "limits",
    [
        {"per_identifier": (0, 300)},
        {"per_identifier": (5,)},
        {"per_identifier": (5, 300, 1)},
        {"per_identifier": (5, 0)},
        {"per_identifier": (5.5, 300)},
        {"per_identifier": (True, 300)},
        {"per_ip": (20, "300")},
        {"per_ip": (20, float("inf"))},
        {"per_ip": 20},
    ],
)
def test_login_throttle_limits_are_checked_when_built(limits: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="LoginThrottle") as caught:
        LoginThrottle(**limits)
    assert caught.value.code == "auth-login-throttle"


def test_login_throttle_takes_a_list_from_settings_as_a_pair() -> None:
    from_settings: Any = [3, 60]  # a JSON or TOML list
    limits = LoginThrottle(per_identifier=from_settings, per_ip=(10, 0.5))
    assert (limits.per_identifier, limits.per_ip) == ((3, 60), (10, 0.5))


def _auth(**options: Any) -> Auth:
    return Auth(Database("sqlite+aiosqlite:///:memory:"), secret_key=SECRET, **options)


@pytest.mark.parametrize("age", [0, -1, 1.5, "3600", True])
def test_reset_max_age_must_be_a_positive_whole_number_of_seconds(age: Any) -> None:
    with pytest.raises(ConfigurationError, match="reset_max_age") as caught:
        _auth(reset_max_age=age)
    assert caught.value.code == "auth-reset-max-age"


def test_login_throttle_must_be_a_login_throttle() -> None:
    with pytest.raises(ConfigurationError, match="LoginThrottle") as caught:
        _auth(login_throttle=(5, 300))
    assert caught.value.code == "auth-login-throttle"


def test_jwt_must_be_a_jwt_config() -> None:
    with pytest.raises(ConfigurationError, match="JWTConfig") as caught:
        _auth(jwt={"keys": KEYS})
    assert caught.value.code == "auth-jwt-config"
