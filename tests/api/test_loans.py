"""Applying for loans and reading them through the API, on SQLite and PostgreSQL."""

from typing import Any

import pytest
from sqlmodel import update

from domain.customers import Customer
from domain.ledger import verify_ledger
from domain.users import Role
from tests.live_server import GraphQLClient, LiveServer
from tests.sql_counter import count_statements

APPLY = """
mutation($input: ApplyForLoanInput!) {
  applyForLoan(input: $input) {
    __typename
    ... on LoanApplication { id status interestRate reasons { code }
      loan { id number status installment { amount currency } tenure
             schedule { number total { amount } } outstanding { total { amount } } } }
    ... on Error { code message }
  }
}
"""
LOANS = """
query($n: Int!) { loans(first: $n) { edges { node { number status installment { amount }
  customer { firstName } product { code } schedule { number dueDate total { amount } }
  nextDue { dueDate } repaymentsLeft } } } }
"""


@pytest.fixture
def asha(client: GraphQLClient, login: Any) -> str:
    client.execute(
        'mutation { registerCustomer(input: {firstName: "Asha", lastName: "Rao", '
        'phone: "+919800000001", age: 34, monthlyIncome: "50000", '
        'username: "asha", password: "a long password"}) { __typename } }'
    )
    return str(login("asha", "a long password")["accessToken"])


def apply(client: GraphQLClient, token: str, key: str, **request: Any) -> dict[str, Any]:
    return client.execute(APPLY, {"input": {"idempotencyKey": key, **request}}, token=token).data[
        "applyForLoan"
    ]


def loans_across_products(client: GraphQLClient, staff: str, count: int) -> list[dict[str, Any]]:
    """`count` customers registered by staff, each with a loan of one of three products in
    turn (EMI, weekly flat, P2P: the pool must hold the P2P ones)."""
    loans = []
    for n in range(count):
        created = client.execute(
            'mutation($p: String!) { registerCustomer(input: {firstName: "C", lastName: "D", '
            'phone: $p, age: 30, monthlyIncome: "50000"}) { ... on RegisterCustomerSuccess '
            "{ customer { id } } } }",
            {"p": f"+91970000{n:04d}"},
            token=staff,
        ).data["registerCustomer"]["customer"]["id"]
        product = ("PERSONAL_EMI", "WEEKLY_FLAT", "P2P_FLAT")[n % 3]
        loan = apply(
            client,
            staff,
            f"bulk-apply-{n:04d}",
            productCode=product,
            amount={"PERSONAL_EMI": "50000", "WEEKLY_FLAT": "200000", "P2P_FLAT": "1000"}[product],
            tenure={"PERSONAL_EMI": 6, "WEEKLY_FLAT": 10, "P2P_FLAT": None}[product],
            customerId=created,
        )["loan"]
        loans.append({**loan, "productCode": product})
    return loans


def test_a_personal_loan_is_approved_at_the_corrected_rate_and_paid_out(
    client: GraphQLClient, server: LiveServer, asha: str
) -> None:
    result = apply(
        client,
        asha,
        "apply-0001",
        productCode="PERSONAL_EMI",
        amount="120030",
        interestRate="8.12",
        tenure=12,
    )
    assert (result["status"], result["interestRate"]) == ("APPROVED", "12")
    loan = result["loan"]
    assert loan["status"] == "ACTIVE" and loan["installment"]["amount"] == "10664.52"
    assert len(loan["schedule"]) == 12
    with server.runtime.session_factory() as session:
        assert verify_ledger(session) == []


def test_worked_numbers_of_the_other_products(
    client: GraphQLClient, asha: str, fund_pool: Any
) -> None:
    fund_pool()
    p2p = apply(client, asha, "apply-0002", productCode="P2P_FLAT", amount="1000")
    assert p2p["loan"]["status"] == "ACTIVE"  # paid out of the providers' pool
    assert p2p["loan"]["installment"]["amount"] == "1050.00"
    weekly = apply(
        client, asha, "apply-0003", productCode="WEEKLY_FLAT", amount="5000000", tenure=50
    )
    assert weekly["loan"]["installment"] == {"amount": "110000.00", "currency": "IDR"}
    assert weekly["loan"]["outstanding"]["total"]["amount"] == "5500000.00"
    assert len(weekly["loan"]["schedule"]) == 50


def test_replays_return_the_original_and_changed_requests_conflict(
    client: GraphQLClient, asha: str
) -> None:
    first = apply(client, asha, "apply-0004", productCode="PERSONAL_EMI", amount="50000", tenure=6)
    again = apply(client, asha, "apply-0004", productCode="PERSONAL_EMI", amount="50000", tenure=6)
    assert again["id"] == first["id"] and again["loan"]["number"] == first["loan"]["number"]
    changed = apply(
        client, asha, "apply-0004", productCode="PERSONAL_EMI", amount="60000", tenure=6
    )
    assert changed["code"] == "IDEMPOTENCY_CONFLICT"


def test_each_applicant_has_their_own_idempotency_keys(
    client: GraphQLClient, asha: str, make_user: Any, login: Any
) -> None:
    client.execute(
        'mutation { registerCustomer(input: {firstName: "Ravi", lastName: "Iyer", '
        'phone: "+919800000002", age: 40, monthlyIncome: "50000", '
        'username: "ravi", password: "a long password"}) { __typename } }'
    )
    ravi = str(login("ravi", "a long password")["accessToken"])
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    request = {"productCode": "PERSONAL_EMI", "tenure": 6}
    hers = apply(client, asha, "shared-apply-1", amount="50000", **request)
    his = apply(client, ravi, "shared-apply-1", amount="40000", **request)
    assert (hers["status"], his["status"]) == ("APPROVED", "APPROVED")
    assert hers["loan"]["number"] != his["loan"]["number"]
    assert apply(client, asha, "shared-apply-1", amount="50000", **request)["id"] == hers["id"]
    assert apply(client, ravi, "shared-apply-1", amount="40000", **request)["id"] == his["id"]
    changed = apply(client, asha, "shared-apply-1", amount="40000", **request)
    assert changed["code"] == "IDEMPOTENCY_CONFLICT"

    asha_id = client.execute("{ me { customer { id } } }", token=asha).data["me"]["customer"]["id"]
    her_ask = {"amount": "50000", "customerId": asha_id, **request}  # her key, her request
    for_her = apply(client, staff, "shared-apply-1", **her_ask)
    assert for_her["status"] == "APPROVED" and for_her["id"] != hers["id"]  # a new one
    again = apply(client, staff, "shared-apply-1", **her_ask)
    assert again["id"] == for_her["id"]
    mine = "{ loans(first: 10) { edges { node { number } } } }"
    numbers = {e["node"]["number"] for e in client.execute(mine, token=asha).data["loans"]["edges"]}
    assert numbers == {hers["loan"]["number"], for_her["loan"]["number"]}


def test_an_undecided_application_blocks_another_for_the_same_product(
    client: GraphQLClient, asha: str, server: LiveServer
) -> None:
    with server.runtime.session_factory() as session:  # scored products need a CBS customer
        session.exec(update(Customer).values(customer_number="234774784"))
        session.commit()
    pending = apply(
        client, asha, "apply-0005", productCode="SCORED_MICRO", amount="5000", tenure=30
    )
    assert pending["status"] == "PENDING" and pending["loan"] is None
    blocked = apply(
        client, asha, "apply-0006", productCode="SCORED_MICRO", amount="7000", tenure=30
    )
    assert blocked["code"] == "APPLICATION_PENDING"


def test_rejections_are_stored_and_seen_by_their_customer_and_staff_only(
    client: GraphQLClient, asha: str, make_user: Any, login: Any
) -> None:
    rejected = apply(
        client,
        asha,
        "apply-0007",
        productCode="PERSONAL_EMI",
        amount="9000000",
        interestRate="12",
        tenure=12,
    )
    assert rejected["status"] == "REJECTED"
    assert [r["code"] for r in rejected["reasons"]] == ["EMI_ABOVE_HALF_OF_SALARY"]
    listing = (
        "{ applications { edges { node { status reasons { code } customer { firstName } } } } }"
    )
    mine = client.execute(listing, token=asha).data["applications"]["edges"]
    assert [e["node"]["status"] for e in mine] == ["REJECTED"]
    make_user("boss", Role.STAFF)
    staff = client.execute(listing, token=login("boss")["accessToken"]).data
    assert staff["applications"]["edges"][0]["node"]["customer"]["firstName"] == "Asha"
    client.execute(
        'mutation { registerCustomer(input: {firstName: "Ravi", lastName: "Nair", '
        'phone: "+919800000002", age: 30, monthlyIncome: "40000", username: "ravi", '
        'password: "a long password"}) { __typename } }'
    )
    ravi = login("ravi", "a long password")["accessToken"]
    assert client.execute(listing, token=ravi).data["applications"]["edges"] == []


def test_customers_see_only_their_own_loans(
    client: GraphQLClient, asha: str, login: Any, make_user: Any
) -> None:
    loan = apply(client, asha, "apply-0008", productCode="PERSONAL_EMI", amount="50000", tenure=6)[
        "loan"
    ]
    client.execute(
        'mutation { registerCustomer(input: {firstName: "Ravi", lastName: "Nair", '
        'phone: "+919800000002", age: 30, monthlyIncome: "40000", username: "ravi", '
        'password: "a long password"}) { __typename } }'
    )
    ravi = login("ravi", "a long password")["accessToken"]
    application = client.execute("{ applications { edges { node { id } } } }", token=asha).data[
        "applications"
    ]["edges"][0]["node"]["id"]
    node = "query($id: ID!) { node(id: $id) { ... on LoanApplication { status } } }"
    assert client.execute(node, {"id": application}, token=asha).data["node"] == {
        "status": "APPROVED"
    }
    one = "query($id: ID!) { loan(id: $id) { number } node(id: $id) { id } }"
    assert (
        client.execute(one, {"id": loan["id"]}, token=asha).data["loan"]["number"]
        == (loan["number"])
    )
    assert client.execute(one, {"id": loan["id"]}, token=ravi).data == {"loan": None, "node": None}
    assert client.execute(LOANS, {"n": 10}, token=ravi).data["loans"]["edges"] == []
    assert client.execute(node, {"id": application}, token=ravi).data["node"] is None
    assert client.execute(LOANS, {"n": 10}).errors[0]["extensions"]["code"] == ("NOT_AUTHENTICATED")
    make_user("prov", Role.PROVIDER)
    provider = client.execute(LOANS, {"n": 10}, token=login("prov")["accessToken"])
    assert provider.errors[0]["extensions"]["code"] == "PERMISSION_DENIED"
    mine = client.execute(
        "{ me { customer { loans { number schedule { number } } } } }", token=asha
    ).data["me"]["customer"]["loans"]
    assert [m["number"] for m in mine] == [loan["number"]]


def test_loan_pages_cost_the_same_statements_at_any_size(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any, fund_pool: Any
) -> None:
    fund_pool()
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    loans_across_products(client, staff, 20)
    server.settle()
    counts = []
    for size in (2, 20):
        with count_statements(server.runtime.engine) as counter:
            edges = client.execute(LOANS, {"n": size}, token=staff).data["loans"]["edges"]
        assert len(edges) == size
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    with_loans = (
        "{ customers(first: 20) { edges { node { loans { number schedule { number } } } } } }"
    )
    with count_statements(server.runtime.engine) as counter:
        client.execute(with_loans, token=staff)
    small = "{ customers(first: 2) { edges { node { loans { number schedule { number } } } } } }"
    with count_statements(server.runtime.engine) as few:
        client.execute(small, token=staff)
    assert counter.count == few.count


def test_who_may_apply(
    client: GraphQLClient, asha: str, make_user: Any, login: Any, fund_pool: Any
) -> None:
    fund_pool()
    request = {"productCode": "P2P_FLAT", "amount": "1000"}
    anonymous = client.execute(APPLY, {"input": {"idempotencyKey": "apply-0100", **request}})
    assert anonymous.data["applyForLoan"]["code"] == "NOT_AUTHENTICATED"
    make_user("prov", Role.PROVIDER)
    provider = apply(client, login("prov")["accessToken"], "apply-0101", **request)
    assert provider["code"] == "PERMISSION_DENIED"
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    no_one = apply(client, staff, "apply-0102", **request)
    assert no_one["code"] == "CUSTOMER_NOT_FOUND"  # staff must say for whom
    asha_id = client.execute("{ me { customer { id } } }", token=asha).data["me"]["customer"]["id"]
    on_behalf = apply(client, staff, "apply-0103", customerId=asha_id, **request)
    assert on_behalf["status"] == "APPROVED"
    card = apply(
        client,
        asha,
        "apply-0104",
        productCode="CREDIT_CARD",
        amount="5000",
        interestRate="12.5",
        tenure=12,
    )
    assert [r["code"] for r in card["reasons"]] == ["NO_CREDIT_SCORE"]  # no transactions yet
