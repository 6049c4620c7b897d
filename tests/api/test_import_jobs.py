"""Imports as background jobs, and the transaction score they lead to, seen through the API."""

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from domain.importing_runs import ImportRun, ImportStatus
from domain.outbox import emit_job
from domain.unit_of_work import UnitOfWork
from domain.users import Role
from integrations.sample_files import SampleFiles, generate_sample
from tests.live_server import GraphQLClient, LiveServer


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleFiles:
    return generate_sample(
        tmp_path_factory.mktemp("jobs"), customers=300, loans=800, transactions=5000, seed=3
    )


def login_customer(client: GraphQLClient, make_user: Any, login: Any) -> str:
    make_user("asha")
    return str(login("asha")["accessToken"])


def queue_import(server: LiveServer, kind: str, path: Path) -> None:
    with server.runtime.session_factory() as session:
        uow = UnitOfWork(session, server.runtime.dispatcher.dispatch)
        emit_job(session, "import_file", kind=kind, path=str(path))
        uow.commit()


def test_imports_run_as_jobs_and_lead_to_transaction_scores(
    client: GraphQLClient, server: LiveServer, sample: SampleFiles, make_user: Any, login: Any
) -> None:
    make_user("boss", Role.STAFF)
    staff = login("boss")["accessToken"]
    registered = client.execute(
        'mutation($id: String!) { registerCustomer(input: {firstName: "Asha", lastName: "Rao", '
        'phone: "+919800000001", age: 30, monthlyIncome: "50000", nationalId: $id}) '
        "{ ... on RegisterCustomerSuccess { customer { id } } } }",
        {"id": sample.aadhar_ids[0]},
        token=staff,
    ).data["registerCustomer"]["customer"]["id"]

    for kind, path in (
        ("CUSTOMERS", sample.customers),
        ("LOANS", sample.loans),
        ("TRANSACTIONS", sample.transactions),
    ):
        queue_import(server, kind, path)
        server.settle()
    server.settle()  # the score jobs the transaction batches queued

    with server.runtime.session_factory() as session:
        runs = session.exec(select(ImportRun).order_by(col(ImportRun.id))).all()
    assert [(r.status, r.imported) for r in runs] == [
        (ImportStatus.COMPLETED, 300),
        (ImportStatus.COMPLETED, 800),
        (ImportStatus.COMPLETED, 5000),
    ]
    listed = client.execute(
        "{ importRuns { edges { node { kind status read imported failed customersRescored } } } }",
        token=staff,
    ).data["importRuns"]["edges"]
    assert [e["node"]["kind"] for e in listed] == ["CUSTOMERS", "LOANS", "TRANSACTIONS"]
    # only Asha holds a verified Aadhar id of the file: one customer re-scored, once
    assert [e["node"]["customersRescored"] for e in listed] == [0, 0, 1]
    assert all(e["node"]["status"] == "COMPLETED" for e in listed)
    refused = client.execute(
        "{ importRuns { edges { cursor } } }", token=login_customer(client, make_user, login)
    )
    assert refused.errors[0]["extensions"]["code"] == "PERMISSION_DENIED"
    score = client.execute(
        "query($id: ID!) { customer(id: $id) { creditAssessment { transactions "
        "{ score transactionCount balance { amount } } } } }",
        {"id": registered},
        token=staff,
    ).data["customer"]["creditAssessment"]["transactions"]
    assert score is not None and 300 <= score["score"] <= 900
    assert score["transactionCount"] > 0
