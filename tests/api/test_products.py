"""The product catalogue and P2P terms: everyone signed in reads them, staff change them."""

from typing import Any

import pytest

from domain.users import Role
from tests.live_server import GraphQLClient

PRODUCTS = (
    "{ loanProducts { code currency repaymentStyle eligibilityPolicy fundingSource "
    "paymentRule interestRate amountMax { amount } } }"
)
UPDATE = (
    "mutation($input: UpdateLoanProductInput!) { updateLoanProduct(input: $input) { "
    "__typename ... on LoanProductSuccess { product { amountMin { amount } amountMax "
    "{ amount } } } ... on InvalidInputError { fields { field message } } ... on Error "
    "{ code } } }"
)
CONFIG = (
    "mutation($input: UpdateBankConfigInput!) { updateBankConfig(input: $input) { "
    "__typename ... on UpdateBankConfigSuccess { bankConfig { minAmount { amount } "
    "maxAmount { amount } interestRate durationDays } } ... on InvalidInputError "
    "{ fields { field } } ... on Error { code } } }"
)


@pytest.fixture
def tokens(make_user: Any, login: Any) -> dict[str, str]:
    make_user("boss", Role.STAFF)
    make_user("asha", Role.CUSTOMER)
    return {"staff": login("boss")["accessToken"], "customer": login("asha")["accessToken"]}


def test_the_shipped_catalogue_is_readable_by_anyone_signed_in(
    client: GraphQLClient, tokens: dict[str, str]
) -> None:
    products = client.execute(PRODUCTS, token=tokens["customer"]).data["loanProducts"]
    by_code = {p["code"]: p for p in products}
    assert set(by_code) == {
        "PERSONAL_EMI",
        "P2P_FLAT",
        "SCORED_MICRO",
        "CREDIT_CARD",
        "WEEKLY_FLAT",
    }
    assert by_code["PERSONAL_EMI"]["eligibilityPolicy"] == "LOAN_HISTORY_SCORE"
    assert by_code["P2P_FLAT"]["fundingSource"] == "PROVIDERS"
    assert by_code["CREDIT_CARD"]["amountMax"] == {"amount": "50000.00"}
    assert (by_code["WEEKLY_FLAT"]["currency"], by_code["WEEKLY_FLAT"]["paymentRule"]) == (
        "IDR",
        "EXACT_INSTALLMENT",
    )
    assert by_code["SCORED_MICRO"]["currency"] == "KES"
    assert client.execute(PRODUCTS).errors[0]["extensions"]["code"] == "NOT_AUTHENTICATED"
    config = client.execute(
        "{ bankConfig { minAmount { amount } maxAmount { amount } interestRate durationDays } }",
        token=tokens["customer"],
    ).data
    assert config == {
        "bankConfig": {
            "minAmount": {"amount": "100.00"},
            "maxAmount": {"amount": "10000.00"},
            "interestRate": "5",
            "durationDays": 365,
        }
    }


def test_staff_change_terms_and_inconsistent_ones_are_refused(
    client: GraphQLClient, tokens: dict[str, str]
) -> None:
    bad = client.execute(
        UPDATE, {"input": {"code": "CREDIT_CARD", "amountMin": "60000"}}, token=tokens["staff"]
    ).data["updateLoanProduct"]
    assert bad["__typename"] == "InvalidInputError"
    assert bad["fields"] == [{"field": "amountMin", "message": "must not be above amountMax"}]
    good = client.execute(
        UPDATE, {"input": {"code": "CREDIT_CARD", "amountMax": "75000"}}, token=tokens["staff"]
    ).data["updateLoanProduct"]
    assert good["product"]["amountMax"] == {"amount": "75000.00"}
    unknown = client.execute(UPDATE, {"input": {"code": "NOPE"}}, token=tokens["staff"]).data
    assert unknown["updateLoanProduct"]["code"] == "PRODUCT_NOT_FOUND"
    denied = client.execute(
        UPDATE, {"input": {"code": "CREDIT_CARD", "amountMax": "1"}}, token=tokens["customer"]
    ).data["updateLoanProduct"]
    assert denied["code"] == "PERMISSION_DENIED"


def test_staff_set_the_p2p_terms_within_reason(
    client: GraphQLClient, tokens: dict[str, str]
) -> None:
    refused = client.execute(CONFIG, {"input": {"minAmount": "20000"}}, token=tokens["staff"]).data[
        "updateBankConfig"
    ]
    assert refused["__typename"] == "InvalidInputError"
    assert refused["fields"] == [{"field": "minAmount"}]
    changed = client.execute(
        CONFIG, {"input": {"interestRate": "6.5", "durationDays": 180}}, token=tokens["staff"]
    ).data["updateBankConfig"]
    assert changed["bankConfig"]["interestRate"] == "6.5"
    assert changed["bankConfig"]["durationDays"] == 180
    customer = client.execute(
        CONFIG, {"input": {"interestRate": "1"}}, token=tokens["customer"]
    ).data["updateBankConfig"]
    assert customer["code"] == "PERMISSION_DENIED"


def test_staff_add_products_with_unique_codes(
    client: GraphQLClient, tokens: dict[str, str]
) -> None:
    create = (
        "mutation($input: CreateLoanProductInput!) { createLoanProduct(input: $input) { "
        "__typename ... on LoanProductSuccess { product { code termUnit } } "
        "... on Error { code } } }"
    )
    new = {
        "code": "GOLD_LOAN",
        "name": "Gold loan",
        "currency": "INR",
        "amountMin": "1000",
        "amountMax": "500000",
        "termMin": 3,
        "termMax": 24,
        "termUnit": "MONTH",
        "repaymentStyle": "EMI_REDUCING",
        "interestRate": "11",
        "rateMode": "FIXED",
        "eligibilityPolicy": "LIMITS_ONLY",
        "fundingSource": "BANK",
        "paymentRule": "ANY_AMOUNT",
        "delinquencyRule": "NONE",
    }
    made = client.execute(create, {"input": new}, token=tokens["staff"]).data["createLoanProduct"]
    assert made["product"] == {"code": "GOLD_LOAN", "termUnit": "MONTH"}
    again = client.execute(create, {"input": new}, token=tokens["staff"]).data["createLoanProduct"]
    assert again["code"] == "PRODUCT_CODE_TAKEN"
