"""The measured scenarios: what wrk requests, and from which suite of apps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
WRK_DIR = BENCH_DIR / "wrk"

BASIC = "basic"
DB = "db"


@dataclass(frozen=True)
class Scenario:
    """One endpoint under load."""

    name: str
    suite: str
    path: str
    lua: Path | None = None
    description: str = ""


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
)
SCENARIO_NAMES = tuple(scenario.name for scenario in SCENARIOS)


def select_scenarios(names: list[str] | None) -> list[Scenario]:
    """Return the scenarios named (all if None), in canonical order; raise on unknown names."""
    if not names:
        return list(SCENARIOS)
    unknown = sorted(set(names) - set(SCENARIO_NAMES))
    if unknown:
        raise ValueError(f"unknown scenario(s) {unknown}; choose from {list(SCENARIO_NAMES)}")
    return [scenario for scenario in SCENARIOS if scenario.name in names]
