"""Summaries, same-round ratios and the target checklist, computed from raw results.

``results["targets"][key]["runs"][scenario]`` holds one dict per measured round
(``round``, ``rps``, ``p99_ms``, ...). A ratio between two apps is the median of
their per-round ratios, so both numbers of each pair come from the same round.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from harness.scenarios import FULL

SUBJECT_KEY = "trivium@granian-rsgi"
RAW_RSGI = "raw_rsgi@granian-rsgi"
RAW_RSGI_KEY = f"{RAW_RSGI}/basic"
FASTAPI_UVICORN = "fastapi@uvicorn"
FLASK_GUNICORN_KEY = "flask@gunicorn/basic"
BASIC_FLOORS = {"plaintext": 0.9, "json": 0.9, "items_get": 0.7, "items_post": 0.7}
PEERS = ("fastapi", "starlette", "litestar", "blacksheep", "flask", "django")


@dataclass
class Summary:
    rps: float
    rps_min: float
    rps_max: float
    p99_ms: float
    rounds: int
    errors: int


def summarize(runs: list[dict[str, float]]) -> Summary | None:
    if not runs:
        return None
    rps = [run["rps"] for run in runs]
    return Summary(
        rps=statistics.median(rps),
        rps_min=min(rps),
        rps_max=max(rps),
        p99_ms=statistics.median(run["p99_ms"] for run in runs),
        rounds=len(runs),
        errors=int(sum(run_errors(run) for run in runs)),
    )


def run_errors(run: dict) -> int:
    """Return a run's wrong answers: non-2xx/3xx, or any a wrk script rejected, and socket errors.

    A scenario's script counts every answer it rejects (a 401 included), so the larger
    of its count and wrk's non-2xx/3xx count is the number of wrong answers.
    """
    return int(max(run["non_2xx"], run.get("unexpected", 0)) + run["socket_errors"])


def runs_of(results: dict, key: str, scenario: str) -> list[dict[str, float]]:
    target = results["targets"].get(key)
    return target["runs"].get(scenario, []) if target else []


def ratio(
    results: dict, key: str, ref_key: str, scenario: str, ref_scenario: str | None = None
) -> float | None:
    """Return the median over rounds of rps(key) / rps(ref_key), same round only.

    ``ref_scenario`` compares with another scenario of the reference (default: the same).
    """
    ref_runs = runs_of(results, ref_key, ref_scenario or scenario)
    ref = {run["round"]: run["rps"] for run in ref_runs}
    pairs = [
        run["rps"] / ref[run["round"]]
        for run in runs_of(results, key, scenario)
        if ref.get(run["round"])
    ]
    return statistics.median(pairs) if pairs else None


def raw_key(suite: str) -> str:
    """Return the raw RSGI baseline's key for a suite (none exists for the DB suite)."""
    return f"{RAW_RSGI}/{suite}"


def memory_summary(target: dict) -> tuple[float, float, float, float] | None:
    """Return worker RSS median, min, max and tree RSS median, in MiB."""
    samples = target.get("memory") or []
    if not samples:
        return None
    worker = [sample["worker_kib"] / 1024 for sample in samples]
    total = [sample["total_kib"] / 1024 for sample in samples]
    return statistics.median(worker), min(worker), max(worker), statistics.median(total)


def suite_key(name: str, scenario: str, suites: dict[str, str]) -> str:
    return f"{name}/{suites[scenario]}"


def peer_keys(results: dict, suite: str) -> list[str]:
    return [
        key
        for key, target in results["targets"].items()
        if target["framework"] in PEERS and target["suite"] == suite
    ]


# --- the target checklist ---------------------------------------------------------------


@dataclass
class Check:
    goal: str
    met: bool
    detail: str


def _fmt(value: float | None, suffix: str = "×") -> str:
    return "no data" if value is None else f"{value:.2f}{suffix}"


def check_raw_floor(results: dict, subject: str) -> Check:
    parts, met = [], True
    for scenario, floor in BASIC_FLOORS.items():
        value = ratio(results, f"{subject}/basic", RAW_RSGI_KEY, scenario)
        met = met and value is not None and value >= floor
        parts.append(f"{scenario} {_fmt(value)} (≥ {floor})")
    goal = "trivium on Granian RSGI ≥ 0.9× raw RSGI on plaintext and json, ≥ 0.7× on items"
    return Check(goal, met, "; ".join(parts))


def check_fastapi_multiple(results: dict, subject: str, suites: dict[str, str]) -> Check:
    parts, met, seen = [], True, False
    for scenario, suite in suites.items():
        value = ratio(results, f"{subject}/{suite}", f"{FASTAPI_UVICORN}/{suite}", scenario)
        if value is None:
            continue
        seen = True
        met = met and value >= 3.0
        parts.append(f"{scenario} {_fmt(value)}")
    return Check(
        "trivium ≥ 3× FastAPI on uvicorn (every scenario)",
        met and seen,
        "; ".join(parts) or "no data",
    )


def check_ahead_of_peers(results: dict, subject: str, suites: dict[str, str]) -> Check:
    behind, seen = [], False
    for scenario, suite in suites.items():
        for peer in peer_keys(results, suite):
            value = ratio(results, f"{subject}/{suite}", peer, scenario)
            if value is None:
                continue
            seen = True
            if value <= 1.0:
                behind.append(f"{scenario}: {value:.2f}× {peer.split('/')[0]}")
    detail = "behind or level: " + "; ".join(behind) if behind else "ahead in every pair measured"
    return Check(
        "trivium ahead of every peer in every scenario",
        seen and not behind,
        detail if seen else "no data",
    )


def check_p99(results: dict, subject: str, suites: dict[str, str]) -> Check:
    parts, met, seen = [], True, False
    for scenario, suite in suites.items():
        mine = summarize(runs_of(results, f"{subject}/{suite}", scenario))
        peers = [
            (summarize(runs_of(results, key, scenario)), key) for key in peer_keys(results, suite)
        ]
        peers = [(summary, key) for summary, key in peers if summary]
        if mine is None or not peers:
            continue
        seen = True
        fastest, key = max(peers, key=lambda pair: pair[0].rps)
        met = met and mine.p99_ms <= fastest.p99_ms
        parts.append(
            f"{scenario} {mine.p99_ms:.2f} vs {fastest.p99_ms:.2f} ms ({key.split('/')[0]})"
        )
    return Check(
        "trivium p99 no worse than the fastest peer's (every scenario)",
        met and seen,
        "; ".join(parts) or "no data",
    )


def check_rss(results: dict, subject: str) -> Check:
    mine = memory_summary(results["targets"].get(f"{subject}/basic", {}))
    flask = memory_summary(results["targets"].get(FLASK_GUNICORN_KEY, {}))
    goal = "hello-world worker RSS ≤ Flask's on gunicorn"
    if mine is None or flask is None:
        return Check(goal, False, "no data")
    return Check(goal, mine[0] <= flask[0], f"{mine[0]:.1f} MiB vs {flask[0]:.1f} MiB")


def check_import(results: dict) -> Check:
    imports = results.get("imports", {})
    mine = imports.get("trivium", {}).get("median_ms")
    starlette = imports.get("starlette", {}).get("median_ms")
    goal = "`from trivium import App` no slower than `from starlette.applications import Starlette`"
    if mine is None or starlette is None:
        return Check(goal, False, "no data")
    return Check(goal, mine <= starlette, f"{mine:.0f} ms vs {starlette:.0f} ms")


# --- the full-stack targets ---------------------------------------------------------

EIGHT = ("plaintext", "json", "items_get", "items_post", "db", "queries", "fortunes", "updates")
DJANGO_GUNICORN = ("django@gunicorn", "django@gunicorn-sync")
DJANGO_ANY = (*DJANGO_GUNICORN, "django@granian-wsgi")
REGRESSION_TOLERANCE = 0.9  # a ratio below 0.9x the baseline's counts as a regression


def _fastest(results: dict, names: tuple[str, ...], scenario: str) -> str | None:
    """Return the key, among ``names`` in the full-stack suite, with the highest median."""
    measured = []
    for name in names:
        summary = summarize(runs_of(results, f"{name}/{FULL}", scenario))
        if summary is not None:
            measured.append((summary.rps, f"{name}/{FULL}"))
    return max(measured)[1] if measured else None


def check_anon_batteries(results: dict) -> Check:
    value = ratio(
        results, f"{SUBJECT_KEY}/{FULL}", f"{SUBJECT_KEY}/basic", "anon_batteries", "json"
    )
    goal = "anon_batteries ≥ 0.85× trivium's bare json (sessions, auth and CSRF installed)"
    return Check(goal, value is not None and value >= 0.85, _fmt(value))


def check_session_json(results: dict) -> Check:
    mine = f"{SUBJECT_KEY}/{FULL}"
    vs_raw = ratio(results, mine, raw_key(FULL), "session_json")
    django = _fastest(results, DJANGO_GUNICORN, "session_json")
    vs_django = ratio(results, mine, django, "session_json") if django else None
    met = vs_raw is not None and vs_raw >= 0.5 and vs_django is not None and vs_django >= 5
    where = django.split("/")[0] if django else "Django on gunicorn"
    detail = f"{_fmt(vs_raw)} raw RSGI; {_fmt(vs_django)} {where}"
    return Check("session_json ≥ 0.5× raw RSGI and ≥ 5× Django on gunicorn", met, detail)


def check_form_post(results: dict) -> Check:
    django = _fastest(results, DJANGO_ANY, "form_post")
    value = ratio(results, f"{SUBJECT_KEY}/{FULL}", django, "form_post") if django else None
    where = django.split("/")[0] if django else "Django"
    detail = f"{_fmt(value)} {where} (the fastest Django server)"
    return Check("form_post ≥ 3× Django", value is not None and value >= 3, detail)


def eight_ratios(results: dict) -> dict[str, float]:
    """Return trivium's same-round ratio per classic scenario: vs raw RSGI, or FastAPI for DB.

    Ratios, unlike req/s, survive a change of machine or load between two runs.
    """
    ratios = {}
    for scenario in EIGHT:
        suite = "db" if scenario in EIGHT[4:] else "basic"
        ref = RAW_RSGI_KEY if suite == "basic" else f"{FASTAPI_UVICORN}/db"
        value = ratio(results, f"{SUBJECT_KEY}/{suite}", ref, scenario)
        if value is not None:
            ratios[scenario] = value
    return ratios


def check_no_regression(results: dict) -> Check:
    baseline = results["meta"].get("baseline") or {}
    before, now = baseline.get("ratios") or {}, eight_ratios(results)
    goal = "no regression on the eight classic scenarios (ratios vs the previous results.json)"
    pairs = {s: (now[s], before[s]) for s in EIGHT if s in now and s in before}
    if not pairs:
        return Check(goal, False, "no data (run the eight scenarios with a previous results.json)")
    worse = [
        f"{s} {a:.2f}× vs {b:.2f}×" for s, (a, b) in pairs.items() if a < REGRESSION_TOLERANCE * b
    ]
    detail = f"regressed: {'; '.join(worse)}" if worse else f"{len(pairs)} scenarios held"
    detail += f" (baseline {baseline.get('started', '?')})"
    return Check(goal, not worse and len(pairs) == len(EIGHT), detail)


def subject_for_comparisons(results: dict) -> str:
    """Return trivium's target for the peer comparisons: RSGI, else the best one measured.

    Until the app speaks RSGI, the comparisons use Granian ASGI (or uvicorn) so the
    checklist still says something; each such line names the server it used.
    """
    for name in (SUBJECT_KEY, "trivium@granian-asgi", "trivium@uvicorn"):
        if any(target.get("runs") for key, target in results["targets"].items()
               if key.startswith(f"{name}/")):  # fmt: skip
            return name
    return SUBJECT_KEY


def target_checklist(results: dict, suites: dict[str, str]) -> list[Check]:
    """Evaluate every published target against the measured numbers."""
    subject = subject_for_comparisons(results)
    full = [check_anon_batteries(results), check_session_json(results), check_form_post(results)]
    suites = {name: suite for name, suite in suites.items() if suite != FULL}  # the classic eight
    checks = [
        check_fastapi_multiple(results, subject, suites),
        check_ahead_of_peers(results, subject, suites),
        check_p99(results, subject, suites),
        check_rss(results, subject),
    ]
    if subject != SUBJECT_KEY:
        server = subject.split("@")[1]
        for check in checks:
            check.detail = f"measured on {server}, RSGI not measured: {check.detail}"
    classic = [check_raw_floor(results, SUBJECT_KEY), *checks, check_import(results)]
    return [*classic, check_no_regression(results), *full]
