"""`lendgraph generate-sample` and `lendgraph import` as an operator runs them."""

import csv
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from sqlmodel import Session, create_engine

from domain.customers import Registration, register_customer
from domain.users import Role, create_user

LENDGRAPH = [sys.executable, "-m", "app.cli"]
TODAY = date(2026, 12, 4)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LENDGRAPH, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_generate_then_import_from_the_command_line_twice(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "120"}
    assert run(["migrate"], env).returncode == 0
    generated = run(
        [
            "generate-sample",
            "--out",
            str(tmp_path / "files"),
            "--customers",
            "300",
            "--loans",
            "800",
            "--transactions",
            "5000",
        ],
        env,
    )
    assert generated.returncode == 0, generated.stderr
    files = tmp_path / "files"
    for kind, name, rows in (
        ("customers", "customer_data.xlsx", "300"),
        ("loans", "loan_data.xlsx", "800"),
        ("transactions", "transactions.csv", "5000"),
    ):
        first = run(["import", kind, str(files / name)], env)
        assert first.returncode == 0, first.stderr
        assert f"summary: read {rows}, imported {rows}, skipped 0, failed 0" in first.stderr
        again = run(["import", kind, str(files / name)], env)
        assert again.returncode == 0
        assert f"summary: read {rows}, imported 0, skipped {rows}, failed 0" in again.stderr
    # no imported customer holds an Aadhar id: the transactions re-scored nobody
    assert "re-scored 0 customers (transaction scores)" in first.stderr
    assert "re-scored 0 customers (transaction scores)" in again.stderr
    assert "follow-up" not in first.stderr


def test_a_transactions_import_says_how_many_customers_it_rescored(tmp_path: Path) -> None:
    # given a database with one staff-registered (verified) Aadhar holder
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "DATABASE_URL": url, "COLUMNS": "120"}
    assert run(["migrate"], env).returncode == 0
    aadhar = "5f0e8a7e-0c4b-4c1e-9a43-1b2c3d4e5f60"
    engine = create_engine(url)
    with Session(engine) as session:
        staff = create_user(session, "boss", "long enough pass", Role.STAFF)
        form = Registration(
            "Asha",
            "Rao",
            "+919800000001",
            age=30,
            national_id=aadhar,
            monthly_income=Decimal(50000),
        )
        register_customer(session, form, TODAY, staff)
        session.commit()
    engine.dispose()
    rows = [f"{aadhar},2026-01-02,CREDIT,600000", f"{aadhar},2026-01-03,DEBIT,31550"]
    (tmp_path / "t.csv").write_text("user,date,transaction_type,amount\n" + "\n".join(rows))
    # when the operator imports a file with two of their transactions
    done = run(["import", "transactions", str(tmp_path / "t.csv")], env)
    # then the summary counts the customer, not the jobs that re-scored them
    assert done.returncode == 0, done.stderr
    assert "re-scored 1 customer (transaction scores)" in done.stderr


def test_a_file_with_wrong_headers_is_refused_with_the_expected_ones(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "COLUMNS": "200"}
    assert run(["migrate"], env).returncode == 0
    book = Workbook()
    book.active.append(("Name", "Phone"))
    book.save(tmp_path / "wrong.xlsx")
    refused = run(["import", "customers", str(tmp_path / "wrong.xlsx")], env)
    assert refused.returncode == 2
    assert "expected the headers: Customer ID, First Name" in " ".join(refused.stderr.split())


def test_refused_rows_can_be_written_to_a_report(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    assert run(["migrate"], env).returncode == 0
    book = Workbook()
    book.active.append(
        (
            "Customer ID",
            "First Name",
            "Last Name",
            "Age",
            "Phone Number",
            "Monthly Salary",
            "Approved Limit",
        )
    )
    book.active.append((1, "Asha", "Rao", 30, "9800000001", 50000, 1800000))
    book.active.append((2, "Ravi", "Nair", "old", "9800000002", "lots", 1800000))
    book.save(tmp_path / "customers.xlsx")
    report = tmp_path / "refused.csv"
    done = run(
        ["import", "customers", str(tmp_path / "customers.xlsx"), "--report", str(report)], env
    )
    assert done.returncode == 0, done.stderr
    with report.open(newline="") as handle:
        assert list(csv.reader(handle)) == [["row", "reason"], ["3", "Age is not a number: 'old'"]]
