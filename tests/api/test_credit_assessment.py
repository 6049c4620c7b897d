"""Credit assessments through the API, from imported history and savings transactions."""

import csv
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from domain.importing_runs import ImportKind
from domain.scoring.transactions import transaction_score
from domain.users import Role
from integrations.sample_files import CUSTOMER_HEADERS, LOAN_HEADERS, SampleFiles, generate_sample
from tests.live_server import GraphQLClient, LiveServer
from tests.sql_counter import count_statements
from workers.importing import run_import

ASSESS = (
    "creditAssessment { loanHistory { score reason components { name points } } "
    "transactions { score balance { amount } transactionCount } }"
)
REGISTER = (
    "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { "
    "__typename ... on RegisterCustomerSuccess { customer { id nationalIdVerified } } "
    "... on Error { code } } }"
)
VERIFY = (
    "mutation($id: ID!) { verifyCustomerIdentity(input: {customerId: $id}) { __typename "
    "... on VerifyCustomerIdentitySuccess { customer { nationalIdVerified } } } }"
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleFiles:
    return generate_sample(
        tmp_path_factory.mktemp("assess"), customers=120, loans=320, transactions=3000, seed=5
    )


@pytest.fixture
def staff(make_user: Any, login: Any) -> str:
    make_user("boss", Role.STAFF)
    return str(login("boss")["accessToken"])


def balance_in_file(path: Path, user: str) -> Decimal:
    with path.open(newline="") as handle:
        return sum(
            (
                Decimal(r["amount"]) * (1 if r["transaction_type"] == "CREDIT" else -1)
                for r in csv.DictReader(handle)
                if r["user"] == user
            ),
            Decimal(0),
        )


def form(phone: str, **extra: Any) -> dict[str, Any]:
    return {
        "firstName": "Asha",
        "lastName": "Rao",
        "phone": phone,
        "age": 30,
        "monthlyIncome": "50000",
        **extra,
    }


def test_the_transaction_score_is_exactly_the_rule_applied_to_the_file(
    client: GraphQLClient, server: LiveServer, sample: SampleFiles, staff: str
) -> None:
    aadhar = sample.aadhar_ids[1]
    created = client.execute(
        REGISTER, {"input": form("+919800000001", nationalId=aadhar)}, token=staff
    ).data["registerCustomer"]["customer"]
    run_import(
        server.runtime.session_factory,
        ImportKind.TRANSACTIONS,
        sample.transactions,
        server.runtime.dispatcher.dispatch,
    )
    server.settle()
    expected = balance_in_file(sample.transactions, aadhar)
    got = client.execute(
        f"query($id: ID!) {{ customer(id: $id) {{ {ASSESS} }} }}",
        {"id": created["id"]},
        token=staff,
    ).data["customer"]
    scored = got["creditAssessment"]["transactions"]
    assert Decimal(scored["balance"]["amount"]) == expected
    assert scored["score"] == transaction_score(expected)


def test_no_transactions_means_no_transaction_score(
    client: GraphQLClient, server: LiveServer, staff: str
) -> None:
    created = client.execute(
        REGISTER, {"input": form("+919800000002", nationalId="1234-9999")}, token=staff
    ).data["registerCustomer"]["customer"]
    server.settle()
    got = client.execute(
        f"query($id: ID!) {{ customer(id: $id) {{ {ASSESS} }} }}",
        {"id": created["id"]},
        token=staff,
    ).data["customer"]
    assert got["creditAssessment"]["transactions"] is None
    assert got["creditAssessment"]["loanHistory"]["score"] == 50


def test_a_self_declared_aadhar_gets_bank_data_only_after_staff_verify_it(
    client: GraphQLClient, server: LiveServer, sample: SampleFiles, staff: str, login: Any
) -> None:
    run_import(server.runtime.session_factory, ImportKind.TRANSACTIONS, sample.transactions)
    received = client.execute(
        REGISTER,
        {
            "input": form(
                "+919800000003",
                nationalId=sample.aadhar_ids[2],
                username="asha",
                password="a long password",
            )
        },
    ).data["registerCustomer"]
    assert received["__typename"] == "SignUpReceived"  # self sign-up: read it once signed in
    server.settle()
    token = login("asha", "a long password")["accessToken"]
    signed_up = client.execute("{ me { customer { id nationalIdVerified } } }", token=token).data[
        "me"
    ]["customer"]
    assert signed_up["nationalIdVerified"] is False
    mine = f"{{ me {{ customer {{ nationalIdVerified {ASSESS} }} }} }}"
    assert (
        client.execute(mine, token=token).data["me"]["customer"]["creditAssessment"]["transactions"]
        is None
    )
    refused = client.execute(VERIFY, {"id": signed_up["id"]}, token=token).data
    assert refused["verifyCustomerIdentity"]["__typename"] == "PermissionDeniedError"
    verified = client.execute(VERIFY, {"id": signed_up["id"]}, token=staff).data
    assert verified["verifyCustomerIdentity"]["customer"]["nationalIdVerified"] is True
    server.settle()
    after = client.execute(mine, token=token).data["me"]["customer"]["creditAssessment"]
    assert after["transactions"]["score"] >= 300


def test_current_loans_above_the_limit_score_zero_through_the_api(
    client: GraphQLClient, server: LiveServer, staff: str, tmp_path: Path
) -> None:
    customers, loans = Workbook(), Workbook()
    customers.active.append(CUSTOMER_HEADERS)
    customers.active.append((1, "Ravi", "Nair", 40, "9700000001", 10000, 400000))
    customers.active.append((2, "Meera", "Iyer", 35, "9700000002", 50000, 1800000))
    loans.active.append(LOAN_HEADERS)
    loans.active.append((1, 501, 500000, 24, 12, 23536.74, 10, date(2026, 1, 1), date(2028, 1, 1)))
    loans.active.append((2, 502, 300000, 12, 10, 26374.77, 12, date(2023, 1, 1), date(2024, 1, 1)))
    customers.save(tmp_path / "c.xlsx")
    loans.save(tmp_path / "l.xlsx")
    run_import(server.runtime.session_factory, ImportKind.CUSTOMERS, tmp_path / "c.xlsx")
    run_import(server.runtime.session_factory, ImportKind.LOANS, tmp_path / "l.xlsx")
    page = client.execute(
        f"{{ customers {{ edges {{ node {{ firstName {ASSESS} }} }} }} }}", token=staff
    ).data["customers"]["edges"]
    history = {e["node"]["firstName"]: e["node"]["creditAssessment"]["loanHistory"] for e in page}
    assert history["Ravi"]["score"] == 0
    assert history["Ravi"]["reason"] == "current loans exceed the approved limit"
    assert history["Meera"]["score"] > 0
    assert history["Meera"]["reason"] == "weighted components"


def test_imported_customers_keep_the_approved_limit_of_the_banks_file(
    client: GraphQLClient, server: LiveServer, staff: str, tmp_path: Path
) -> None:
    # given a file whose limit (360,000) is not today's 36 × 10,000 to the lakh (400,000)
    customers = Workbook()
    customers.active.append(CUSTOMER_HEADERS)
    customers.active.append((1, "Ravi", "Nair", 40, "9700000001", 10000, 360000))
    customers.save(tmp_path / "c.xlsx")
    # when it is imported
    run_import(server.runtime.session_factory, ImportKind.CUSTOMERS, tmp_path / "c.xlsx")
    # then the customer and the score both use the bank's figure
    node = client.execute(
        "{ customers { edges { node { approvedLimit { amount } "
        "creditAssessment { loanHistory { approvedLimit { amount } } } } } } }",
        token=staff,
    ).data["customers"]["edges"][0]["node"]
    assert node["approvedLimit"] == {"amount": "360000.00"}
    assert node["creditAssessment"]["loanHistory"]["approvedLimit"] == {"amount": "360000.00"}


def test_anonymous_callers_see_no_customer_and_no_assessment(
    client: GraphQLClient, staff: str
) -> None:
    created = client.execute(REGISTER, {"input": form("+919800000004")}, token=staff).data[
        "registerCustomer"
    ]["customer"]
    assert client.execute(
        "query($id: ID!) { node(id: $id) { id } }", {"id": created["id"]}
    ).data == {"node": None}
    assert client.execute("{ me { id } }").data == {"me": None}


def test_assessment_pages_with_history_and_scores_cost_constant_statements(
    client: GraphQLClient, server: LiveServer, sample: SampleFiles, staff: str
) -> None:
    sessions = server.runtime.session_factory
    for kind, path in ((ImportKind.CUSTOMERS, sample.customers), (ImportKind.LOANS, sample.loans)):
        run_import(sessions, kind, path)
    for n, aadhar in enumerate(sample.aadhar_ids[:5]):
        client.execute(
            REGISTER, {"input": form(f"+91960000000{n}", nationalId=aadhar)}, token=staff
        )
    run_import(
        sessions, ImportKind.TRANSACTIONS, sample.transactions, server.runtime.dispatcher.dispatch
    )
    server.settle()
    query = f"query($n: Int!) {{ customers(first: $n) {{ edges {{ node {{ id {ASSESS} }} }} }} }}"
    counts = []
    for size in (3, 50, 100):
        with count_statements(server.runtime.engine) as counter:
            edges = client.execute(query, {"n": size}, token=staff).data["customers"]["edges"]
        assert len(edges) == size
        counts.append(counter.count)
    assert len(set(counts)) == 1, counts


def test_concurrent_registrations_of_one_phone_give_one_customer_and_typed_refusals(
    client: GraphQLClient, server: LiveServer, staff: str, database_url: str
) -> None:
    def attempt(n: int) -> str:
        other = GraphQLClient(server.url)
        try:
            result = other.execute(
                REGISTER, {"input": form("+919811112222", email=f"a{n}@example.com")}, token=staff
            )
            return str(result.data["registerCustomer"]["__typename"])
        finally:
            other.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count("RegisterCustomerSuccess") == 1
    assert set(outcomes) == {"RegisterCustomerSuccess", "DuplicateCustomerError"}
