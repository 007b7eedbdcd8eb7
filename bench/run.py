"""Run the trivium benchmark: correctness checks, then interleaved wrk rounds.

    python bench/run.py --smoke                  # start every app, check every endpoint
    python bench/run.py                          # full run, writes bench/RESULTS.md
    python bench/run.py --duration 2 --warmup 1 --rounds 1 --apps trivium,raw_rsgi
    python bench/run.py --suite fullstack        # only the full-stack scenarios

See bench/README.md for the methodology.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import json
import shlex
import sys
import time
from pathlib import Path

from harness import analysis
from harness import checks
from harness import fullstack
from harness import load
from harness import machine
from harness import report
from harness import server
from harness.scenarios import BASIC
from harness.scenarios import DB
from harness.scenarios import FULL
from harness.scenarios import SCENARIO_NAMES
from harness.scenarios import SUITES
from harness.scenarios import select_scenarios
from harness.targets import FRAMEWORK_BY_NAME
from harness.targets import FRAMEWORKS
from harness.targets import Target
from harness.targets import select_targets

BENCH_DIR = Path(__file__).resolve().parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="check every app answers; no timing")
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per scenario")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds (>= 3 to publish)"
    )
    parser.add_argument("--connections", type=int, default=load.CONNECTIONS)
    parser.add_argument("--apps", help="comma-separated frameworks or framework@server names")
    parser.add_argument("--scenarios", help=f"comma-separated, from {','.join(SCENARIO_NAMES)}")
    parser.add_argument("--suite", help=f"comma-separated suites, from {','.join(SUITES)}")
    parser.add_argument("--server-cpu", default="0", help="CPU the server is pinned to")
    parser.add_argument("--client-cpu", default="1", help="CPU wrk is pinned to")
    parser.add_argument("--import-runs", type=int, default=7, help="runs per import timing")
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument("--json", type=Path, default=BENCH_DIR / "results.json")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="results.json the no-regression target compares with (default: --json's old file)",
    )
    parser.add_argument("--strict", action="store_true", help="a skipped app is a failure")
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 0 or args.rounds < 1 or args.connections < 1:
        parser.error("--duration and --rounds must be >= 1, --warmup >= 0")
    return args


def split(value: str | None) -> list[str] | None:
    return [item.strip() for item in value.split(",") if item.strip()] if value else None


def log(message: str) -> None:
    print(message, flush=True)


def preflight_all(targets: list[Target]) -> dict[str, str]:
    """Import each app module once; return skip reasons by target key."""
    cache: dict[tuple[str, str, bool], str | None] = {}
    skipped = {}
    for target in targets:
        needs_rsgi = target.server == "granian-rsgi" and target.framework.rsgi_attr
        cache_key = (target.framework.name, target.module, needs_rsgi)
        if cache_key not in cache:
            cache[cache_key] = server.preflight(target)
        if cache[cache_key]:
            skipped[target.key] = cache[cache_key]
    return skipped


def prepare_db(targets: list[Target]) -> str | None:
    """Create and seed the tables when a DB app is selected; return an error, if any."""
    if not any(target.suite == DB for target in targets):
        return None
    import psycopg
    import setup_db

    try:
        seeded = setup_db.setup()
    except psycopg.Error as exc:
        return f"PostgreSQL is not ready ({setup_db.conninfo()}): {exc}".strip()
    log(f"database: seeded {', '.join(seeded)}" if seeded else "database: tables ready")
    return None


def prepare_fullstack(targets: list[Target], skipped: dict[str, str]) -> dict[str, str]:
    """Check Redis, create the full-stack tables and user; return errors by framework."""
    names = {t.framework.name for t in targets if t.suite == FULL and t.key not in skipped}
    if not names:
        return {}
    error = fullstack.prepare_shared()
    if error:
        return dict.fromkeys(names, error)
    errors = {}
    for name in sorted(names):
        if fullstack.STACKS[name].own_setup:
            error = server.run_setup(name)
            if error:
                errors[name] = error
    log("full-stack: Redis answers, tables and user ready")
    return errors


def prepare(targets: list[Target]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Return (skip reasons, failures) by target key, before any server starts."""
    skipped = preflight_all(targets)
    failures: dict[str, list[str]] = {target.key: [] for target in targets}
    db_error = prepare_db(targets)
    full_errors = prepare_fullstack(targets, skipped)
    for target in targets:
        if db_error and target.suite == DB and target.key not in skipped:
            failures[target.key].append(db_error)
        if target.suite == FULL and target.framework.name in full_errors:
            failures[target.key].append(full_errors[target.framework.name])
    for key, reason in skipped.items():
        log(f"SKIP {key}: {reason}")
    return skipped, failures


def smoke(targets: list[Target], args: argparse.Namespace) -> int:
    skipped, failures = prepare(targets)
    log_dir = server.make_log_dir()
    passed = 0
    for target in targets:
        if target.key in skipped or failures[target.key]:
            continue
        started = time.monotonic()
        try:
            running = server.start(target, args.server_cpu, log_dir)
        except server.ServerError as exc:
            failures[target.key].append(f"server: {exc}")
        else:
            try:
                failures[target.key] += check_target(target, running.base_url)[0]
            finally:
                running.stop()
            if failures[target.key]:
                failures[target.key].append(f"server log, last lines:\n{running.log_tail()}")
        if failures[target.key]:
            log(f"FAIL {target.key}")
        else:
            passed += 1
            log(f"PASS {target.key} ({time.monotonic() - started:.1f} s)")
    return finish(passed, skipped, failures, args.strict)


def finish(passed: int, skipped: dict, failures: dict[str, list[str]], strict: bool) -> int:
    failed = {key: errors for key, errors in failures.items() if errors}
    for key, errors in failed.items():
        log(f"\n{key} failed:")
        for error in errors:
            log("  " + error.replace("\n", "\n    "))
    log(f"\n{passed} passed, {len(failed)} failed, {len(skipped)} skipped")
    return 1 if failed or (strict and skipped) else 0


def check_target(target: Target, base_url: str) -> tuple[list[str], dict[str, str]]:
    """Run a target's checks; return the failures and the environment for wrk's scripts."""
    if target.suite != FULL:
        return checks.run_checks(target.suite, base_url), {}
    errors, credentials = fullstack.run_checks(target.framework.name, base_url)
    return errors, credentials.env() if credentials else {}


def measure_scenario(target: Target, scenario, url: str, env: dict, args) -> dict:
    """Warm one scenario up, measure it, and check the rows a posting scenario inserted."""
    env = env if scenario.logged_in else {}
    conns = args.connections
    if args.warmup:
        load.run_wrk(url, scenario, args.warmup, args.client_cpu, conns, env)
    posting = scenario.name == "form_post"
    table = fullstack.STACKS[target.framework.name].notes_table if posting else ""
    before = fullstack.settled_rows(table) if posting else None
    result = load.run_wrk(url, scenario, args.duration, args.client_cpu, conns, env)
    run = result.to_dict()
    if before is not None:
        run["rows_inserted"] = fullstack.settled_rows(table) - before
    return run


def measure_target(target: Target, scenarios, args, record: dict, round_no: int) -> None:
    """Start one app, check it, measure its scenarios, read its memory, stop it."""
    try:
        running = server.start(target, args.server_cpu, args.log_dir)
    except server.ServerError as exc:
        record["failures"].append(f"round {round_no}: server: {exc}")
        return
    try:
        errors, env = check_target(target, running.base_url)
        if errors:
            record["failures"] += [f"round {round_no}: {error}" for error in errors]
            return
        for scenario in scenarios:
            run = measure_scenario(target, scenario, running.base_url, env, args)
            record["runs"].setdefault(scenario.name, []).append({"round": round_no, **run})
            rows = run.get("rows_inserted")
            # Answered requests all inserted; at most one per connection was still in
            # flight when wrk stopped, and a request wrk gave up on may still have landed.
            in_flight = args.connections + run["socket_errors"]
            if rows is not None and not run["requests"] <= rows <= run["requests"] + in_flight:
                record["failures"].append(
                    f"round {round_no}: {scenario.name}: wrk counted {run['requests']} "
                    f"answers, the table gained {rows} rows"
                )
            log(
                f"  {target.key:32} {scenario.name:14} {run['rps']:>10,.0f} req/s"
                f"  p99 {run['p99_ms']:7.2f} ms"
                + (f"  unexpected {run['unexpected']}" if run["unexpected"] else "")
            )
        worker, total = server.memory(running.proc.pid)
        record["memory"].append({"round": round_no, "worker_kib": worker, "total_kib": total})
    except load.LoadError as exc:
        record["failures"].append(f"round {round_no}: wrk: {exc}")
    finally:
        running.stop()


def load_baseline(path: Path) -> dict | None:
    """Return the classic eight's ratios of a previous run (or the baseline it carried)."""
    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    ratios = analysis.eight_ratios(previous)
    if not ratios:  # a run of other scenarios only: keep the baseline it compared with
        return previous.get("meta", {}).get("baseline")
    return {"file": str(path), "started": previous["meta"]["started"], "ratios": ratios}


def full(targets: list[Target], scenarios, args: argparse.Namespace) -> int:
    wrk = load.wrk_version()  # fails early, with the install hint, if wrk is missing
    baseline = load_baseline(args.baseline or args.json)
    started_at, started = datetime.datetime.now(datetime.UTC), time.monotonic()
    # The peers are installed with their bytecode; trivium runs from the source tree, so it
    # is compiled here: with PYTHONDONTWRITEBYTECODE set, each worker would compile it again.
    compileall.compile_dir(server.REPO_DIR / "src" / "trivium", quiet=1)
    skipped, failures = prepare(targets)
    records = {
        target.key: {
            "label": target.framework.label,
            "framework": target.framework.name,
            "server": target.server,
            "suite": target.suite,
            "skipped": skipped.get(target.key),
            "failures": failures[target.key],
            "runs": {},
            "memory": [],
        }
        for target in targets
    }
    runnable = [t for t in targets if t.key not in skipped and not failures[t.key]]
    args.log_dir = server.make_log_dir()  # server logs, shown when one fails
    for round_no in range(1, args.rounds + 1):
        shift = (round_no - 1) % max(len(runnable), 1)  # rotate the order: no fixed position
        log(f"round {round_no}/{args.rounds}")
        for target in runnable[shift:] + runnable[:shift]:
            mine = [s for s in scenarios if s.suite == target.suite]
            measure_target(target, mine, args, records[target.key], round_no)
    # trivium and Starlette are always timed: the import-time target compares them.
    frameworks = {t.framework.name for t in targets} | {"trivium", "starlette"}
    log("timing imports")
    imports = machine.time_imports(
        [fw for fw in FRAMEWORKS if fw.name in frameworks], args.import_runs, args.server_cpu
    )
    results = {
        "meta": {
            "started": started_at.isoformat(timespec="seconds"),
            "elapsed_s": time.monotonic() - started,
            "command": shlex.join(["python", "bench/run.py", *sys.argv[1:]]),
            "machine": machine.describe(wrk),
            "settings": {
                "duration": args.duration,
                "warmup": args.warmup,
                "rounds": args.rounds,
                "connections": args.connections,
                "server_cpu": args.server_cpu,
                "client_cpu": args.client_cpu,
                "scenarios": [s.name for s in scenarios],
            },
            "baseline": baseline,
        },
        "targets": records,
        "imports": imports,
    }
    args.json.write_text(json.dumps(results, indent=1) + "\n")
    args.output.write_text(report.render(results))
    log(f"wrote {args.output} and {args.json}")
    passed = sum(1 for key in records if records[key]["runs"] and not records[key]["failures"])
    return finish(passed, skipped, {k: r["failures"] for k, r in records.items()}, args.strict)


def with_reference(targets: list[Target], scenarios: list) -> tuple[list[Target], list]:
    """Add trivium's bare ``json`` on Granian RSGI when ``anon_batteries`` is measured there.

    The anon_batteries target compares with that figure from the same round, so a run of
    the full-stack suite alone measures it too (only ``json``, only that target).
    """
    measured = {scenario.name for scenario in scenarios}
    subject = [t for t in targets if t.name == analysis.SUBJECT_KEY and t.suite == FULL]
    if "anon_batteries" not in measured or not subject:
        return targets, scenarios
    if "json" not in measured:
        scenarios = select_scenarios([*measured, "json"])
    reference = Target(FRAMEWORK_BY_NAME["trivium"], "granian-rsgi", BASIC)
    if all(target.key != reference.key for target in targets):
        targets = [reference, *targets]
    return targets, scenarios


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        scenarios = select_scenarios(split(args.scenarios), split(args.suite))
        targets = select_targets(split(args.apps), {scenario.suite for scenario in scenarios})
        if not args.smoke:
            targets, scenarios = with_reference(targets, scenarios)
    except ValueError as exc:
        log(f"run.py: {exc}")
        return 2
    if not targets:
        log("run.py: no app matches --apps and --scenarios")
        return 2
    try:
        return smoke(targets, args) if args.smoke else full(targets, scenarios, args)
    except load.LoadError as exc:
        log(f"run.py: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
