"""Importing the bank's files, on SQLite and PostgreSQL."""

import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, func, select

from domain.credit_assessment import TransactionScore, refresh_transaction_scores
from domain.customers import Customer, Registration, register_customer
from domain.importing_runs import ImportKind, ImportStatus
from domain.loans import Loan, next_loan_number
from domain.money import Money
from domain.savings import SavingsTransaction
from domain.tables import utcnow
from domain.users import Role, create_user
from integrations.sample_files import LOAN_HEADERS, SampleFiles, generate_sample
from workers.importing import run_import


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleFiles:
    return generate_sample(
        tmp_path_factory.mktemp("sample"), customers=300, loans=800, transactions=5000, seed=11
    )


def count(sessions: sessionmaker[Session], table: Any) -> int:
    with sessions() as session:
        return session.exec(select(func.count()).select_from(table)).one()


def import_all(sessions: sessionmaker[Session], files: SampleFiles) -> list[Any]:
    return [
        run_import(sessions, ImportKind.CUSTOMERS, files.customers),
        run_import(sessions, ImportKind.LOANS, files.loans),
        run_import(sessions, ImportKind.TRANSACTIONS, files.transactions),
    ]


def test_a_generated_set_imports_completely_and_a_second_run_changes_nothing(
    session_factory: sessionmaker[Session], sample: SampleFiles
) -> None:
    first = import_all(session_factory, sample)
    assert [(r.status, r.read, r.imported, r.failed) for r in first] == [
        (ImportStatus.COMPLETED, 300, 300, 0),
        (ImportStatus.COMPLETED, 800, 800, 0),
        (ImportStatus.COMPLETED, 5000, 5000, 0),
    ]
    second = import_all(session_factory, sample)
    assert [(r.imported, r.skipped, r.failed) for r in second] == [
        (0, 300, 0),
        (0, 800, 0),
        (0, 5000, 0),
    ]
    assert (
        count(session_factory, Customer),
        count(session_factory, Loan),
        count(session_factory, SavingsTransaction),
    ) == (300, 800, 5000)


def test_imported_loans_keep_their_numbers_and_new_numbers_start_above_them(
    session_factory: sessionmaker[Session], sample: SampleFiles
) -> None:
    import_all(session_factory, sample)
    with session_factory() as session:
        highest = session.exec(select(func.max(Loan.number))).one()
        loan = session.exec(select(Loan).where(Loan.number == 7001)).one()
        assert loan.origin == "IMPORTED"
        assert next_loan_number(session) > highest


def _workbook(path: Path, headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def with_customers(session_factory: sessionmaker[Session], sample: SampleFiles) -> Iterator[None]:
    run_import(session_factory, ImportKind.CUSTOMERS, sample.customers)
    yield


def test_bad_rows_are_each_reported_and_the_good_ones_imported(
    session_factory: sessionmaker[Session], with_customers: None, tmp_path: Path
) -> None:
    good = (1, 90001, 100000, 12, 8.5, 8721.47, 12, date(2020, 1, 1), date(2021, 1, 1))
    rows = [
        good,
        (2, 90002, None, 12, 8.5, 8721.47, 12, date(2020, 1, 1), date(2021, 1, 1)),
        (3, 90003, "lots", 12, 8.5, 8721.47, 12, date(2020, 1, 1), date(2021, 1, 1)),
        (99999, 90004, 100000, 12, 8.5, 8721.47, 12, date(2020, 1, 1), date(2021, 1, 1)),
        (4, 90001, 50000, 12, 8.5, 8721.47, 12, date(2020, 1, 1), date(2021, 1, 1)),
        (5, 90005, 100000, 12, 8.12345, 8721.47, 12, date(2020, 1, 1), date(2021, 1, 1)),
        (1, 90006, 250000, 24, 10.25, 11500.5, 3, date(2025, 6, 1), date(2027, 6, 1)),
    ]
    run = run_import(
        session_factory, ImportKind.LOANS, _workbook(tmp_path / "loans.xlsx", LOAN_HEADERS, rows)
    )
    assert (run.read, run.imported, run.failed) == (7, 2, 5)
    reasons = {e["row"]: e["reason"] for e in run.errors}
    assert reasons[3] == "Loan Amount is missing"
    assert reasons[4].startswith("Loan Amount is not a number")
    assert reasons[5] == "Customer ID is not a known customer"
    assert "duplicate loan id" in reasons[6]
    assert "4 decimal places" in reasons[7]
    with session_factory() as session:
        kept = session.exec(select(Loan).where(Loan.number == 90006)).one()
        assert (kept.principal, kept.interest_rate, kept.installment) == (
            Money.of("250000", "INR"),
            kept.interest_rate.__class__("10.25"),
            Money.of("11500.50", "INR"),
        )


def test_a_file_with_wrong_headers_is_refused_naming_the_expected_ones(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = _workbook(tmp_path / "odd.xlsx", ("Customer", "Name", "Age"), [(1, "A", 30)])
    run = run_import(session_factory, ImportKind.CUSTOMERS, path)
    assert run.status is ImportStatus.REFUSED and run.read == 0
    assert run.message is not None
    assert "expected the headers: Customer ID, First Name, Last Name, Age, Phone Number" in (
        run.message
    )
    assert "missing: Customer ID" in run.message and "not expected: Customer, Name" in run.message
    assert count(session_factory, Customer) == 0


def test_transactions_give_registered_aadhar_holders_a_transaction_score(
    session_factory: sessionmaker[Session], sample: SampleFiles
) -> None:
    aadhar = sample.aadhar_ids[0]
    with session_factory() as session:
        staff = create_user(session, "boss", "long enough pass", Role.STAFF)
        register_customer(
            session,
            Registration(
                "Asha",
                "Rao",
                "+919800000001",
                age=30,
                national_id=aadhar,
                monthly_income=Decimal("50000"),
            ),
            utcnow().date(),
            staff,
        )
        session.commit()
    run_import(session_factory, ImportKind.TRANSACTIONS, sample.transactions)
    with session_factory() as session:
        assert refresh_transaction_scores(session, [aadhar], utcnow()) == 1
        session.commit()
        again = refresh_transaction_scores(session, [aadhar], utcnow())
        session.commit()
        [score] = session.exec(select(TransactionScore)).all()
    assert again == 1 and 300 <= score.score <= 900 and score.transaction_count > 0
    assert count(session_factory, TransactionScore) == 1


def _register(session: Session, phone: str, aadhar: str, staff: Any | None) -> None:
    """Staff registrations are verified; a self sign-up's Aadhar id is only declared."""
    username, password = (None, None) if staff else (phone[-6:], "long enough pass")
    form = Registration(
        "Asha",
        "Rao",
        phone,
        age=30,
        national_id=aadhar,
        monthly_income=Decimal("50000"),
        username=username,
        password=password,
    )
    register_customer(session, form, utcnow().date(), staff)


def test_a_transactions_import_counts_each_customer_it_rescores_once(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    # given a verified Aadhar holder, a self-declared (unverified) one, and an unknown id
    verified, declared, unknown = (str(uuid.UUID(int=n, version=4)) for n in (1, 2, 3))
    with session_factory() as session:
        staff = create_user(session, "boss", "long enough pass", Role.STAFF)
        _register(session, "+919800000001", verified, staff)
        _register(session, "+919800000002", declared, None)
        session.commit()
    users = [verified, declared, unknown, verified]  # the verified one in both batches
    rows = [f"{user},2026-01-0{n + 1},CREDIT,100.00" for n, user in enumerate(users)]
    (tmp_path / "t.csv").write_text("user,date,transaction_type,amount\n" + "\n".join(rows))
    # when the file is imported in batches of two, then imported again
    first = run_import(session_factory, ImportKind.TRANSACTIONS, tmp_path / "t.csv", batch_size=2)
    again = run_import(session_factory, ImportKind.TRANSACTIONS, tmp_path / "t.csv", batch_size=2)
    # then the verified holder alone is re-scored, counted once; the re-run re-scores nobody
    assert (first.imported, first.customers_rescored) == (4, 1)
    assert (again.imported, again.customers_rescored) == (0, 0)
    with session_factory() as session:
        assert refresh_transaction_scores(session, users, utcnow()) == 1


def test_unusable_numbers_are_row_errors_and_the_rest_of_the_batch_still_imports(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    from integrations.sample_files import CUSTOMER_HEADERS

    rows = [
        (1, "Asha", "Rao", 30, "9800000001", 50000, 1800000),
        (3_000_000_000, "Big", "Id", 30, "9800000002", 50000, 1800000),
        ("inf", "Inf", "Id", 30, "9800000003", 50000, 1800000),
        (4, "Rich", "Person", 30, "9800000004", "1e20", 1800000),
        (5, "Old", "Person", 10**6, "9800000005", 50000, 1800000),
        (6, "Long", "Phone", 30, "9" * 40, 50000, 1800000),
        (7, "N" * 150, "Name", 30, "9800000007", 50000, 1800000),
        (8, "Ravi", "Nair", 30, "98000 00008", 50000, 1800000),
    ]
    run = run_import(
        session_factory,
        ImportKind.CUSTOMERS,
        _workbook(tmp_path / "c.xlsx", CUSTOMER_HEADERS, rows),
    )
    assert (run.status, run.imported, run.failed) == (ImportStatus.COMPLETED, 2, 6)
    reasons = {e["row"]: e["reason"] for e in run.errors}
    assert "between 1 and 2147483647" in reasons[3]
    assert "not a usable number" in reasons[4]
    assert "too large" in reasons[5] or "not a usable number" in reasons[5]
    assert "between 0 and 150" in reasons[6]
    assert "longer than 20 characters" in reasons[7]
    assert "longer than 100 characters" in reasons[8]
    with session_factory() as session:
        ravi = session.exec(select(Customer).where(Customer.legacy_id == 8)).one()
        assert ravi.phone == "9800000008"  # written one way, whatever the sheet's spacing


def test_a_repeated_loan_id_with_other_data_is_refused_even_for_the_same_customer(
    session_factory: sessionmaker[Session], with_customers: None, tmp_path: Path
) -> None:
    first = (1, 91001, 100000, 12, 8.5, 8721.47, 12, date(2020, 1, 1), date(2021, 1, 1))
    other = (1, 91001, 120000, 12, 8.5, 10465.76, 12, date(2020, 1, 1), date(2021, 1, 1))
    run = run_import(
        session_factory,
        ImportKind.LOANS,
        _workbook(tmp_path / "l.xlsx", LOAN_HEADERS, [first, first, other]),
    )
    assert (run.imported, run.skipped, run.failed) == (1, 1, 1)
    assert "duplicate loan id" in run.errors[0]["reason"] and run.errors[0]["row"] == 4
