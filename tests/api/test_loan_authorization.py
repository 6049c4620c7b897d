"""Who may do what with products, applications and loans: anonymous, another customer,
a provider, staff."""

from typing import Any

import pytest

from domain.users import Role
from tests.live_server import GraphQLClient

CREATE = (
    'mutation { createLoanProduct(input: {code: "X_LOAN", name: "X", currency: "INR",'
    ' amountMin: "1000", amountMax: "2000", termMin: 1, termMax: 2, termUnit: MONTH, '
    'repaymentStyle: EMI_REDUCING, interestRate: "10", rateMode: FIXED, '
    "eligibilityPolicy: LIMITS_ONLY, fundingSource: BANK, paymentRule: ANY_AMOUNT, "
    "delinquencyRule: NONE}) { __typename ... on Error { code } } }"
)
UPDATE = (
    'mutation { updateLoanProduct(input: {code: "P2P_FLAT", name: "Renamed"}) '
    "{ __typename ... on Error { code } } }"
)
CONFIG = (
    "mutation { updateBankConfig(input: {durationDays: 30}) { __typename ... on Error { code } } }"
)
APPLICATIONS = "{ applications { edges { node { id } } } }"


@pytest.fixture
def people(client: GraphQLClient, make_user: Any, login: Any) -> dict[str, str | None]:
    make_user("boss", Role.STAFF)
    make_user("prov", Role.PROVIDER)
    for name, phone in (("asha", "+919800000001"), ("ravi", "+919800000002")):
        client.execute(
            "mutation($n: String!, $p: String!) { registerCustomer(input: {firstName: $n, "
            'lastName: "X", phone: $p, age: 30, monthlyIncome: "50000", username: $n, '
            'password: "a long password"}) { __typename } }',
            {"n": name, "p": phone},
        )
    return {
        "anonymous": None,
        "staff": login("boss")["accessToken"],
        "provider": login("prov")["accessToken"],
        "asha": login("asha", "a long password")["accessToken"],
        "ravi": login("ravi", "a long password")["accessToken"],
    }


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("anonymous", "NOT_AUTHENTICATED"),
        ("asha", "PERMISSION_DENIED"),
        ("provider", "PERMISSION_DENIED"),
    ],
)
@pytest.mark.parametrize("mutation", [CREATE, UPDATE, CONFIG])
def test_only_staff_change_products_and_pool_terms(
    client: GraphQLClient, people: dict[str, str | None], who: str, code: str, mutation: str
) -> None:
    token = people[who]
    result = client.execute(mutation, token=token).data
    assert next(iter(result.values()))["code"] == code


def test_staff_may_change_products(client: GraphQLClient, people: dict[str, str | None]) -> None:
    for mutation in (CREATE, UPDATE, CONFIG):
        result = client.execute(mutation, token=people["staff"]).data
        assert "code" not in next(iter(result.values()))


def test_applications_and_loans_are_closed_to_anonymous_callers_and_providers(
    client: GraphQLClient, people: dict[str, str | None]
) -> None:
    for who, code in (("anonymous", "NOT_AUTHENTICATED"), ("provider", "PERMISSION_DENIED")):
        for query in (APPLICATIONS, "{ loans { edges { node { id } } } }"):
            response = client.execute(query, token=people[who])
            assert response.errors[0]["extensions"]["code"] == code, (who, query)


def test_a_customer_cannot_apply_in_anothers_name(
    client: GraphQLClient, people: dict[str, str | None]
) -> None:
    ravi_id = client.execute("{ me { customer { id } } }", token=people["ravi"]).data["me"][
        "customer"
    ]["id"]
    result = client.execute(
        'mutation($c: ID!) { applyForLoan(input: {productCode: "P2P_FLAT", amount: "1000", '
        'idempotencyKey: "someone-else", customerId: $c}) { __typename ... on Error { code } } }',
        {"c": ravi_id},
        token=people["asha"],
    ).data["applyForLoan"]
    assert result["code"] == "CUSTOMER_NOT_FOUND"
    assert client.execute(APPLICATIONS, token=people["ravi"]).data["applications"]["edges"] == []
