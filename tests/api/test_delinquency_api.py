"""RULES.md §5 delinquency through the API over simulated business days: two missed in a row
make a weekly loan delinquent; one exact payment clears it in its own transaction."""

import time
from datetime import date, timedelta
from typing import Any

from domain.users import Role
from tests.api.test_loans import apply
from tests.api.test_payments_api import customer, pay
from tests.live_server import GraphQLClient, LiveServer

START = date(2026, 11, 2)
SET_DATE = """mutation($d: Date) { setBusinessDate(input: {date: $d}) { __typename } }"""
RUN = """mutation($d: Date!) { runBilling(input: {asOf: $d}) {
  ... on RunBillingSuccess { runs { id } } ... on Error { code message } } }"""
STATUS = "query($id: ID!) { billingRun(id: $id) { status changes } }"
LOAN = """query($id: ID!) { loan(id: $id) { status delinquent daysPastDue
  overdueInstallments { number dueDate } } }"""
DELINQUENT = "{ loans(delinquent: true) { edges { node { number } } } }"
WARNINGS = "{ me { notifications { edges { node { kind title } } } } }"


def _on(client: GraphQLClient, staff: str, day: date) -> None:
    client.execute(SET_DATE, {"d": str(day)}, token=staff)


def _close_through(client: GraphQLClient, staff: str, day: date) -> tuple[str, int]:
    _on(client, staff, day + timedelta(days=1))
    runs = client.execute(RUN, {"d": str(day)}, token=staff).data["runBilling"]["runs"]
    deadline = time.monotonic() + 30
    while True:
        run = client.execute(STATUS, {"id": runs[-1]["id"]}, token=staff).data["billingRun"]
        if run["status"] == "COMPLETED" or time.monotonic() > deadline:
            assert run["status"] == "COMPLETED"
            return runs[-1]["id"], int(run["changes"])
        time.sleep(0.05)


def test_week_three_with_only_week_one_paid_is_delinquent_until_one_exact_payment(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any
) -> None:
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    asha = customer(client, login, "asha", "+919800000001")
    _on(client, staff, START)
    loan = apply(
        client, asha, "weekly-late-1", productCode="WEEKLY_FLAT", amount="5000000", tenure=50
    )["loan"]
    _close_through(client, staff, START)
    _on(client, staff, START + timedelta(days=7))
    pay(client, asha, loan["id"], "110000", "weekly-late-pay-1")  # week 1, on its due date

    _close_through(client, staff, START + timedelta(days=14))  # week 2 missed: not yet
    assert client.execute(LOAN, {"id": loan["id"]}, token=asha).data["loan"]["delinquent"] is False
    closed, changes = _close_through(client, staff, START + timedelta(days=21))
    assert changes == 1  # week 3 missed too

    seen = client.execute(LOAN, {"id": loan["id"]}, token=asha).data["loan"]
    assert seen["delinquent"] is True and seen["status"] == "ACTIVE"
    assert seen["daysPastDue"] == 8  # week 2 fell due on day 14; the business date is day 22
    assert [i["number"] for i in seen["overdueInstallments"]] == [2, 3]
    listed = client.execute(DELINQUENT, token=staff).data["loans"]["edges"]
    assert [e["node"]["number"] for e in listed] == [loan["number"]]
    kinds = [
        e["node"]["kind"]
        for e in client.execute(WARNINGS, token=asha).data["me"]["notifications"]["edges"]
    ]
    assert kinds.count("DELINQUENCY_WARNING") == 1
    assert _close_through(client, staff, START + timedelta(days=21)) == (closed, 1)  # same run
    again = client.execute(WARNINGS, token=asha).data["me"]["notifications"]["edges"]
    assert [e["node"]["kind"] for e in again].count("DELINQUENCY_WARNING") == 1

    paid = pay(client, asha, loan["id"], "110000", "weekly-late-pay-2")  # pays week 2

    assert paid["__typename"] == "Payment"
    after = client.execute(LOAN, {"id": loan["id"]}, token=asha).data["loan"]
    assert after["delinquent"] is False
    assert [i["number"] for i in after["overdueInstallments"]] == [3]
    assert client.execute(DELINQUENT, token=staff).data["loans"]["edges"] == []
