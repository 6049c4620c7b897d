"""Providers through the API: registration, adding and withdrawing, who may move what."""

from typing import Any

import pytest

from domain.users import Role
from tests.live_server import GraphQLClient

REGISTER = (
    'mutation($u: String!) { registerProvider(input: {name: "Anil", username: $u, '
    'password: "long enough pass"}) { __typename ... on RegisterProviderSuccess '
    "{ provider { id name } } ... on Error { code } } }"
)
ADD = (
    "mutation($input: AddProviderFundsInput!) { addProviderFunds(input: $input) { __typename "
    "... on ProviderFundsMovement { kind amount { amount } availableAfter { amount } "
    "walletAfter { amount } provider { name } } ... on InsufficientFundsError { balance "
    "{ amount } } ... on Error { code } } }"
)
WITHDRAW = ADD.replace("addProviderFunds", "withdrawProviderFunds").replace(
    "AddProviderFundsInput", "WithdrawProviderFundsInput"
)
ME = "{ me { customer { id } provider { name availableFunds { amount } wallet { amount } } } }"


@pytest.fixture
def staff(make_user: Any, login: Any) -> str:
    make_user("boss", Role.STAFF)
    return str(login("boss")["accessToken"])


@pytest.fixture
def anil(client: GraphQLClient, staff: str, login: Any) -> dict[str, str]:
    created = client.execute(REGISTER, {"u": "anil"}, token=staff).data["registerProvider"]
    return {
        "id": created["provider"]["id"],
        "token": login("anil", "long enough pass")["accessToken"],
    }


def add(client: GraphQLClient, token: str, amount: str, key: str, **extra: Any) -> Any:
    return client.execute(
        ADD, {"input": {"amount": amount, "idempotencyKey": key, **extra}}, token=token
    ).data["addProviderFunds"]


def test_a_provider_adds_funds_once_per_key_and_sees_their_balances(
    client: GraphQLClient, anil: dict[str, str]
) -> None:
    assert client.execute(ME, token=anil["token"]).data["me"] == {
        "customer": None,
        "provider": {
            "name": "Anil",
            "availableFunds": {"amount": "0.00"},
            "wallet": {"amount": "0.00"},
        },
    }
    first = add(client, anil["token"], "300", "anil-add-0001")
    assert (first["availableAfter"], first["walletAfter"]) == (
        {"amount": "300.00"},
        {"amount": "0.00"},
    )
    assert add(client, anil["token"], "300", "anil-add-0001") == first
    assert add(client, anil["token"], "350", "anil-add-0001")["code"] == "IDEMPOTENCY_CONFLICT"
    me = client.execute(ME, token=anil["token"]).data["me"]["provider"]
    assert me["availableFunds"] == {"amount": "300.00"}


def test_withdrawals_never_exceed_the_balance(client: GraphQLClient, anil: dict[str, str]) -> None:
    add(client, anil["token"], "100", "anil-add-0002")
    too_much = client.execute(
        WITHDRAW,
        {"input": {"amount": "100.01", "source": "AVAILABLE", "idempotencyKey": "anil-wd-0001"}},
        token=anil["token"],
    ).data["withdrawProviderFunds"]
    assert too_much["__typename"] == "InsufficientFundsError"
    assert too_much["balance"] == {"amount": "100.00"}
    wallet = client.execute(
        WITHDRAW,
        {"input": {"amount": "1", "source": "WALLET", "idempotencyKey": "anil-wd-0002"}},
        token=anil["token"],
    ).data["withdrawProviderFunds"]
    assert wallet["code"] == "INSUFFICIENT_FUNDS"
    fine = client.execute(
        WITHDRAW,
        {"input": {"amount": "40", "source": "AVAILABLE", "idempotencyKey": "anil-wd-0003"}},
        token=anil["token"],
    ).data["withdrawProviderFunds"]
    assert fine["availableAfter"] == {"amount": "60.00"}


def test_who_may_move_whose_money(
    client: GraphQLClient, staff: str, anil: dict[str, str], make_user: Any, login: Any
) -> None:
    on_behalf = add(client, staff, "50", "staff-add-0001", providerId=anil["id"])
    assert on_behalf["provider"]["name"] == "Anil"
    client.execute(REGISTER, {"u": "bina"}, token=staff)
    bina = login("bina", "long enough pass")["accessToken"]
    assert add(client, bina, "5", "bina-add-0001", providerId=anil["id"])["code"] == (
        "PERMISSION_DENIED"
    )
    make_user("asha", Role.CUSTOMER)
    customer = login("asha")["accessToken"]
    assert add(client, customer, "5", "asha-add-0001")["code"] == "PERMISSION_DENIED"
    anonymous = client.execute(ADD, {"input": {"amount": "5", "idempotencyKey": "anon-0001"}})
    assert anonymous.data["addProviderFunds"]["code"] == "NOT_AUTHENTICATED"
    staff_withdraw = client.execute(
        WITHDRAW,
        {"input": {"amount": "1", "source": "AVAILABLE", "idempotencyKey": "staff-wd-0001"}},
        token=staff,
    ).data["withdrawProviderFunds"]
    assert staff_withdraw["code"] == "PERMISSION_DENIED"
    assert (
        client.execute(REGISTER, {"u": "carl"}, token=customer).data["registerProvider"]["code"]
        == "PERMISSION_DENIED"
    )
    listing = "{ providers { edges { node { name availableFunds { amount } } } } }"
    assert client.execute(listing, token=anil["token"]).errors[0]["extensions"]["code"] == (
        "PERMISSION_DENIED"
    )
    names = {
        e["node"]["name"] for e in client.execute(listing, token=staff).data["providers"]["edges"]
    }
    assert names == {"Anil"}  # both providers were registered with the name Anil


def test_each_requester_has_their_own_idempotency_keys(
    client: GraphQLClient, staff: str, anil: dict[str, str], login: Any
) -> None:
    client.execute(REGISTER, {"u": "bina"}, token=staff)
    bina = login("bina", "long enough pass")["accessToken"]
    his = add(client, anil["token"], "300", "shared-add-01")
    hers = add(client, bina, "500", "shared-add-01")
    for_him = add(client, staff, "70", "shared-add-01", providerId=anil["id"])
    assert [r["availableAfter"]["amount"] for r in (his, hers, for_him)] == [
        "300.00",
        "500.00",
        "370.00",
    ]
    assert add(client, anil["token"], "300", "shared-add-01") == his
    assert add(client, bina, "500", "shared-add-01") == hers
    assert add(client, staff, "70", "shared-add-01", providerId=anil["id"]) == for_him
    assert add(client, anil["token"], "500", "shared-add-01")["code"] == "IDEMPOTENCY_CONFLICT"

    own = add(client, anil["token"], "10", "anil-add-0009")
    copied = add(client, staff, "10", "anil-add-0009", providerId=anil["id"])  # his key, his ask
    assert (own["availableAfter"], copied["availableAfter"]) == (
        {"amount": "380.00"},
        {"amount": "390.00"},  # added again for staff, never his result handed back
    )

    def withdraw(token: str, amount: str) -> Any:
        request = {"amount": amount, "source": "AVAILABLE", "idempotencyKey": "shared-wd-01"}
        return client.execute(WITHDRAW, {"input": request}, token=token).data[
            "withdrawProviderFunds"
        ]

    assert withdraw(anil["token"], "90")["availableAfter"] == {"amount": "300.00"}
    assert withdraw(bina, "100")["availableAfter"] == {"amount": "400.00"}
    assert withdraw(anil["token"], "90")["availableAfter"] == {"amount": "300.00"}
    me = "{ me { provider { availableFunds { amount } } } }"
    assert [
        client.execute(me, token=t).data["me"]["provider"]["availableFunds"]["amount"]
        for t in (anil["token"], bina)
    ] == ["300.00", "400.00"]
