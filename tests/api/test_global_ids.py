"""Global ids in arguments: a malformed id, or one of another type, is the client's mistake
and is answered as data (InvalidInputError naming the field, null, or a coded refusal),
never as a top-level error carrying a Python message; an id of the right type that the
viewer may not see still answers exactly as one that names nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from graphql import GraphQLInputObjectType, GraphQLObjectType, GraphQLUnionType, get_named_type
from sqlmodel import SQLModel
from strawberry.relay import GlobalID

from domain.users import Role
from schema import schema
from schema.global_ids import NodeRef, decode
from tests.api.test_loans import apply
from tests.api.test_payments_api import customer
from tests.api.test_subscriptions import next_message, open_subscription
from tests.live_server import GraphQLClient, GraphQLResponse, LiveServer

PYTHON_MESSAGES = (
    "Incorrect padding",
    "invalid literal",
    "not enough values",
    "GlobalID",
    "Traceback",
    "INTERNAL_ERROR",
)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def malformed_ids(expects: str, row: int) -> dict[str, str]:
    """Ids a client may send for a `expects` object that name no `expects` object; `row`
    is a real one's number, so an id read loosely would find it."""
    other = "Customer" if expects != "Customer" else "Loan"
    return {
        "not base64": "abc",
        "base64 without a colon": b64(f"{expects}{row}"),
        "an unknown type": b64(f"Nothing:{row}"),
        "the right type, not a number": b64(f"{expects}:xyz"),
        "the right type, a signed number": b64(f"{expects}:+{row}"),
        "another type's id": str(GlobalID(other, str(row))),
    }


@dataclass(frozen=True)
class IdField:
    """One argument or input field taking an id: how to send it, as whom, of what type."""

    document: str
    viewer: str
    expects: str
    variables: Callable[[str], dict[str, Any]]


def mutation(field: str, input_type: str) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {field}(input: $input) {{ __typename "
        "... on InvalidInputError { code fields { field message } } } }"
    )


MUTATIONS = {
    "makePayment(input.loanId)": IdField(
        mutation("makePayment", "MakePaymentInput"),
        "asha",
        "Loan",
        lambda id: {"input": {"loanId": id, "amount": "1000", "idempotencyKey": "ids-pay-0001"}},
    ),
    "applyForLoan(input.customerId)": IdField(
        mutation("applyForLoan", "ApplyForLoanInput"),
        "staff",
        "Customer",
        lambda id: {
            "input": {
                "productCode": "PERSONAL_EMI",
                "amount": "50000",
                "tenure": 6,
                "idempotencyKey": "ids-apply-0001",
                "customerId": id,
            }
        },
    ),
    "verifyCustomerIdentity(input.customerId)": IdField(
        mutation("verifyCustomerIdentity", "VerifyCustomerIdentityInput"),
        "staff",
        "Customer",
        lambda id: {"input": {"customerId": id}},
    ),
    "updateCustomer(input.customerId)": IdField(
        mutation("updateCustomer", "UpdateCustomerInput"),
        "staff",
        "Customer",
        lambda id: {"input": {"customerId": id, "nationalId": "1234-5678-9012"}},
    ),
    "addProviderFunds(input.providerId)": IdField(
        mutation("addProviderFunds", "AddProviderFundsInput"),
        "staff",
        "Provider",
        lambda id: {"input": {"amount": "5", "idempotencyKey": "ids-add-0001", "providerId": id}},
    ),
    "markNotificationsRead(input.ids)": IdField(
        mutation("markNotificationsRead", "MarkNotificationsReadInput"),
        "asha",
        "Notification",
        lambda id: {"input": {"ids": [id]}},
    ),
}
LOOKUPS = {
    "node(id)": IdField(
        "query($id: ID!) { node(id: $id) { __typename } }", "staff", "Loan", lambda id: {"id": id}
    ),
    "loan(id)": IdField(
        "query($id: ID!) { loan(id: $id) { number } }", "asha", "Loan", lambda id: {"id": id}
    ),
    "customer(id)": IdField(
        "query($id: ID!) { customer(id: $id) { firstName } }",
        "staff",
        "Customer",
        lambda id: {"id": id},
    ),
    "provider(id)": IdField(
        "query($id: ID!) { provider(id: $id) { name } }", "staff", "Provider", lambda id: {"id": id}
    ),
    "billingRun(id)": IdField(
        "query($id: ID!) { billingRun(id: $id) { __typename } }",
        "staff",
        "BillingRun",
        lambda id: {"id": id},
    ),
}
TYPED_QUERIES = {
    "loanStatement(loanId)": IdField(
        "query($id: ID!) { loanStatement(loanId: $id) { __typename "
        "... on InvalidInputError { code fields { field message } } } }",
        "asha",
        "Loan",
        lambda id: {"id": id},
    ),
    "eligibility(input.customerId)": IdField(
        'query($id: ID!) { eligibility(input: {productCode: "PERSONAL_EMI", amount: "50000", '
        "customerId: $id}) { __typename "
        "... on InvalidInputError { code fields { field message } } } }",
        "staff",
        "Customer",
        lambda id: {"id": id},
    ),
}
FILTERS = {
    "loans(customerId)": IdField(
        "query($id: ID) { loans(customerId: $id) { edges { cursor } } }",
        "staff",
        "Customer",
        lambda id: {"id": id},
    ),
    "applications(customerId)": IdField(
        "query($id: ID) { applications(customerId: $id) { edges { cursor } } }",
        "staff",
        "Customer",
        lambda id: {"id": id},
    ),
}
SUBSCRIPTIONS = {
    f"{field}(loanId)": f"subscription($id: ID) {{ {field}(loanId: $id) {{ sequence }} }}"
    for field in ("paymentReceived", "loanUpdated")
}


def id_paths(graphql_type: Any, path: str) -> list[str]:
    """Where an argument of this type carries ids: itself, or its input fields (nested)."""
    named = get_named_type(graphql_type)
    if named.name == "ID":
        return [path]
    if isinstance(named, GraphQLInputObjectType):
        return [p for n, f in named.fields.items() for p in id_paths(f.type, f"{path}.{n}")]
    return []


def id_arguments(root: GraphQLObjectType) -> dict[str, Any]:
    """Every `field(path)` of a root type whose argument carries an id, with its field."""
    return {
        f"{name}({path})": field
        for name, field in root.fields.items()
        for arg, value in field.args.items()
        for path in id_paths(value.type, arg)
    }


def can_refuse_input(field: Any) -> bool:
    result = get_named_type(field.type)
    return isinstance(result, GraphQLUnionType) and "InvalidInputError" in {
        member.name for member in result.types
    }


def test_every_id_argument_is_exercised_here_and_mutations_taking_one_can_refuse_it() -> None:
    graphql = schema._schema
    assert graphql.query_type and graphql.mutation_type and graphql.subscription_type
    mutations, queries = id_arguments(graphql.mutation_type), id_arguments(graphql.query_type)
    assert set(mutations) == set(MUTATIONS), "a new id argument: add it to this module's tables"
    assert set(queries) == {*LOOKUPS, *TYPED_QUERIES, *FILTERS}
    assert set(id_arguments(graphql.subscription_type)) == set(SUBSCRIPTIONS)
    assert [name for name, field in mutations.items() if not can_refuse_input(field)] == []
    assert [name for name in TYPED_QUERIES if not can_refuse_input(queries[name])] == []


def parts(name: str) -> tuple[str, str]:
    """`makePayment(input.loanId)` -> (`makePayment`, `loanId`): the root field, and the
    field a refusal names (the input field itself, as every InvalidInputError does)."""
    field, path = name.removesuffix(")").split("(")
    return field, path.rsplit(".", maxsplit=1)[-1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (str(GlobalID("Loan", "42")), NodeRef("Loan", 42)),
        (b64("Loan:xyz"), None),
        (b64("Loan: 42"), None),
        (b64("Loan:+42"), None),
        (b64("Loan:4²"), None),
        (b64("Loan:" + "9" * 19), None),
        (b64(":42"), None),
        (b64("Loan42"), None),
        (b64("Loan:42") + "%", None),
        ("abc", None),
        ("", None),
        (base64.b64encode(b"\xff\xfe:1").decode(), None),
    ],
)
def test_only_ids_this_api_issues_decode(value: str, expected: NodeRef | None) -> None:
    assert decode(value) == expected


@dataclass(frozen=True)
class World:
    """Staff, a customer (asha) with a loan and a notification, and a funded provider."""

    tokens: dict[str, str]
    rows: dict[str, int]


def row_of(global_id: str) -> int:
    return int(GlobalID.from_id(global_id).node_id)


def sign_up(client: GraphQLClient, login: Any, name: str, phone: str) -> str:
    """A self-registered customer with a national id not yet verified; their token."""
    client.execute(
        "mutation($n: String!, $p: String!, $id: String!) { registerCustomer(input: "
        '{firstName: $n, lastName: "Rao", phone: $p, age: 34, monthlyIncome: "50000", '
        'nationalId: $id, idType: AADHAR, username: $n, password: "a long password"}) '
        "{ __typename } }",
        {"n": name, "p": phone, "id": f"{name.upper()}-123456"},
    )
    return str(login(name, "a long password")["accessToken"])


@pytest.fixture
def world(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any, fund_pool: Any
) -> World:
    make_user("boss", Role.STAFF)
    asha = sign_up(client, login, "asha", "+919800000001")
    fund_pool("1000", "pool_provider")
    provider = login("pool_provider", "long enough pass")["accessToken"]
    loan = apply(
        client,
        asha,
        "ids-loan-0001",
        productCode="PERSONAL_EMI",
        amount="50000",
        interestRate="14",
        tenure=6,
    )["loan"]
    server.settle()
    mine = "{ me { customer { id } provider { id } notifications { edges { node { id } } } } }"
    me = client.execute(mine, token=asha).data["me"]
    return World(
        tokens={
            "staff": login("boss")["accessToken"],
            "asha": asha,
            "ravi": sign_up(client, login, "ravi", "+919800000002"),
        },
        rows={
            "Loan": row_of(loan["id"]),
            "Customer": row_of(me["customer"]["id"]),
            "Provider": row_of(client.execute(mine, token=provider).data["me"]["provider"]["id"]),
            "Notification": row_of(me["notifications"]["edges"][0]["node"]["id"]),
            "BillingRun": 1,  # no run exists: a lookup of any number answers null
        },
    )


def everything(server: LiveServer) -> dict[str, list[Any]]:
    """Every row of every table, in key order: what "nothing changed" compares."""
    with server.runtime.engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


def send(client: GraphQLClient, world: World, case: IdField, value: str) -> GraphQLResponse:
    response = client.execute(case.document, case.variables(value), token=world.tokens[case.viewer])
    text = json.dumps(response.body)
    assert response.status == 200 and not any(m in text for m in PYTHON_MESSAGES), text
    return response


def refused_field(answer: dict[str, Any]) -> tuple[str, str | None, list[str]]:
    """What a refusal says: its type, code and the fields it names."""
    named = [problem["field"] for problem in answer.get("fields", [])]
    return answer["__typename"], answer.get("code"), named


@pytest.mark.parametrize("name", MUTATIONS)
def test_a_mutation_refuses_a_malformed_or_foreign_id_as_invalid_input_and_changes_nothing(
    client: GraphQLClient, server: LiveServer, world: World, name: str
) -> None:
    case, (field, named) = MUTATIONS[name], parts(name)
    before = everything(server)
    for variant, value in malformed_ids(case.expects, world.rows[case.expects]).items():
        answer = send(client, world, case, value).data[field]
        assert refused_field(answer) == ("InvalidInputError", "INVALID_INPUT", [named]), variant
        assert f"not a {case.expects} id" in answer["fields"][0]["message"], variant
    assert everything(server) == before


@pytest.mark.parametrize("name", LOOKUPS)
def test_a_lookup_by_a_malformed_or_foreign_id_is_null(
    client: GraphQLClient, world: World, name: str
) -> None:
    case, (field, _) = LOOKUPS[name], parts(name)
    ids = malformed_ids(case.expects, world.rows[case.expects])
    if field == "node":  # any Node type will do, but no interface, root or unknown type
        del ids["another type's id"]
        ids["an interface"] = str(GlobalID("Node", "1"))
        ids["the query root"] = str(GlobalID("Query", "1"))
    for variant, value in ids.items():
        assert send(client, world, case, value).body == {"data": {field: None}}, variant


@pytest.mark.parametrize("name", TYPED_QUERIES)
def test_a_query_answering_a_union_refuses_a_malformed_or_foreign_id_as_invalid_input(
    client: GraphQLClient, world: World, name: str
) -> None:
    case, (field, named) = TYPED_QUERIES[name], parts(name)
    for variant, value in malformed_ids(case.expects, world.rows[case.expects]).items():
        answer = send(client, world, case, value).data[field]
        assert refused_field(answer) == ("InvalidInputError", "INVALID_INPUT", [named]), variant
        assert f"not a {case.expects} id" in answer["fields"][0]["message"], variant


@pytest.mark.parametrize("name", FILTERS)
def test_a_list_filtered_by_a_malformed_or_foreign_id_is_refused_like_a_bad_cursor(
    client: GraphQLClient, world: World, name: str
) -> None:
    case = FILTERS[name]
    for variant, value in malformed_ids(case.expects, world.rows[case.expects]).items():
        response = send(client, world, case, value)
        [error] = response.errors
        assert error["extensions"] == {"code": "INVALID_INPUT"}, variant
        assert "customerId: is not a Customer id" in error["message"], variant


@pytest.mark.parametrize("name", SUBSCRIPTIONS)
def test_a_subscription_to_a_malformed_or_foreign_loan_id_is_refused_with_a_code(
    client: GraphQLClient, server: LiveServer, login: Any, name: str
) -> None:
    asha = customer(client, login, "asha", "+919800000001")
    for variant, value in malformed_ids("Loan", 1).items():
        with open_subscription(server, asha, SUBSCRIPTIONS[name], {"id": value}) as ws:
            refused = next_message(ws)
        assert refused["type"] in ("error", "next"), variant
        errors = refused["payload"] if refused["type"] == "error" else refused["payload"]["errors"]
        assert errors[0]["extensions"] == {"code": "INVALID_INPUT"}, variant
        assert "loanId: is not a Loan id" in errors[0]["message"], variant
        assert not any(m in json.dumps(refused) for m in PYTHON_MESSAGES), variant


NOT_YOURS = [
    ("query($id: ID!) { loan(id: $id) { number } }", "Loan"),
    ("query($id: ID!) { node(id: $id) { id } }", "Loan"),
    ("query($id: ID!) { node(id: $id) { id } }", "Customer"),
    ("query($id: ID!) { customer(id: $id) { firstName } }", "Customer"),
    ("query($id: ID!) { provider(id: $id) { name } }", "Provider"),
    ("query($id: ID!) { loanStatement(loanId: $id) { __typename } }", "Loan"),
    ("query($id: ID) { loans(customerId: $id) { edges { cursor } } }", "Customer"),
    ("query($id: ID) { applications(customerId: $id) { edges { cursor } } }", "Customer"),
    (
        'query($id: ID!) { eligibility(input: {productCode: "PERSONAL_EMI", amount: "50000", '
        "customerId: $id}) { __typename } }",
        "Customer",
    ),
    (
        'mutation($id: ID!) { makePayment(input: {loanId: $id, amount: "1000", '
        'idempotencyKey: "ravi-pay-0001"}) { __typename } }',
        "Loan",
    ),
    (
        'mutation($id: ID!) { applyForLoan(input: {productCode: "PERSONAL_EMI", amount: "50000", '
        'tenure: 6, idempotencyKey: "ravi-apply-01", customerId: $id}) { __typename } }',
        "Customer",
    ),
    (
        "mutation($id: ID!) { markNotificationsRead(input: {ids: [$id]}) "
        "{ __typename ... on NotificationsMarkedRead { updated } } }",
        "Notification",
    ),
]


def test_an_id_of_the_right_type_the_viewer_may_not_see_answers_as_one_naming_nothing(
    client: GraphQLClient, server: LiveServer, world: World
) -> None:
    ravi, before = world.tokens["ravi"], everything(server)
    for document, type_name in NOT_YOURS:
        ashas = str(GlobalID(type_name, str(world.rows[type_name])))
        nobodys = str(GlobalID(type_name, "999999"))
        answer = client.execute(document, {"id": ashas}, token=ravi).body
        assert answer == client.execute(document, {"id": nobodys}, token=ravi).body, document
        assert "INVALID_INPUT" not in json.dumps(answer), document  # well-formed: not refused
    assert everything(server) == before
