"""Create and seed the TechEmpower tables ``world`` and ``fortune`` in PostgreSQL.

Idempotent: tables are created if missing, ``world`` is (re)seeded only when it does
not hold exactly ids 1..10000, and ``fortune`` only when its rows differ from the
published twelve. Connection settings come from the BENCH_PG_* environment variables
(defaults: postgres@127.0.0.1:5432/test, trust auth).

The full-stack suite keeps its tables out of the ``public`` schema (where the test suite
creates and drops trivium's models when it shares the database): ``setup_fullstack()``
creates the schema ``bench_fullstack`` with ``app_user`` (the benchmark user, with an
Argon2id hash) read by the Flask, FastAPI and raw RSGI apps and one notes table for each
of them, and the empty schemas ``bench_trivium`` and ``bench_django``, where trivium and
Django create their own tables and user (``python full.py setup`` in their app
directories; each app sets its connection's ``search_path``).

    python bench/setup_db.py
"""

from __future__ import annotations

import os
import random
import sys

import psycopg

WORLD_ROWS = 10_000

# The twelve fortunes of the TechEmpower benchmark, in id order.
FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal points, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
]


def conninfo() -> str:
    """Return the libpq connection string from BENCH_PG_* variables."""
    env = os.environ.get
    return (
        f"host={env('BENCH_PG_HOST', '127.0.0.1')} port={env('BENCH_PG_PORT', '5432')} "
        f"user={env('BENCH_PG_USER', 'postgres')} dbname={env('BENCH_PG_DATABASE', 'test')}"
    )


def seed_world(cur: psycopg.Cursor) -> bool:
    cur.execute("SELECT count(*), min(id), max(id) FROM world")
    if cur.fetchone() == (WORLD_ROWS, 1, WORLD_ROWS):
        return False
    cur.execute("TRUNCATE world")
    rows = [(i, random.randint(1, 10_000)) for i in range(1, WORLD_ROWS + 1)]
    with cur.copy("COPY world (id, randomnumber) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return True


def seed_fortune(cur: psycopg.Cursor) -> bool:
    cur.execute("SELECT id, message FROM fortune ORDER BY id")
    expected = list(enumerate(FORTUNES, start=1))
    if cur.fetchall() == expected:
        return False
    cur.execute("TRUNCATE fortune")
    cur.executemany("INSERT INTO fortune (id, message) VALUES (%s, %s)", expected)
    return True


def setup(info: str | None = None) -> list[str]:
    """Create and seed the tables; return the names of the tables (re)seeded."""
    seeded = []
    with psycopg.connect(info or conninfo(), connect_timeout=5) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS world ("
            " id integer PRIMARY KEY, randomnumber integer NOT NULL DEFAULT 0)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS fortune ("
            " id integer PRIMARY KEY, message varchar(2048) NOT NULL)"
        )
        if seed_world(cur):
            seeded.append("world")
        if seed_fortune(cur):
            seeded.append("fortune")
        conn.commit()
        if seeded:
            conn.autocommit = True
            cur.execute("ANALYZE world")
            cur.execute("ANALYZE fortune")
    return seeded


FULLSTACK_SCHEMA = "bench_fullstack"
FULLSTACK_NOTES = ("flask_note", "fastapi_note", "raw_note")


def setup_fullstack(email: str, password: str, info: str | None = None) -> bool:
    """Create the full-stack suite's shared tables; return whether the user was created."""
    from argon2 import PasswordHasher

    with psycopg.connect(info or conninfo(), connect_timeout=5) as conn, conn.cursor() as cur:
        for schema in (FULLSTACK_SCHEMA, "bench_trivium", "bench_django"):
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        cur.execute(f"SET search_path TO {FULLSTACK_SCHEMA}")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS app_user ("
            " id serial PRIMARY KEY, email varchar(254) NOT NULL UNIQUE,"
            " password_hash varchar(200) NOT NULL, is_active boolean NOT NULL DEFAULT true)"
        )
        for table in FULLSTACK_NOTES:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                " id serial PRIMARY KEY, user_id integer NOT NULL REFERENCES app_user (id),"
                " title varchar(200) NOT NULL, body text NOT NULL, priority integer NOT NULL,"
                " created_at timestamptz NOT NULL DEFAULT now())"
            )
        cur.execute("SELECT 1 FROM app_user WHERE email = %s", [email])
        created = cur.fetchone() is None
        if created:
            cur.execute(
                "INSERT INTO app_user (email, password_hash) VALUES (%s, %s)",
                [email, PasswordHasher().hash(password)],
            )
        conn.commit()
    return created


def main() -> int:
    try:
        seeded = setup()
    except psycopg.Error as exc:
        print(f"setup_db: cannot prepare PostgreSQL ({conninfo()}): {exc}", file=sys.stderr)
        return 1
    print(f"setup_db: seeded {', '.join(seeded)}" if seeded else "setup_db: tables already seeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
