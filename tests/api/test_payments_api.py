"""Repayments through the API (RULES.md §1, §2, §5), on SQLite and PostgreSQL: worked
numbers, statements, who may pay and see what, refusals that change nothing, and the cost
of nested reads."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import select

from domain.ledger import LedgerAccount
from domain.origination import ScheduledDue
from domain.payments import Payment
from domain.tables import utcnow
from domain.users import Role, find_user_by_username
from tests.api.test_loans import apply, loans_across_products
from tests.live_server import GraphQLClient, LiveServer
from tests.sql_counter import count_statements

PAY = """
mutation($input: MakePaymentInput!) {
  makePayment(input: $input) {
    __typename
    ... on Payment { id amount { amount } principal { amount } interest { amount } paidOn
      allocations { kind installmentNumber principal { amount } interest { amount } }
      loan { status installment { amount }
        outstanding { principal { amount } interest { amount } total { amount } } } }
    ... on PaymentExceedsOutstandingError { payable { amount } }
    ... on PaymentMustMatchInstallmentError { expected { amount } }
    ... on InvalidInputError { fields { field message } }
    ... on Error { code message }
  }
}
"""
LOAN = """
query($id: ID!) { loan(id: $id) { status totalPaid { amount } amountDue { amount }
  payoffAmount { amount } repaymentsLeft installment { amount }
  outstanding { total { amount } }
  schedule { number principal { amount } interest { amount } paid { amount } }
  payments { edges { node { amount { amount } allocations { kind } } } }
  statement { __typename
    ... on LoanStatement { transactions { date principal { amount } interest { amount }
      amountPaid { amount } } upcomingDues { installmentNumber dueDate amountDue { amount } } }
    ... on Error { code } } } }
"""


def customer(client: GraphQLClient, login: Any, name: str, phone: str) -> str:
    client.execute(
        "mutation($u: String!, $p: String!) { registerCustomer(input: {firstName: $u, "
        'lastName: "Rao", phone: $p, age: 34, monthlyIncome: "50000", username: $u, '
        'password: "a long password"}) { __typename } }',
        {"u": name, "p": phone},
    )
    return str(login(name, "a long password")["accessToken"])


@pytest.fixture
def asha(client: GraphQLClient, login: Any) -> str:
    return customer(client, login, "asha", "+919800000001")


def pay(
    client: GraphQLClient,
    token: str | None,
    loan_id: str,
    amount: str,
    key: str,
    paid_on: str | None = None,
) -> dict[str, Any]:
    request = {"loanId": loan_id, "amount": amount, "idempotencyKey": key, "paidOn": paid_on}
    result = client.execute(PAY, {"input": request}, token=token)
    assert not result.errors, result.errors
    return dict(result.data["makePayment"])


def read_loan(client: GraphQLClient, token: str, loan_id: str) -> dict[str, Any]:
    return dict(client.execute(LOAN, {"id": loan_id}, token=token).data["loan"])


def test_rules_section_5_weekly_payments_through_the_api(client: GraphQLClient, asha: str) -> None:
    loan = apply(
        client, asha, "weekly-0001", productCode="WEEKLY_FLAT", amount="5000000", tenure=50
    )["loan"]
    first = pay(client, asha, loan["id"], "110000", "week-pay-0001")
    assert first["loan"]["outstanding"]["total"] == {"amount": "5390000.00"}
    assert [(a["kind"], a["installmentNumber"]) for a in first["allocations"]] == [
        ("INSTALLMENT", 1)
    ]
    for week in range(2, 11):
        last = pay(client, asha, loan["id"], "110000", f"week-pay-{week:04d}")
    assert last["loan"]["outstanding"]["total"] == {"amount": "4400000.00"}
    wrong = pay(client, asha, loan["id"], "100000", "week-bad-0001")
    assert (wrong["code"], wrong["expected"]) == (
        "PAYMENT_MUST_MATCH_INSTALLMENT",
        {"amount": "110000.00"},
    )
    for week in range(11, 51):
        last = pay(client, asha, loan["id"], "110000", f"week-pay-{week:04d}")
    assert last["loan"]["status"] == "PAID"
    assert last["loan"]["outstanding"]["total"] == {"amount": "0.00"}
    after = pay(client, asha, loan["id"], "110000", "week-late-0001")
    assert after["code"] == "LOAN_CLOSED"
    seen = read_loan(client, asha, loan["id"])
    assert seen["totalPaid"] == {"amount": "5500000.00"} and seen["repaymentsLeft"] == 0
    assert seen["statement"] == {"__typename": "LoanClosedError", "code": "LOAN_CLOSED"}


PROVIDERS = (("prov_a", "300"), ("prov_b", "500"), ("prov_c", "1000"))
WALLETS = (
    "{ me { provider { wallet { amount } fundings { edges { node { loan { status "
    "payments { edges { node { amount { amount } paidOn yourShare { amount } } } } } } } } "
    "} } }"
)


@pytest.mark.parametrize(
    ("payments", "wallets"),
    [
        (["525"], ["157.50", "262.50", "105.00"]),
        (["525", "525"], ["315.00", "525.00", "210.00"]),
        (["1050"], ["315.00", "525.00", "210.00"]),
    ],
)
def test_rules_section_2_repayments_reach_the_wallets_through_the_api(
    client: GraphQLClient,
    make_user: Any,
    login: Any,
    asha: str,
    payments: list[str],
    wallets: list[str],
) -> None:
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    tokens = []
    for name, amount in PROVIDERS:
        client.execute(
            "mutation($u: String!) { registerProvider(input: {name: $u, username: $u, "
            'password: "long enough pass"}) { __typename } }',
            {"u": name},
            token=staff,
        )
        tokens.append(login(name, "long enough pass")["accessToken"])
        client.execute(
            "mutation($a: Decimal!, $k: String!) { addProviderFunds(input: {amount: $a, "
            "idempotencyKey: $k}) { __typename } }",
            {"a": amount, "k": f"{name}-seed"},
            token=tokens[-1],
        )
    loan = apply(client, asha, "p2p-apply-01", productCode="P2P_FLAT", amount="1000")["loan"]
    for n, amount in enumerate(payments):
        paid = pay(client, asha, loan["id"], amount, f"p2p-pay-{n:04d}")
        assert paid["__typename"] == "Payment", paid
    seen = [client.execute(WALLETS, token=t).data["me"]["provider"] for t in tokens]
    assert [s["wallet"]["amount"] for s in seen] == wallets
    funded = seen[0]["fundings"]["edges"][0]["node"]["loan"]
    assert [e["node"]["amount"]["amount"] for e in funded["payments"]["edges"]] == [
        f"{Decimal(p):.2f}" for p in payments
    ]
    shares = [  # each provider's own share of each payment, summing to its wallet
        [
            e["node"]["yourShare"]["amount"]
            for e in s["fundings"]["edges"][0]["node"]["loan"]["payments"]["edges"]
        ]
        for s in seen
    ]
    assert [sum(Decimal(x) for x in mine) for mine in shares] == [Decimal(w) for w in wallets]
    closed = sum(Decimal(p) for p in payments) == 1050
    assert funded["status"] == ("PAID" if closed else "ACTIVE")
    one_more = pay(client, asha, loan["id"], "1", "p2p-pay-more")
    assert one_more["__typename"] == ("LoanClosedError" if closed else "Payment")


def test_rules_section_1_prepayment_through_the_api(client: GraphQLClient, asha: str) -> None:
    loan = apply(
        client,
        asha,
        "emi-apply-01",
        productCode="PERSONAL_EMI",
        amount="100000",
        interestRate="12",
        tenure=12,
    )["loan"]
    before = read_loan(client, asha, loan["id"])
    emi = Decimal(before["installment"]["amount"])
    assert emi == Decimal("8884.88")
    paid = pay(client, asha, loan["id"], str(emi + 20000), "emi-prepay-01")
    assert [(a["kind"], a["installmentNumber"]) for a in paid["allocations"]] == [
        ("INSTALLMENT", 1),
        ("PREPAYMENT", None),
    ]
    assert paid["allocations"][1]["principal"] == {"amount": "20000.00"}
    after = read_loan(client, asha, loan["id"])
    assert len(after["schedule"]) == 12
    assert Decimal(after["installment"]["amount"]) < emi
    principal = sum(Decimal(row["principal"]["amount"]) for row in after["schedule"])
    assert principal + 20000 == 100000  # principal still sums exactly
    statement = after["statement"]
    assert [t["amountPaid"]["amount"] for t in statement["transactions"]] == [f"{emi + 20000:.2f}"]
    assert [d["installmentNumber"] for d in statement["upcomingDues"]] == list(range(2, 13))
    assert statement["upcomingDues"][0]["amountDue"] == after["installment"]
    payoff = Decimal(after["payoffAmount"]["amount"])
    too_much = pay(client, asha, loan["id"], str(payoff + Decimal("0.01")), "emi-prepay-02")
    assert (too_much["code"], too_much["payable"]) == (
        "PAYMENT_EXCEEDS_OUTSTANDING",
        after["payoffAmount"],
    )
    closed = pay(client, asha, loan["id"], str(payoff), "emi-prepay-03")
    assert closed["loan"]["status"] == "PAID"


def snapshot(server: LiveServer) -> tuple[Any, ...]:
    with server.runtime.session_factory() as session:
        return (
            sorted((a.code, a.balance_minor) for a in session.exec(select(LedgerAccount))),
            sorted(
                (
                    d.id,
                    d.principal_minor,
                    d.interest_minor,
                    d.paid_principal_minor,
                    d.paid_interest_minor,
                )
                for d in session.exec(select(ScheduledDue))
            ),
            len(session.exec(select(Payment)).all()),
        )


def test_refused_payments_change_nothing_and_say_why(
    client: GraphQLClient, server: LiveServer, login: Any, make_user: Any, asha: str
) -> None:
    loan = apply(
        client,
        asha,
        "emi-apply-02",
        productCode="PERSONAL_EMI",
        amount="50000",
        interestRate="14",
        tenure=6,
    )["loan"]
    assert pay(client, asha, loan["id"], "100", "first-pay-01")["__typename"] == "Payment"
    bob = customer(client, login, "bob", "+919800000002")
    make_user("prov", Role.PROVIDER)
    provider = login("prov")["accessToken"]
    today = utcnow().date()
    cases = [
        (asha, "0", "bad-amount-1", None, "INVALID_INPUT"),
        (asha, "1.005", "bad-amount-2", None, "INVALID_INPUT"),
        (asha, "100", "bad-date-001", (today + timedelta(days=1)).isoformat(), "INVALID_INPUT"),
        (asha, "100", "bad-date-002", (today - timedelta(days=1)).isoformat(), "INVALID_INPUT"),
        (asha, "9999999", "too-much-001", None, "PAYMENT_EXCEEDS_OUTSTANDING"),
        (asha, "101", "first-pay-01", None, "IDEMPOTENCY_CONFLICT"),
        (bob, "100", "bobs-try-001", None, "LOAN_NOT_FOUND"),
        (provider, "100", "prov-try-001", None, "PERMISSION_DENIED"),
        (None, "100", "anon-try-001", None, "NOT_AUTHENTICATED"),
    ]
    before = snapshot(server)
    for token, amount, key, paid_on, code in cases:
        result = pay(client, token, loan["id"], amount, key, paid_on)
        assert result.get("code") == code, (key, result)
        assert snapshot(server) == before, key
    not_a_loan = pay(client, asha, "TG9hbjo5OTk5OQ==", "100", "no-such-loan")  # Loan:99999
    assert not_a_loan["code"] == "LOAN_NOT_FOUND"
    replay = pay(client, asha, loan["id"], "100", "first-pay-01")
    assert replay["__typename"] == "Payment" and snapshot(server) == before


def test_payments_are_seen_by_their_customer_and_staff_only(
    client: GraphQLClient, login: Any, make_user: Any, asha: str
) -> None:
    loan = apply(
        client,
        asha,
        "emi-apply-03",
        productCode="PERSONAL_EMI",
        amount="50000",
        interestRate="14",
        tenure=6,
    )["loan"]
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    by_staff = pay(client, staff, loan["id"], "500", "staff-pay-01")  # a teller takes it
    assert by_staff["__typename"] == "Payment"
    bob = customer(client, login, "bob", "+919800000002")
    node = "query($id: ID!) { node(id: $id) { ... on Payment { amount { amount } } } }"
    assert client.execute(node, {"id": by_staff["id"]}, token=asha).data["node"] == {
        "amount": {"amount": "500.00"}
    }
    assert client.execute(node, {"id": by_staff["id"]}, token=bob).data["node"] is None
    statement = (
        "query($id: ID!) { loanStatement(loanId: $id) { __typename ... on Error { code } } }"
    )
    assert client.execute(statement, {"id": loan["id"]}, token=bob).data["loanStatement"] == {
        "__typename": "LoanNotFoundError",
        "code": "LOAN_NOT_FOUND",
    }
    assert client.execute(statement, {"id": loan["id"]}, token=asha).data["loanStatement"] == {
        "__typename": "LoanStatement"
    }
    assert client.execute(statement, {"id": loan["id"]}).data["loanStatement"]["code"] == (
        "LOAN_NOT_FOUND"
    )


def test_each_payer_has_their_own_idempotency_keys(
    client: GraphQLClient, server: LiveServer, login: Any, make_user: Any, asha: str
) -> None:
    loan = apply(
        client,
        asha,
        "emi-apply-04",
        productCode="PERSONAL_EMI",
        amount="50000",
        interestRate="14",
        tenure=6,
    )["loan"]
    teller = make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    bob = customer(client, login, "bob", "+919800000002")
    bobs_loan = apply(
        client, bob, "emi-apply-04", productCode="PERSONAL_EMI", amount="40000", tenure=6
    )["loan"]

    def paid(payment: dict[str, Any]) -> tuple[str, str]:
        return payment["id"], payment["amount"]["amount"]

    hers = pay(client, asha, loan["id"], "100", "shared-pay-01")
    for_her = pay(client, staff, loan["id"], "200", "shared-pay-01")  # a teller takes it
    his = pay(client, bob, bobs_loan["id"], "300", "shared-pay-01")
    assert [p["__typename"] for p in (hers, for_her, his)] == ["Payment"] * 3
    assert len({hers["id"], for_her["id"], his["id"]}) == 3
    assert paid(pay(client, asha, loan["id"], "100", "shared-pay-01")) == paid(hers)
    assert paid(pay(client, staff, loan["id"], "200", "shared-pay-01")) == paid(for_her)
    assert paid(pay(client, bob, bobs_loan["id"], "300", "shared-pay-01")) == paid(his)
    changed = pay(client, asha, loan["id"], "200", "shared-pay-01")
    assert changed["code"] == "IDEMPOTENCY_CONFLICT"

    own = pay(client, asha, loan["id"], "50", "asha-pay-0002")
    copied = pay(client, staff, loan["id"], "50", "asha-pay-0002")  # her key, her request
    assert copied["__typename"] == "Payment" and copied["id"] != own["id"]  # a payment of its own
    assert read_loan(client, asha, loan["id"])["totalPaid"] == {"amount": "400.00"}
    assert read_loan(client, bob, bobs_loan["id"])["totalPaid"] == {"amount": "300.00"}
    with server.runtime.session_factory() as session:
        senders = session.exec(
            select(Payment.requested_by).where(Payment.idempotency_key == "asha-pay-0002")
        ).all()
        her_user = find_user_by_username(session, "asha")
    assert her_user is not None and sorted(senders) == sorted([teller, her_user.id])


NESTED = """
query($n: Int!) { loans(first: $n) { edges { node { number totalPaid { amount }
  payoffAmount { amount } amountDue { amount } outstanding { total { amount } }
  payments { edges { node { amount { amount } allocations { kind principal { amount } }
    loan { number } } } }
  statement { ... on LoanStatement { transactions { amountPaid { amount } }
    upcomingDues { amountDue { amount } } } } } } } }
"""


def test_payments_and_statements_of_a_loan_page_cost_the_same_statements_at_any_size(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any, fund_pool: Any
) -> None:
    fund_pool()
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    for n, loan in enumerate(loans_across_products(client, staff, 12)):
        product = loan["productCode"]
        amount = {"PERSONAL_EMI": "1000", "WEEKLY_FLAT": "22000", "P2P_FLAT": "100"}[product]
        for k in range(2):
            paid = pay(client, staff, loan["id"], amount, f"bulk-pay-{n:04d}-{k}")
            assert paid["__typename"] == "Payment"
    server.settle()
    counts = []
    for size in (2, 12):
        with count_statements(server.runtime.engine) as counter:
            result = client.execute(NESTED, {"n": size}, token=staff)
        assert not result.errors, result.errors
        edges = result.data["loans"]["edges"]
        assert len(edges) == size
        assert all(len(e["node"]["payments"]["edges"]) == 2 for e in edges)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
