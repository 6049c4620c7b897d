"""RULES.md §2 through the API: three providers fund a loan, a short pool refuses one."""

from typing import Any

from domain.users import Role
from tests.live_server import GraphQLClient

REGISTER = (
    "mutation($u: String!) { registerProvider(input: {name: $u, username: $u, "
    'password: "long enough pass"}) { ... on RegisterProviderSuccess '
    "{ provider { id } } } }"
)
ADD = (
    "mutation($a: Decimal!, $k: String!) { addProviderFunds(input: {amount: $a, "
    "idempotencyKey: $k}) { __typename } }"
)
APPLY = (
    'mutation($a: Decimal!, $k: String!) { applyForLoan(input: {productCode: "P2P_FLAT", '
    "amount: $a, idempotencyKey: $k}) { ... on LoanApplication { status reasons { code } "
    "loan { number status } } } }"
)
MINE = (
    "{ me { provider { availableFunds { amount } totalFunded { amount } fundings { edges "
    "{ node { amount { amount } share loan { number status remainingBalance { amount } } } "
    "} } } } }"
)
POOL = "{ fundPool { totalFunds { amount } lent { amount } available { amount } } }"


def test_three_providers_fund_a_loan_and_a_short_pool_refuses_the_next(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    tokens = {}
    for name, amount in (("prov_a", "300"), ("prov_b", "500"), ("prov_c", "1000")):
        client.execute(REGISTER, {"u": name}, token=staff)
        tokens[name] = login(name, "long enough pass")["accessToken"]
        client.execute(ADD, {"a": amount, "k": f"{name}-seed-key"}, token=tokens[name])
    client.execute(
        'mutation { registerCustomer(input: {firstName: "Asha", lastName: "Rao", '
        'phone: "+919800000001", age: 34, monthlyIncome: "50000", username: "asha", '
        'password: "a long password"}) { __typename } }'
    )
    asha = login("asha", "a long password")["accessToken"]

    funded = client.execute(APPLY, {"a": "1000", "k": "asha-p2p-0001"}, token=asha).data[
        "applyForLoan"
    ]
    assert (funded["status"], funded["loan"]["status"]) == ("APPROVED", "ACTIVE")
    seen = {}
    for name, token in tokens.items():
        mine = client.execute(MINE, {}, token=token).data["me"]["provider"]
        seen[name] = (mine["availableFunds"]["amount"], mine["totalFunded"]["amount"])
        loan = mine["fundings"]["edges"][0]["node"]["loan"] if mine["fundings"]["edges"] else None
        if loan:  # number, status and balance: nothing about the borrower
            assert set(loan) == {"number", "status", "remainingBalance"}
            assert loan["remainingBalance"] == {"amount": "1050.00"}
    assert seen == {
        "prov_a": ("0.00", "300.00"),
        "prov_b": ("0.00", "500.00"),
        "prov_c": ("800.00", "200.00"),
    }
    assert client.execute(POOL, token=staff).data["fundPool"] == {
        "totalFunds": {"amount": "1800.00"},
        "lent": {"amount": "1000.00"},
        "available": {"amount": "800.00"},
    }

    client.execute(ADD, {"a": "4000", "k": "prov_c-more-key"}, token=tokens["prov_c"])
    refused = client.execute(APPLY, {"a": "5000", "k": "asha-p2p-0002"}, token=asha).data[
        "applyForLoan"
    ]  # 4,800 available
    assert refused["status"] == "REJECTED" and refused["loan"] is None
    assert refused["reasons"][-1]["code"] == "INSUFFICIENT_POOL_FUNDS"
    assert client.execute(POOL, token=staff).data["fundPool"]["available"] == {"amount": "4800.00"}
    assert client.execute(POOL, token=asha).errors[0]["extensions"]["code"] == ("PERMISSION_DENIED")
    assert client.execute(POOL, token=tokens["prov_a"]).errors


def test_a_provider_sees_no_other_provider(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    other = client.execute(REGISTER, {"u": "prov_x"}, token=staff).data["registerProvider"][
        "provider"
    ]["id"]
    client.execute(REGISTER, {"u": "prov_y"}, token=staff)
    prov_y = login("prov_y", "long enough pass")["accessToken"]
    query = "query($id: ID!) { provider(id: $id) { name } }"
    assert client.execute(query, {"id": other}, token=prov_y).data == {"provider": None}
    assert client.execute(query, {"id": other}, token=staff).data["provider"]["name"] == "prov_x"
