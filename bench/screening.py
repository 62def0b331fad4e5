"""Benchmark: import and screening of a national extract, on SQLite and (with DATABASE_URL) PostgreSQL.

Usage (from the repository root, inside the virtual environment):
    python bench/screening.py [--people 250000] [--seed 7] [--database sqlite|postgres|both]

It generates a synthetic national extract (all 12 regions) once into bench/out/, then for each database
starts from an empty, migrated database and runs, each in its own process so that peak memory is per phase:
import_extract, a second import of the same extract (which must change nothing), and run_screening.
It prints wall time, people per second and peak resident memory (max RSS) for each phase.
Targets on a 2-core machine: import and screening of 250,000 people each well inside 60 s; peak memory < 2 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/complexcases_bench"


def run_phase(label: str, args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Run one manage.py command in a child process; return (seconds, peak RSS in bytes)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [PY, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    output = proc.stdout.read().decode() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        print(output)
        raise SystemExit(f"{label} failed")
    return elapsed, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def fresh_database(kind: str, env: dict[str, str]) -> dict[str, str]:
    env = dict(env)
    if kind == "sqlite":
        db = ROOT / "bench" / "out" / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{db}"
    else:
        url = os.environ.get("DATABASE_URL", "")
        env["DATABASE_URL"] = url if url.startswith("postgres") else PG_DEFAULT
        name = env["DATABASE_URL"].rsplit("/", 1)[1]
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=True
        )
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=250_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    options = parser.parse_args()

    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings.dev", LOG_LEVEL="WARNING")
    extract_date = dt.date(2026, 11, 1)
    out = ROOT / "bench" / "out" / f"extract-{options.people}-{options.seed}"
    if not (out / "manifest.json").exists():
        seconds, rss = run_phase(
            "generate",
            [
                "generate_extract",
                str(out),
                "--people",
                str(options.people),
                "--seed",
                str(options.seed),
                "--extract-date",
                extract_date.isoformat(),
            ],
            env,
        )
        print(
            f"generate_extract: {options.people:,} people in {seconds:.1f} s (peak {rss / 2**20:.0f} MiB)"
        )
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"extract: {out} ({size / 2**20:.0f} MiB)")

    kinds = ["sqlite", "postgres"] if options.database == "both" else [options.database]
    print(f"\n{'database':<10} {'phase':<22} {'seconds':>8} {'people/s':>10} {'peak MiB':>9}")
    for kind in kinds:
        db_env = fresh_database(kind, env)
        phases = [
            ("import", ["import_extract", str(out), "--actor", "bench"]),
            ("re-import (no changes)", ["import_extract", str(out), "--actor", "bench"]),
            ("screening", ["run_screening", "--as-of", extract_date.isoformat()]),
        ]
        for label, args in phases:
            seconds, rss = run_phase(label, args, db_env)
            rate = options.people / seconds
            print(f"{kind:<10} {label:<22} {seconds:>8.1f} {rate:>10,.0f} {rss / 2**20:>9.0f}")


if __name__ == "__main__":
    main()
