"""Imported historic loans through the API: status and repayments left agree, as of the
business date (RULES.md §1 import), on SQLite and PostgreSQL."""

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from domain.importing_runs import ImportKind
from domain.schedules import add_months
from domain.tables import utcnow
from domain.users import Role
from integrations.sample_files import CUSTOMER_HEADERS, LOAN_HEADERS
from tests.live_server import GraphQLClient, LiveServer
from workers.importing import run_import

SET_DATE = "mutation($d: Date) { setBusinessDate(input: {date: $d}) { __typename } }"
LOANS = """query($status: LoanStatus) { loans(first: 20, status: $status) {
  edges { node { number status repaymentsLeft } } } }"""
DEBT = """{ customers { edges { node {
  creditAssessment { loanHistory { currentDebt { amount } } } } } } }"""
BUSINESS_DATE = date(2026, 1, 15)


@pytest.fixture
def staff(make_user: Any, login: Any) -> str:
    make_user("boss", Role.STAFF)
    return str(login("boss")["accessToken"])


def _sheet(path: Path, headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Path:
    book = Workbook()
    book.active.append(headers)
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


@pytest.fixture
def imported(server: LiveServer, tmp_path: Path) -> None:
    """Customer 2 with an ended loan (17 of its EMIs not paid on time), one ending on the
    business date, and one still running."""
    people = [(2, "Meera", "Iyer", 35, "9700000002", 50000, 1800000)]
    loans = [
        (2, 5607, 400000, 87, 9.5, 5970.25, 70, date(2014, 3, 1), date(2021, 6, 1)),
        (2, 5608, 100000, 12, 10, 8791.59, 11, date(2025, 1, 15), date(2026, 1, 15)),
        (2, 5609, 200000, 24, 12, 9414.69, 5, date(2025, 6, 20), date(2027, 6, 20)),
    ]
    sessions = server.runtime.session_factory
    customers = _sheet(tmp_path / "c.xlsx", CUSTOMER_HEADERS, people)
    run_import(sessions, ImportKind.CUSTOMERS, customers)
    run_import(sessions, ImportKind.LOANS, _sheet(tmp_path / "l.xlsx", LOAN_HEADERS, loans))


def standing(client: GraphQLClient, staff: str, status: str | None = None) -> dict[int, Any]:
    edges = client.execute(LOANS, {"status": status}, token=staff).data["loans"]["edges"]
    return {e["node"]["number"]: (e["node"]["status"], e["node"]["repaymentsLeft"]) for e in edges}


def test_ended_imported_loans_are_paid_with_nothing_left_and_running_ones_count_dues(
    client: GraphQLClient, staff: str, imported: None
) -> None:
    client.execute(SET_DATE, {"d": str(BUSINESS_DATE)}, token=staff)
    assert standing(client, staff) == {
        5607: ("PAID", 0),  # ended in 2021 (the file's 70 of 87 EMIs on time do not matter)
        5608: ("PAID", 0),  # its End Date is the business date: over
        5609: ("ACTIVE", 18),  # due 20 Jan 2026 ... 20 Jun 2027
    }


def test_an_imported_loan_is_over_once_the_business_date_reaches_its_end_date(
    client: GraphQLClient, staff: str, imported: None
) -> None:
    client.execute(SET_DATE, {"d": "2026-01-14"}, token=staff)
    assert standing(client, staff)[5608] == ("ACTIVE", 1)
    assert list(standing(client, staff, "ACTIVE")) == [5608, 5609]
    client.execute(SET_DATE, {"d": "2027-06-20"}, token=staff)
    assert standing(client, staff, "ACTIVE") == {}
    over = ("PAID", 0)
    assert standing(client, staff, "PAID") == {5607: over, 5608: over, 5609: over}


def test_an_imported_loan_ending_on_the_business_date_is_no_current_debt(
    client: GraphQLClient, server: LiveServer, staff: str, imported: None, tmp_path: Path
) -> None:
    start = utcnow().date() + timedelta(days=30)  # still running by the clock when imported
    end = add_months(start, 12)
    later = [(2, 5610, 300000, 12, 10, 26374.77, 0, start, end)]
    run_import(
        server.runtime.session_factory,
        ImportKind.LOANS,
        _sheet(tmp_path / "later.xlsx", LOAN_HEADERS, later),
    )
    client.execute(SET_DATE, {"d": str(end)}, token=staff)
    assert standing(client, staff)[5610] == ("PAID", 0)
    edges = client.execute(DEBT, token=staff).data["customers"]["edges"]
    debt = edges[0]["node"]["creditAssessment"]["loanHistory"]["currentDebt"]
    assert debt == {"amount": "0.00"}  # every loan of hers has ended by then
