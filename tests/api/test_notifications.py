"""Notifications through the API: raised once per decision and payment, listed per user,
marked read, and delivered to the user's own subscription only."""

from __future__ import annotations

import time
from typing import Any

from tests.api.test_loans import apply
from tests.api.test_payments_api import customer, pay
from tests.api.test_subscriptions import next_message, open_subscription
from tests.live_server import GraphQLClient, LiveServer

MINE = """
query($unread: Boolean!) { me { notifications(unreadOnly: $unread) { edges { node {
  id kind title body loanId read } } } } }
"""
MARK = """
mutation($ids: [ID!]) { markNotificationsRead(input: {ids: $ids}) {
  ... on NotificationsMarkedRead { updated } ... on Error { code } } }
"""


def mine(client: GraphQLClient, token: str, unread: bool = False) -> list[dict[str, Any]]:
    data = client.execute(MINE, {"unread": unread}, token=token).data
    return [edge["node"] for edge in data["me"]["notifications"]["edges"]]


def test_decisions_and_payments_notify_their_borrower_once(
    client: GraphQLClient, login: Any
) -> None:
    asha = customer(client, login, "asha", "+919800000001")
    bob = customer(client, login, "bob", "+919800000002")
    loan = apply(
        client,
        asha,
        "note-loan-01",
        productCode="PERSONAL_EMI",
        amount="50000",
        interestRate="14",
        tenure=6,
    )["loan"]
    apply(
        client,
        asha,
        "note-loan-02",
        productCode="PERSONAL_EMI",
        amount="99999999",
        interestRate="14",
        tenure=6,
    )  # refused: over the limit
    pay(client, asha, loan["id"], "1000", "note-pay-01")
    pay(client, asha, loan["id"], "1000", "note-pay-01")  # a replay: no second notice
    notes = mine(client, asha)
    assert [n["kind"] for n in notes] == ["LOAN_DECIDED", "LOAN_DECIDED", "PAYMENT_RECEIVED"]
    assert notes[0]["title"] == "Loan approved" and notes[0]["loanId"] == loan["id"]
    assert notes[1]["title"] == "Loan application not approved" and notes[1]["loanId"] is None
    assert "1000.00 INR" in notes[2]["body"]
    assert mine(client, bob) == []
    marked = client.execute(MARK, {"ids": [notes[0]["id"]]}, token=asha).data
    assert marked["markNotificationsRead"] == {"updated": 1}
    assert [n["id"] for n in mine(client, asha, unread=True)] == [n["id"] for n in notes[1:]]
    assert client.execute(MARK, {"ids": [notes[1]["id"]]}, token=bob).data[
        "markNotificationsRead"
    ] == {"updated": 0}  # not bob's to mark
    everything = client.execute(MARK, {"ids": None}, token=asha).data
    assert everything["markNotificationsRead"] == {"updated": 2}
    assert mine(client, asha, unread=True) == []
    anonymous = client.execute(MARK, {"ids": None}).data["markNotificationsRead"]
    assert anonymous == {"code": "NOT_AUTHENTICATED"}


def test_notifications_reach_their_own_user_live(
    client: GraphQLClient, server: LiveServer, login: Any
) -> None:
    asha = customer(client, login, "asha", "+919800000001")
    bob = customer(client, login, "bob", "+919800000002")
    ashas = apply(
        client,
        asha,
        "note-loan-03",
        productCode="PERSONAL_EMI",
        amount="50000",
        interestRate="14",
        tenure=6,
    )["loan"]
    query = "subscription { notificationReceived { kind title body loanId read } }"
    with (
        open_subscription(server, bob, query) as bobs_stream,
        open_subscription(server, asha, query) as ashas_stream,
    ):
        time.sleep(0.2)
        pay(client, asha, ashas["id"], "1000", "note-pay-02")
        bobs = apply(
            client,
            bob,
            "note-loan-04",
            productCode="PERSONAL_EMI",
            amount="50000",
            interestRate="14",
            tenure=6,
        )["loan"]
        seen = next_message(ashas_stream)["payload"]["data"]["notificationReceived"]
        assert (seen["kind"], seen["loanId"], seen["read"]) == (
            "PAYMENT_RECEIVED",
            ashas["id"],
            False,
        )
        for_bob = next_message(bobs_stream)["payload"]["data"]["notificationReceived"]
        assert (for_bob["kind"], for_bob["loanId"]) == ("LOAN_DECIDED", bobs["id"])
