"""Realistic synthetic files in the bank's formats (RULES.md §1 and §4), same seed same files.

customer_data.xlsx and loan_data.xlsx carry the legacy system's headers; transactions.csv
is `user,date,transaction_type,amount` for a set of Aadhar ids (UUID strings, as in the
bank's sample files), returned so demo data can register customers holding them.
"""

from __future__ import annotations

import csv
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from openpyxl import Workbook

from domain.importing.customers import CustomerSheet
from domain.importing.loans import LoanSheet
from domain.schedules import monthly_dues_reached

FIRST = (
    "Aarav",
    "Vivaan",
    "Aditya",
    "Vihaan",
    "Arjun",
    "Sai",
    "Reyansh",
    "Ayaan",
    "Krishna",
    "Ishaan",
    "Ananya",
    "Diya",
    "Aadhya",
    "Saanvi",
    "Kiara",
    "Myra",
    "Anika",
    "Navya",
    "Pari",
    "Riya",
    "Kavya",
    "Meera",
    "Rohan",
    "Kabir",
    "Nikhil",
    "Priya",
    "Neha",
    "Rahul",
    "Sneha",
    "Arnav",
)
LAST = (
    "Sharma",
    "Verma",
    "Gupta",
    "Iyer",
    "Reddy",
    "Nair",
    "Patel",
    "Shah",
    "Mehta",
    "Khan",
    "Singh",
    "Das",
    "Bose",
    "Rao",
    "Menon",
    "Pillai",
    "Joshi",
    "Kulkarni",
    "Chopra",
    "Malhotra",
    "Banerjee",
    "Mukherjee",
    "Agarwal",
    "Jain",
)
CUSTOMER_HEADERS = CustomerSheet.headers
LOAN_HEADERS = LoanSheet.headers
CENT = Decimal("0.01")


@dataclass(frozen=True)
class SampleFiles:
    customers: Path
    loans: Path
    transactions: Path
    aadhar_ids: list[str]


def _emi(principal: Decimal, annual_rate: Decimal, months: int) -> Decimal:
    r = annual_rate / 1200
    growth = (1 + r) ** months
    return (principal * r * growth / (growth - 1)).quantize(CENT, rounding=ROUND_HALF_UP)


def _add_months(start: date, months: int) -> date:
    year, month = divmod(start.month - 1 + months, 12)
    return date(start.year + year, month + 1, min(start.day, 28))


def _write_customers(path: Path, rng: random.Random, count: int) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(CUSTOMER_HEADERS)
    for number in range(1, count + 1):
        salary = rng.randrange(15_000, 200_000, 500)
        limit = (Decimal(salary) * 36 / 100_000).quantize(Decimal(1), ROUND_HALF_UP) * 100_000
        sheet.append(
            (
                number,
                rng.choice(FIRST),
                rng.choice(LAST),
                rng.randint(21, 69),
                9_000_000_000 + number * 7919 % 999_999_999,
                salary,
                int(limit),
            )
        )
    book.save(path)


def _write_loans(path: Path, rng: random.Random, customers: int, loans: int, today: date) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(LOAN_HEADERS)
    for number in range(1, loans + 1):
        principal = Decimal(rng.randrange(50_000, 1_000_000, 1_000))
        rate = Decimal(rng.randrange(700, 2000)) / 100
        tenure = rng.choice((6, 12, 24, 36, 48, 60, 84, 120))
        start = today - timedelta(days=rng.randint(30, 365 * 12))
        # never more EMIs paid than have fallen due (by day) as of today
        on_time = max(
            0, monthly_dues_reached(start, tenure, today) - rng.choice((0, 0, 0, 1, 2, 5))
        )
        sheet.append(
            (
                rng.randint(1, customers),
                7000 + number,
                int(principal),
                tenure,
                float(rate),
                float(_emi(principal, rate, tenure)),
                on_time,
                start,
                _add_months(start, tenure),
            )
        )
    book.save(path)


def _write_transactions(
    path: Path, rng: random.Random, users: list[str], rows: int, today: date
) -> None:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(("user", "date", "transaction_type", "amount"))
        for _ in range(rows):
            kind = "CREDIT" if rng.random() < 0.55 else "DEBIT"
            amount = Decimal(rng.randrange(100, 5_000_000)) / 100
            day = today - timedelta(days=rng.randint(0, 730))
            out.writerow((rng.choice(users), day.isoformat(), kind, f"{amount:.2f}"))


def generate_sample(
    out: Path,
    *,
    customers: int,
    loans: int,
    transactions: int,
    seed: int = 7,
    today: date = date(2026, 1, 1),
) -> SampleFiles:
    """Write the three files into `out`; the same arguments always give the same files."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible on purpose
    users = [
        str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(max(1, customers // 10))
    ]
    files = SampleFiles(
        out / "customer_data.xlsx", out / "loan_data.xlsx", out / "transactions.csv", users
    )
    _write_customers(files.customers, rng, customers)
    _write_loans(files.loans, rng, customers, loans, today)
    _write_transactions(files.transactions, rng, users, transactions, today)
    return files
