"""The measured scenarios: what wrk requests, and from which suite of apps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
WRK_DIR = BENCH_DIR / "wrk"

BASIC = "basic"
DB = "db"
FULL = "fullstack"  # sessions, auth and CSRF installed; logged in for two of its scenarios
SUITES = (BASIC, DB, FULL)


@dataclass(frozen=True)
class Scenario:
    """One endpoint under load."""

    name: str
    suite: str
    path: str
    lua: Path | None = None
    description: str = ""
    logged_in: bool = False  # wrk sends the session cookie the harness got by logging in


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("plaintext", BASIC, "/plaintext", description='GET /plaintext, "Hello, World!"'),
    Scenario("json", BASIC, "/json", description='GET /json, {"message": "Hello, World!"}'),
    Scenario(
        "items_get",
        BASIC,
        "/items/42?q=hello&limit=5",
        description="GET /items/{id}?q=&limit=, typed and validated path and query",
    ),
    Scenario(
        "items_post",
        BASIC,
        "/items",
        lua=WRK_DIR / "post_item.lua",
        description="POST /items, validated JSON model echoed back",
    ),
    Scenario("db", DB, "/db", description="one random World row"),
    Scenario(
        "queries", DB, "/queries?queries=20", description="20 random World rows, one query each"
    ),
    Scenario(
        "fortunes", DB, "/fortunes", description="all Fortune rows + one, sorted, escaped HTML"
    ),
    Scenario("updates", DB, "/updates?queries=20", description="20 rows read and updated"),
    Scenario(
        "anon_batteries",
        FULL,
        "/json",
        description="GET /json, anonymous, on an app with sessions, auth and CSRF installed",
    ),
    Scenario(
        "session_json",
        FULL,
        "/me",
        lua=WRK_DIR / "session_json.lua",
        description="GET /me, logged in: the session from Redis, the user's email from PostgreSQL",
        logged_in=True,
    ),
    Scenario(
        "form_post",
        FULL,
        "/notes/new",
        lua=WRK_DIR / "form_post.lua",
        description="POST /notes/new, logged in: an HTML form with its CSRF token, "
        "validated, one row inserted, 303",
        logged_in=True,
    ),
)
SCENARIO_NAMES = tuple(scenario.name for scenario in SCENARIOS)


def select_scenarios(names: list[str] | None, suites: list[str] | None = None) -> list[Scenario]:
    """Return the scenarios named and in the suites (all if None), in canonical order.

    Raises:
        ValueError: an unknown scenario or suite name.
    """
    unknown = sorted(set(names or []) - set(SCENARIO_NAMES))
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}; choose from {list(SCENARIO_NAMES)}")
    unknown = sorted(set(suites or []) - set(SUITES))
    if unknown:
        raise ValueError(f"unknown suite(s) {unknown}; choose from {list(SUITES)}")
    return [
        scenario
        for scenario in SCENARIOS
        if (not names or scenario.name in names) and (not suites or scenario.suite in suites)
    ]
