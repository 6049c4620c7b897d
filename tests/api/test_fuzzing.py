"""Schemathesis fuzzes every query and mutation as each role, with valid and invalid inputs
(NUL bytes, huge amounts, other scripts' digits...): no request may end in a 5xx or an
INTERNAL_ERROR. FUZZ_EXAMPLES sets the requests per role (`make fuzz` runs thousands)."""

from __future__ import annotations

import base64
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.graphql import nodes

from domain.users import Role
from schema.pagination import encode_cursor
from tests.live_server import GraphQLClient, LiveServer

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "250"))
SHOWN_FAILURES = 5

# Hypothesis's plain text rarely holds what breaks a database, so strings are also drawn with
# a control character (NUL, which PostgreSQL refuses, half the time), or a quote or other
# script's digit, inside, or as words the API knows.
CONTROL = st.just("\x00") | st.sampled_from(["\x01", "\x1b", "\x7f", "\x85"])
AWKWARD = st.sampled_from(["\t", "\n", "\u2028", "\ufeff", "'", '"', "\\", "%", "_", "١٢٣", "１"])
KNOWN = st.sampled_from(["asha", "boss", "PERSONAL_EMI", "WEEKLY_FLAT", "P2P_FLAT", "INR"])
KNOWN |= st.sampled_from(["SCORED_MICRO", "+919800000001", "a long password", "key-00000001"])
KNOWN |= st.integers(0, 5).map(encode_cursor)  # page cursors that exist
WITH_CONTROL = st.tuples(st.text(max_size=12), CONTROL, st.text(max_size=12)).map("".join)
WITH_AWKWARD = st.tuples(st.text(max_size=12), AWKWARD, st.text(max_size=12)).map("".join)
TEXT = st.one_of(st.text(max_size=40), WITH_CONTROL, WITH_CONTROL, WITH_AWKWARD, KNOWN, KNOWN)
NODE_TYPES = st.sampled_from(["Loan", "Customer", "LoanApplication", "Provider", "User", "Payment"])
GLOBAL_IDS = st.tuples(NODE_TYPES, st.integers(-1, 5)).map(
    lambda pair: base64.b64encode(f"{pair[0]}:{pair[1]}".encode()).decode()
)
schemathesis.graphql.scalar("String", TEXT.map(nodes.String))
# Mostly page sizes, ages and terms the API takes, so queries get past those checks.
schemathesis.graphql.scalar(
    "Int", st.one_of(st.integers(0, 120), st.integers(-(2**31), 2**31 - 1)).map(nodes.Int)
)
schemathesis.graphql.scalar("ID", st.one_of(TEXT, GLOBAL_IDS).map(nodes.String))
# Decimal is Lendgraph's own: amounts that fit, amounts of up to 32 digits, and any text.
schemathesis.graphql.scalar(
    "Decimal",
    st.one_of(
        st.decimals(min_value=-(10**6), max_value=10**7, places=2).map(lambda d: format(d, "f")),
        st.from_regex(r"[+-]?[0-9]{1,32}(\.[0-9]{0,16})?", fullmatch=True),
        TEXT,
    ).map(nodes.String),
)


def masks_an_unexpected_error(content: bytes) -> bool:
    try:
        errors = json.loads(content).get("errors") or []
    except (ValueError, AttributeError):  # not JSON, or not an object: judged by its status
        return False
    return any((error.get("extensions") or {}).get("code") == "INTERNAL_ERROR" for error in errors)


@dataclass
class Tally:
    """What one role's requests got back, and the ones that broke the rule."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def record(self, label: str, body: str, status: int, content: bytes) -> None:
        self.statuses[status] += 1
        if status >= 500 or masks_an_unexpected_error(content):
            self.failures.append(f"{label} -> {status} {content[:300]!r}\n    {body[:300]}")

    def summary(self, role: str) -> str:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"fuzz {role}: {self.statuses.total()} requests ({codes}), "
            f"{len(self.failures)} failures"
        )


def signed_in_as(
    role: str, client: GraphQLClient, make_user: Any, login: Any, fund_pool: Any
) -> str:
    """The bearer token of a fresh user of `role` (empty for anonymous)."""
    if role == "customer":
        client.execute(
            'mutation { registerCustomer(input: {firstName: "Asha", lastName: "Rao", '
            'phone: "+919800000001", age: 34, monthlyIncome: "50000", username: "asha", '
            'password: "a long password"}) { __typename } }'
        )
        return str(login("asha", "a long password")["accessToken"])
    if role == "provider":
        fund_pool("50000", name="anil")
        return str(login("anil", "long enough pass")["accessToken"])
    if role == "staff":
        make_user("boss", Role.STAFF)
        return str(login("boss")["accessToken"])
    return ""


def mostly_valid(operation: Any) -> st.SearchStrategy[Any]:
    """Three valid documents, which reach the resolvers, to one invalid, which must not."""
    valid = operation.as_strategy(GenerationMode.POSITIVE)
    invalid = operation.as_strategy(GenerationMode.NEGATIVE)
    return st.integers(0, 3).flatmap(lambda draw: invalid if draw == 0 else valid)


def fuzz(server: LiveServer, headers: dict[str, str], tally: Tally) -> None:
    """Each query and mutation gets an equal share of the examples, valid and invalid."""
    schema = schemathesis.graphql.from_url(f"{server.url}/graphql")
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    share = max(EXAMPLES // len(operations), 2)
    for operation in operations:

        @given(case=mostly_valid(operation))
        @settings(
            max_examples=share,
            deadline=None,
            database=None,
            phases=[Phase.generate],  # every failure is collected in the tally, none is shrunk
            suppress_health_check=list(HealthCheck),
        )
        def one_request(case: Any) -> None:
            response = case.call(base_url=server.url, headers=headers, timeout=30)
            body = case.body if isinstance(case.body, str) else json.dumps(case.body)
            tally.record(case.operation.label, body, response.status_code, response.content)

        one_request()


@pytest.mark.parametrize("role", ["anonymous", "customer", "provider", "staff"])
def test_no_input_breaks_the_api(
    server: LiveServer,
    client: GraphQLClient,
    make_user: Any,
    login: Any,
    fund_pool: Any,
    capsys: pytest.CaptureFixture[str],
    role: str,
) -> None:
    token = signed_in_as(role, client, make_user, login, fund_pool)
    tally = Tally()
    fuzz(server, {"Authorization": f"Bearer {token}"} if token else {}, tally)
    with capsys.disabled():
        print(f"\n{tally.summary(role)} [{server.runtime.engine.dialect.name}]")
    assert not tally.failures, "\n".join(tally.failures[:SHOWN_FAILURES])
