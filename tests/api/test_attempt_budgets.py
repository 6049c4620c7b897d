"""Anonymous attempts are budgeted per client address and per username, in process memory
and on Redis (shared by every API process), and answered RATE_LIMITED once spent."""

from collections.abc import Iterator
from typing import Any

import pytest

from app.asgi import create_app
from domain.users import Role, create_user
from tests.conftest import PASSWORD, make_settings
from tests.databases import empty_all_tables
from tests.live_server import GraphQLClient, LiveServer
from tests.services import REDIS_URL, RUN_ID, require

PER_ADDRESS, PER_USERNAME = 4, 2
LOGIN = """mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) {
  __typename ... on AuthTokens { accessToken } ... on Error { code }
  ... on RateLimitedError { retryAfterSeconds } } }"""
REFRESH = """mutation($t: String!) { refreshToken(input: {refreshToken: $t}) {
  __typename ... on Error { code } ... on RateLimitedError { retryAfterSeconds } } }"""
SIGN_UP = """mutation($u: String!, $p: String!) { registerCustomer(input: {firstName: "Asha",
  lastName: "Rao", phone: $p, age: 34, monthlyIncome: "50000", username: $u,
  password: "a long password"}) {
  __typename ... on Error { code } ... on RateLimitedError { retryAfterSeconds } } }"""


def budgeted_settings(sqlite_url: str, storage: str) -> Any:
    overrides: dict[str, Any] = {
        "RATE_LIMIT_PER_ADDRESS": f"{PER_ADDRESS}/minute",
        "RATE_LIMIT_PER_USERNAME": f"{PER_USERNAME}/minute",
    }
    if storage == "redis":
        require(REDIS_URL, "Redis")
        overrides |= {"REDIS_URL": REDIS_URL, "QUEUE_NAMESPACE": f"lendgraph-budgets-{RUN_ID}"}
    return make_settings(sqlite_url, **overrides)


@pytest.fixture(scope="module", params=["memory", "redis"])
def budgeted(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[LiveServer]:
    with LiveServer(create_app(budgeted_settings(sqlite_url, request.param))) as live:
        yield live


@pytest.fixture
def anonymous(budgeted: LiveServer) -> Iterator[GraphQLClient]:
    empty_all_tables(budgeted.runtime.engine)
    assert budgeted.runtime.attempts is not None
    budgeted.runtime.attempts.reset()
    with budgeted.runtime.session_factory() as session:
        create_user(session, "asha", PASSWORD, Role.CUSTOMER)
        create_user(session, "boss", PASSWORD, Role.STAFF)
        session.commit()
    client = GraphQLClient(budgeted.url)
    yield client
    client.close()


def sign_in(client: GraphQLClient, username: str, address: str, password: str = PASSWORD) -> Any:
    variables = {"u": username, "p": password}
    return client.execute(LOGIN, variables, headers={"x-forwarded-for": address}).data["login"]


def refresh(client: GraphQLClient, address: str) -> Any:
    answer = client.execute(REFRESH, {"t": "not-a-token"}, headers={"x-forwarded-for": address})
    return answer.data["refreshToken"]


def sign_up(
    client: GraphQLClient, username: str, phone: str, address: str, token: str | None = None
) -> Any:
    variables = {"u": username, "p": phone}
    answer = client.execute(SIGN_UP, variables, token=token, headers={"x-forwarded-for": address})
    return answer.data["registerCustomer"]


def test_a_username_is_refused_after_its_budget_from_any_address(anonymous: GraphQLClient) -> None:
    for n in range(PER_USERNAME):
        assert sign_in(anonymous, "asha", f"10.0.0.{n + 1}", "wrong password")["code"] == (
            "INVALID_CREDENTIALS"
        )
    refused = sign_in(anonymous, "asha", "10.0.0.9")  # the right password, a new address
    assert (refused["__typename"], refused["code"]) == ("RateLimitedError", "RATE_LIMITED")
    assert 1 <= refused["retryAfterSeconds"] <= 60
    assert sign_up(anonymous, "asha", "+919800000001", "10.0.0.8")["code"] == "RATE_LIMITED"
    assert sign_in(anonymous, "boss", "10.0.0.10")["__typename"] == "AuthTokens"


def test_an_address_is_refused_after_its_budget_whatever_it_tries(
    anonymous: GraphQLClient,
) -> None:
    here = "10.0.1.1"
    spent = [
        sign_in(anonymous, "nobody", here)["code"],
        sign_in(anonymous, "someone", here)["code"],
        refresh(anonymous, here)["code"],
        sign_up(anonymous, "ravi", "+919800000002", here)["__typename"],
    ]
    assert spent == [
        "INVALID_CREDENTIALS",
        "INVALID_CREDENTIALS",
        "INVALID_REFRESH_TOKEN",
        "SignUpReceived",
    ]
    refused = [
        sign_in(anonymous, "boss", here),
        refresh(anonymous, here),
        sign_up(anonymous, "meena", "+919800000003", here),
    ]
    assert [r["code"] for r in refused] == ["RATE_LIMITED"] * 3
    assert all(1 <= r["retryAfterSeconds"] <= 60 for r in refused)
    assert sign_in(anonymous, "boss", "10.0.1.2")["__typename"] == "AuthTokens"


def test_signed_in_staff_are_not_counted(anonymous: GraphQLClient) -> None:
    here = "10.0.2.1"
    token = sign_in(anonymous, "boss", here)["accessToken"]
    for n in range(PER_ADDRESS + 1):
        registered = sign_up(anonymous, f"staff{n}", f"+91980000010{n}", here, token)
        assert registered["__typename"] == "RegisterCustomerSuccess"


def test_every_api_process_spends_from_one_budget_on_redis(
    budgeted: LiveServer, anonymous: GraphQLClient, sqlite_url: str
) -> None:
    if budgeted.runtime.settings.redis_url is None:
        pytest.skip("in process memory each API process counts on its own")
    with LiveServer(create_app(budgeted_settings(sqlite_url, "redis"))) as other:
        elsewhere = GraphQLClient(other.url)
        try:
            for n in range(PER_USERNAME):
                assert sign_in(anonymous, "asha", f"10.0.3.{n + 1}")["__typename"] == "AuthTokens"
            refused = sign_in(elsewhere, "asha", "10.0.3.9")
        finally:
            elsewhere.close()
    assert refused["code"] == "RATE_LIMITED"
