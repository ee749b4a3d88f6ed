"""Fail fast, with a clear message, when a service the tests need is unreachable."""

from __future__ import annotations

import os
import sys

import psycopg
import redis


def main() -> int:
    failures = []
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        try:
            with psycopg.connect(database_url, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
        except Exception as exc:
            failures.append(f"PostgreSQL at {database_url}: {exc}")
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        try:
            redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
        except Exception as exc:
            failures.append(f"Redis at {redis_url}: {exc}")
    for failure in failures:
        print(f"required service unreachable: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
