"""Import throughput: a generated 100,000-customer / 500,000-loan set into PostgreSQL.

Generates the files (cached in var/bench-import/, same seed same files), creates a
throwaway database, and runs `lendgraph import customers|loans|transactions` as separate
processes, printing rows per second and each importer's peak memory (max RSS).

    .venv/bin/python bench/import.py                       # 100k customers, 500k loans
    BENCH_CUSTOMERS=20000 BENCH_LOANS=100000 .venv/bin/python bench/import.py
    BENCH_ADMIN_URL=postgresql+psycopg2://postgres@127.0.0.1:5432/postgres  (default)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.migrations import migrate
from bench.common import throwaway_database
from integrations.sample_files import generate_sample


def _files(customers: int, loans: int, transactions: int) -> Path:
    folder = Path("var/bench-import") / f"{customers}-{loans}-{transactions}"
    if not (folder / "transactions.csv").is_file():
        started = time.perf_counter()
        generate_sample(folder, customers=customers, loans=loans, transactions=transactions)
        print(f"generated files in {time.perf_counter() - started:.1f} s ({folder})")
    return folder


def _timed_import(kind: str, path: Path, url: str) -> tuple[float, int, str]:
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": "", "COLUMNS": "100"}
    env.pop("REDIS_URL")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "import", kind, str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    output = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"import {kind} failed:\n{output}")
    summary = next((line for line in output.splitlines() if line.startswith("summary:")), "")
    return elapsed, usage.ru_maxrss // 1024, summary


def main() -> None:
    customers = int(os.environ.get("BENCH_CUSTOMERS", "100000"))
    loans = int(os.environ.get("BENCH_LOANS", "500000"))
    transactions = int(os.environ.get("BENCH_TRANSACTIONS", "200000"))
    folder = _files(customers, loans, transactions)
    with throwaway_database() as url:
        migrate(url)
        rows = {"customers": customers, "loans": loans, "transactions": transactions}
        for kind, file in (
            ("customers", "customer_data.xlsx"),
            ("loans", "loan_data.xlsx"),
            ("transactions", "transactions.csv"),
        ):
            elapsed, peak_mb, summary = _timed_import(kind, folder / file, url)
            print(
                f"{kind:<13} {rows[kind]:>9,} rows  {elapsed:7.1f} s  "
                f"{rows[kind] / elapsed:>9,.0f} rows/s  peak {peak_mb:>4} MiB  [{summary}]"
            )


if __name__ == "__main__":
    main()
