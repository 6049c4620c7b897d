"""The business day and close-of-business runs through the API (RULES.md §4 accrual)."""

import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import select

from domain.billing.accrual import NANO_PER_MINOR, InterestAccrual
from domain.importing_runs import ImportKind
from domain.users import Role
from tests.domain.test_billing_runs import DISBURSED, card_loan
from tests.live_server import GraphQLClient, LiveServer
from workers.importing import run_import

SET_DATE = """mutation($d: Date) { setBusinessDate(input: {date: $d}) {
  __typename ... on BusinessDay { date pinned closedThrough } ... on Error { code } } }"""
RUN = """mutation($d: Date!) { runBilling(input: {asOf: $d}) {
  __typename ... on RunBillingSuccess { runs { id businessDate status } }
  ... on Error { code message } } }"""
ONE = """query($id: ID!) { billingRun(id: $id) { businessDate status chunksTotal chunksDone
  chunksFailed loans accruals bills changes notices durationMs failures { error } } }"""
RUNS = "{ billingRuns(first: 50) { edges { node { businessDate status accruals } } } }"
BILLS = """{ loans(first: 5) { edges { node { bills { edges { node { number billingDate dueDate
  interest { amount } principal { amount } pastDue { amount } minimumDue { amount } } } } } } } }"""


def _finished(client: GraphQLClient, staff: str, gid: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        run = client.execute(ONE, {"id": gid}, token=staff).data["billingRun"]
        if run["status"] in ("COMPLETED", "FAILED") or time.monotonic() > deadline:
            return run  # type: ignore[no-any-return]
        time.sleep(0.05)


def _accrued(server: LiveServer) -> Decimal:
    with server.runtime.session_factory() as session:
        rows = session.exec(select(InterestAccrual)).all()
        return Decimal(sum(r.amount_nano for r in rows)) / NANO_PER_MINOR / 100


def test_staff_close_thirty_simulated_days_of_card_interest(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any
) -> None:
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    with server.runtime.session_factory() as session:
        card_loan(session, 9001)
        session.commit()
    next_day = str(DISBURSED + timedelta(days=1))
    pinned = client.execute(SET_DATE, {"d": next_day}, token=staff).data["setBusinessDate"]
    assert pinned == {
        "__typename": "BusinessDay",
        "date": next_day,
        "pinned": True,
        "closedThrough": None,
    }
    first = client.execute(RUN, {"d": str(DISBURSED)}, token=staff).data["runBilling"]
    assert _finished(client, staff, first["runs"][0]["id"])["status"] == "COMPLETED"
    day_30 = DISBURSED + timedelta(days=30)
    client.execute(SET_DATE, {"d": str(day_30 + timedelta(days=1))}, token=staff)

    caught_up = client.execute(RUN, {"d": str(day_30)}, token=staff).data["runBilling"]["runs"]

    assert [date.fromisoformat(r["businessDate"]) for r in caught_up] == [
        DISBURSED + timedelta(days=n) for n in range(1, 31)
    ]
    last = _finished(client, staff, caught_up[-1]["id"])
    assert last["status"] == "COMPLETED" and last["accruals"] == 1 and last["failures"] == []
    assert _accrued(server) == Decimal("51.00")  # RULES.md §4: the first cycle's interest
    listed = client.execute(RUNS, token=staff).data["billingRuns"]["edges"]
    assert [e["node"]["status"] for e in listed] == ["COMPLETED"] * 31
    again = client.execute(RUN, {"d": str(day_30)}, token=staff).data["runBilling"]["runs"]
    assert [r["id"] for r in again] == [caught_up[-1]["id"]]
    assert _accrued(server) == Decimal("51.00")
    bills = client.execute(BILLS, token=staff).data["loans"]["edges"][0]["node"]["bills"]
    assert [b["node"] for b in bills["edges"]] == [
        {
            "number": 1,
            "billingDate": str(day_30),
            "dueDate": str(day_30 + timedelta(days=15)),
            "interest": {"amount": "51.00"},
            "principal": {"amount": "150.00"},
            "pastDue": {"amount": "0.00"},
            "minimumDue": {"amount": "201.00"},
        }
    ]
    day = client.execute("{ businessDay { date closedThrough } }", token=staff).data
    assert day["businessDay"] == {
        "date": str(day_30 + timedelta(days=1)),
        "closedThrough": str(day_30),
    }


def test_only_staff_run_billing_and_see_runs(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("asha")
    asha = login("asha")["accessToken"]
    refused = client.execute(RUN, {"d": str(DISBURSED)}, token=asha).data["runBilling"]
    assert refused["code"] == "PERMISSION_DENIED"
    assert client.execute(SET_DATE, {"d": None}, token=asha).data["setBusinessDate"]["code"] == (
        "PERMISSION_DENIED"
    )
    hidden = client.execute(RUNS, token=asha)
    assert hidden.errors and hidden.errors[0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert client.execute("{ businessDay { date } }").data["businessDay"] is None
    assert client.execute("{ businessDay { date } }", token=asha).data["businessDay"]["date"]


def test_a_day_not_yet_over_is_refused(client: GraphQLClient, make_user: Any, login: Any) -> None:
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    client.execute(SET_DATE, {"d": str(DISBURSED)}, token=staff)
    for day in (DISBURSED, DISBURSED + timedelta(days=1)):  # today is not over yet
        refused = client.execute(RUN, {"d": str(day)}, token=staff).data["runBilling"]
        assert refused["code"] == "INVALID_INPUT" and "business date" in refused["message"]


PAY = """mutation($loan: ID!, $amount: Decimal!, $key: String!) {
  makePayment(input: {loanId: $loan, amount: $amount, idempotencyKey: $key}) {
    __typename ... on Payment { paidOn principal { amount } interest { amount }
      allocations { kind installmentNumber } loan { status } }
    ... on Error { code message } } }"""
OWED = """query($id: ID!) { loan(id: $id) { amountDue { amount }
  outstanding { principal { amount } interest { amount } total { amount } } } }"""
STATEMENT = """query($id: ID!) { loan(id: $id) { statement { ... on LoanStatement {
  transactions { date principal { amount } interest { amount } amountPaid { amount } }
  upcomingDues { installmentNumber dueDate amountDue { amount } } } } } }"""
LOAN_BILLS = """{ loans(first: 5) { edges { node { id status bills { edges { node { number
  pastDue { amount } minimumDue { amount } paid { amount } final } } } } } } }"""


def _close(client: GraphQLClient, staff: str, day: date) -> None:
    client.execute(SET_DATE, {"d": str(day + timedelta(days=1))}, token=staff)
    runs = client.execute(RUN, {"d": str(day)}, token=staff).data["runBilling"]["runs"]
    assert _finished(client, staff, runs[-1]["id"])["status"] == "COMPLETED"


def test_card_payments_on_the_business_date_carry_the_rest_and_the_final_bill_clears(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any
) -> None:
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    with server.runtime.session_factory() as session:
        loan = card_loan(session, 9001)
        loan.tenure, loan.end_date = 2, DISBURSED + timedelta(days=75)
        session.add(loan)
        session.commit()
    _close(client, staff, DISBURSED)
    _close(client, staff, DISBURSED + timedelta(days=34))
    gid = client.execute(LOAN_BILLS, token=staff).data["loans"]["edges"][0]["node"]["id"]
    client.execute(SET_DATE, {"d": str(DISBURSED + timedelta(days=35))}, token=staff)

    paid = client.execute(PAY, {"loan": gid, "amount": "100", "key": "card-api-01"}, token=staff)
    twice = client.execute(PAY, {"loan": gid, "amount": "100", "key": "card-api-02"}, token=staff)

    payment = paid.data["makePayment"]
    assert payment["paidOn"] == str(DISBURSED + timedelta(days=35))  # the business date
    assert (payment["interest"], payment["principal"]) == ({"amount": "51.00"}, {"amount": "49.00"})
    assert twice.data["makePayment"]["code"] == "INVALID_INPUT"  # one payment a day
    owed = client.execute(OWED, {"id": gid}, token=staff).data["loan"]
    assert owed["outstanding"] == {  # 51.00 billed interest paid, 49.00 of the principal
        "principal": {"amount": "4951.00"},
        "interest": {"amount": "0.00"},
        "total": {"amount": "4951.00"},
    }
    assert owed["amountDue"] == {"amount": "101.00"}  # what bill 1 still asks
    statement = client.execute(STATEMENT, {"id": gid}, token=staff).data["loan"]["statement"]
    assert statement["transactions"] == [
        {
            "date": str(DISBURSED + timedelta(days=35)),
            "principal": {"amount": "49.00"},
            "interest": {"amount": "51.00"},
            "amountPaid": {"amount": "100.00"},
        }
    ]
    upcoming = statement["upcomingDues"]
    assert upcoming[0] == {  # what bill 1 still asks, due 15 days after its billing date
        "installmentNumber": 1,
        "dueDate": str(DISBURSED + timedelta(days=45)),
        "amountDue": {"amount": "101.00"},
    }
    # the final bill, projected from the current principal of 4,951.00: all of it plus
    # 30 days at 1.68334
    assert upcoming[1]["installmentNumber"] == 2
    assert upcoming[1]["amountDue"] == {"amount": "5001.50"}
    _close(client, staff, DISBURSED + timedelta(days=60))
    node = client.execute(LOAN_BILLS, token=staff).data["loans"]["edges"][0]["node"]
    first, final = (edge["node"] for edge in node["bills"]["edges"])
    assert first["paid"] == {"amount": "100.00"} and final["pastDue"] == {"amount": "101.00"}
    assert final["final"] is True
    client.execute(SET_DATE, {"d": str(DISBURSED + timedelta(days=61))}, token=staff)
    owed = final["minimumDue"]["amount"]
    cleared = client.execute(PAY, {"loan": gid, "amount": owed, "key": "card-api-03"}, token=staff)
    result = cleared.data["makePayment"]
    assert result.get("loan", {}).get("status") == "PAID", result


def test_a_card_applied_for_before_any_close_bills_its_whole_first_cycle(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any, tmp_path: Path
) -> None:
    """Issue 14's walk-through on a fresh system: the first close the bank ever runs is the
    card's billing date, and the bill still asks 51.00 of interest, 201.00 in all (§4)."""
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    aadhar = "4c1e7a52-9d0b-4b8e-a1f2-5e6d7c8b9a01"
    registered = client.execute(
        'mutation($id: String!) { registerCustomer(input: {firstName: "Meera", '
        'lastName: "Iyer", phone: "+919811100001", age: 35, annualIncome: "600000", '
        "nationalId: $id}) { ... on RegisterCustomerSuccess { customer { id } } } }",
        {"id": aadhar},
        token=staff,
    ).data["registerCustomer"]["customer"]
    savings = tmp_path / "transactions.csv"
    savings.write_text(
        "user,date,transaction_type,amount\n"
        f"{aadhar},2026-10-01,CREDIT,600000\n{aadhar},2026-10-02,DEBIT,32000\n"
    )
    run_import(
        server.runtime.session_factory,
        ImportKind.TRANSACTIONS,
        savings,
        server.runtime.dispatcher.dispatch,
    )
    server.settle()
    client.execute(SET_DATE, {"d": str(DISBURSED)}, token=staff)
    applied = client.execute(
        'mutation($c: ID!) { applyForLoan(input: {productCode: "CREDIT_CARD", '
        'amount: "5000", interestRate: "12.5", tenure: 12, customerId: $c, '
        'idempotencyKey: "first-card"}) { ... on LoanApplication { status creditScore } '
        "... on Error { code message } } }",
        {"c": registered["id"]},
        token=staff,
    ).data["applyForLoan"]
    assert applied == {"status": "APPROVED", "creditScore": 670}

    _close(client, staff, DISBURSED + timedelta(days=30))  # the first close ever

    node = client.execute(BILLS, token=staff).data["loans"]["edges"][0]["node"]
    (bill,) = (edge["node"] for edge in node["bills"]["edges"])
    assert (bill["interest"], bill["minimumDue"]) == ({"amount": "51.00"}, {"amount": "201.00"})
