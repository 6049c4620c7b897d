"""One business day's close of business over N loans on PostgreSQL, by W worker processes.

Generates N active loans across products in a throwaway database (60 % credit-card loans,
20 % weekly flat loans with 50 installments, 20 % monthly EMI loans with 12; set-based SQL,
so seeding takes seconds), starts W `lendgraph worker` processes on Redis, closes one
business day with `lendgraph billing run`, and prints loans/s, the total time and the
workers' peak memory. Then it times a hand-written set-based statement doing the accrual
part alone for the same loans, and prints the ratio. Figures, not assertions.

    make bench-billing                      # or: .venv/bin/python bench/billing.py
    BENCH_LOANS=20000 BENCH_WORKERS=4 .venv/bin/python bench/billing.py
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.migrations import migrate
from bench.common import throwaway_database

DAY = date(2026, 6, 15)  # the business day closed; loans started before it
SEED = """
INSERT INTO customers (first_name, last_name, age, phone, currency, monthly_income_minor,
  approved_limit_minor, status, national_id_verified, created_at)
VALUES ('Bench', 'Borrower', 40, '+910000000000', 'INR', 10000000, 0, 'ACTIVE', false, now());

INSERT INTO loans (number, customer_id, currency, principal_minor, interest_rate, tenure,
  term_unit, product_id, installment_minor, emis_paid_on_time, start_date, end_date, status,
  origin, created_at, event_sequence, delinquent)
SELECT 1000000 + g, (SELECT min(id) FROM customers), p.currency, 500000 + (g % 97) * 1000,
  p.interest_rate, CASE p.code WHEN 'CREDIT_CARD' THEN 12 WHEN 'WEEKLY_FLAT' THEN 50 ELSE 12 END,
  p.term_unit, p.id, 10000, 0,
  CAST(:start AS date) - (g % 29), CAST(:start AS date) + 400,
  'ACTIVE', 'ORIGINATED', now(), 0, false
FROM generate_series(1, :loans) AS g
JOIN loan_products p ON p.code = CASE WHEN g % 5 < 3 THEN 'CREDIT_CARD'
                                      WHEN g % 5 = 3 THEN 'WEEKLY_FLAT' ELSE 'PERSONAL_EMI' END;

INSERT INTO installments (loan_id, number, due_date, principal_minor, interest_minor,
  paid_principal_minor, paid_interest_minor)
SELECT l.id, n, l.start_date + (CASE l.term_unit WHEN 'WEEK' THEN n * 7 ELSE n * 30 END),
  l.principal_minor / l.tenure, 1000, 0, 0
FROM loans l JOIN loan_products p ON p.id = l.product_id
CROSS JOIN LATERAL generate_series(1, l.tenure) AS n
WHERE p.repayment_style <> 'REVOLVING';
"""
ACCRUE_ALONE = """
INSERT INTO interest_accruals (loan_id, accrued_on, principal_minor, daily_rate_milli,
  amount_nano, run_id)
SELECT l.id, :day, l.principal_minor, (l.interest_rate * 2 + 3650) / 7300,
  l.principal_minor * ((l.interest_rate * 2 + 3650) / 7300) * 10000, NULL
FROM loans l JOIN loan_products p ON p.id = l.product_id
WHERE p.repayment_style = 'REVOLVING' AND l.status = 'ACTIVE' AND l.start_date < :day
ON CONFLICT DO NOTHING
"""


def seed_loans(connection: sa.Connection, loans: int) -> None:
    """SEED: one borrower and `loans` active loans started before DAY."""
    values = {"start": DAY.isoformat(), "loans": loans}
    for statement in SEED.split(";\n\n"):
        wanted = {k: v for k, v in values.items() if f":{k}" in statement}
        connection.execute(sa.text(statement), wanted)


def books_closed_through_the_day_before(connection: sa.Connection) -> None:
    """A bank whose business date is the day after DAY and whose books are closed through
    the day before it: the next close is DAY's."""
    connection.execute(
        sa.text(
            "INSERT INTO business_calendar (id, pinned_date, closed_through, updated_at) "
            "VALUES (1, :d, :closed, now())"
        ),
        {"d": DAY + timedelta(days=1), "closed": DAY - timedelta(days=1)},
    )


def seed_a_day_with_notices(url: str, loans: int) -> None:
    """SEED in a migrated database, with DAY the next day to close, and what makes that close
    send notices: the borrower signs in (user `bench`) and every seventh card loan reaches
    its first billing date on DAY. The loans are the first rows, so their ids are 1..loans
    in any fresh database (and two closes compare row by row)."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        seed_loans(connection, loans)
        connection.execute(
            sa.text(
                "INSERT INTO users (username, password_hash, role, is_active, created_at) "
                "VALUES ('bench', 'x', 'CUSTOMER', true, now())"
            )
        )
        connection.execute(
            sa.text(
                "UPDATE customers SET user_id = (SELECT min(id) FROM users) "
                "WHERE id = (SELECT min(id) FROM customers)"
            )
        )
        connection.execute(
            sa.text("UPDATE loans SET start_date = :s WHERE id % 7 = 0"),
            {"s": DAY - timedelta(days=30)},
        )
        books_closed_through_the_day_before(connection)
    engine.dispose()


# What a close leaves for the loans `seed_a_day_with_notices` made (ids 1..loans, numbers
# 1000001..1000000 + loans), without run ids or timestamps; "bank ledger" is every other
# account (which payments on other loans move too).
CLOSE_RESULTS = {
    "accruals": "SELECT loan_id, accrued_on, principal_minor, daily_rate_milli, amount_nano "
    "FROM interest_accruals WHERE loan_id <= :loans ORDER BY 1, 2",
    "bills": "SELECT loan_id, number, billing_date, due_date, principal_minor, interest_minor, "
    "past_due_minor, minimum_due_minor, balance_minor, paid_minor, final FROM card_bills "
    "WHERE loan_id <= :loans ORDER BY 1, 2",
    "notifications": "SELECT user_id, kind, dedupe_key, title, body, loan_id FROM notifications "
    "WHERE loan_id <= :loans ORDER BY dedupe_key",
    "loans": "SELECT id, status, delinquent, event_sequence FROM loans WHERE id <= :loans "
    "ORDER BY id",
    "loan ledger": "SELECT a.code, a.balance_minor, COALESCE(SUM(l.amount_minor), 0) FROM "
    "ledger_accounts a LEFT JOIN journal_lines l ON l.account_id = a.id WHERE a.code LIKE "
    "'loan:%' AND CAST(split_part(a.code, ':', 2) AS bigint) - 1000000 BETWEEN 1 AND :loans "
    "GROUP BY a.code, a.balance_minor ORDER BY a.code",
    "bank ledger": "SELECT a.code, a.balance_minor, COALESCE(SUM(l.amount_minor), 0) FROM "
    "ledger_accounts a LEFT JOIN journal_lines l ON l.account_id = a.id WHERE a.code NOT LIKE "
    "'loan:%' GROUP BY a.code, a.balance_minor ORDER BY a.code",
    "events": "SELECT name, payload->>'loanId', payload->>'sequence' FROM outbox "
    "WHERE kind = 'EVENT' AND name = 'loanUpdated' "
    "AND CAST(payload->>'loanId' AS bigint) <= :loans ORDER BY 2, 3",
}


def close_results(url: str, loans: int) -> dict[str, list[tuple[Any, ...]]]:
    """CLOSE_RESULTS, read from the database at `url` (PostgreSQL)."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = {
            name: [tuple(r) for r in connection.execute(sa.text(q), {"loans": loans})]
            for name, q in CLOSE_RESULTS.items()
        }
    engine.dispose()
    return found


def _seed(url: str, loans: int) -> None:
    migrate(url)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        seed_loans(connection, loans)
        connection.execute(sa.text("ANALYZE"))
    engine.dispose()


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _close_the_day(env: dict[str, str], workers: int, threads: int) -> tuple[float, int]:
    command = [sys.executable, "-m", "app.cli"]
    procs = [
        subprocess.Popen([*command, "worker", "--threads", str(threads)], env=env)
        for _ in range(workers)
    ]
    time.sleep(3)  # the workers connect and declare their queues
    try:
        start = time.monotonic()
        subprocess.run(
            [*command, "billing", "run", "--as-of", DAY.isoformat()], env=env, check=True
        )
        elapsed = time.monotonic() - start
        peak = max(_peak_kib(p.pid) for p in procs)
    finally:
        for process in procs:
            process.terminate()
        for process in procs:
            process.wait(timeout=30)
    return elapsed, peak


def main() -> None:
    loans = int(os.environ.get("BENCH_LOANS", "100000"))
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    threads = int(os.environ.get("BENCH_THREADS", "4"))
    with throwaway_database("lendgraph_bench_billing") as url:
        started = time.monotonic()
        _seed(url, loans)
        print(f"seeded {loans} loans in {time.monotonic() - started:.1f} s")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "QUEUE_NAMESPACE": f"bench-{secrets.token_hex(4)}",
            "LOG_LEVEL": "WARNING",
            "LOG_JSON": "true",
            "WORKER_THREADS": str(threads + 2),
        }
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            books_closed_through_the_day_before(connection)
        elapsed, peak = _close_the_day(env, workers, threads)
        with engine.begin() as connection:
            run = connection.execute(
                sa.text("SELECT status, loans, accruals, chunks_total FROM billing_runs")
            ).one()
            sql_start = time.monotonic()
            alone = connection.execute(
                sa.text(ACCRUE_ALONE), {"day": DAY + timedelta(days=1)}
            ).rowcount
            sql_elapsed = time.monotonic() - sql_start
        engine.dispose()
    print(
        f"close of business: {run.status}, {run.loans} loans in {run.chunks_total} chunks, "
        f"{run.accruals} accruals, {workers} workers x {threads} threads"
    )
    print(
        f"  total {elapsed:.1f} s, {run.loans / elapsed:,.0f} loans/s, peak worker RSS "
        f"{peak / 1024:.0f} MiB"
    )
    print(f"accrual alone, one hand-written statement: {alone} rows in {sql_elapsed:.2f} s")
    print(f"  ratio (whole close / accrual alone): {elapsed / sql_elapsed:.1f}")


if __name__ == "__main__":
    main()
