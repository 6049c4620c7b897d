"""RULES.md §3 end to end over real sockets: subscribe from the CBS, apply, and let the
scoring engine decide (it pulls the transactions back from Lendgraph itself)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import func, select, update

from domain.customers import Customer, CustomerStatus
from domain.ledger import JournalEntry
from domain.loans import Loan
from tests.api.test_subscriptions import next_message, open_subscription
from tests.integrations.scoring_world import ScoringWorld
from tests.sql_counter import count_statements

APPROVED_CUSTOMER = "234774784"  # score 564, limit 30,000, no exclusion (the reference reply)
EXCLUDED_CUSTOMER = "366585630"  # four bounced cheques


def _count(world: ScoringWorld, table: type) -> int:
    with world.lendgraph.runtime.session_factory() as session:
        return int(session.exec(select(func.count()).select_from(table)).one())


def test_a_subscribed_customer_is_approved_within_the_engines_limit(world: ScoringWorld) -> None:
    subscribed = world.subscribe(APPROVED_CUSTOMER, username="wanjiru", password="a long password")
    assert subscribed["customer"]["firstName"] == "Wanjiru"
    own = world.sign_in("wanjiru", "a long password")
    pulls_before = len(world.engine_state()["pulls"])
    pending = world.apply(None, "20000", "scored-approve-1", token=own)
    assert pending["status"] == "PENDING"

    decided = world.decided(pending["id"])

    assert decided["status"] == "APPROVED"
    assert decided["creditScore"] == 564
    score = decided["externalScore"]
    assert score["stage"] == "DONE" and score["nextAttemptAt"] is None
    assert score["limit"] == {"amount": "30000.00", "currency": "KES"}
    assert (score["exclusion"], score["exclusionReason"]) == ("No Exclusion", "No Exclusion")
    assert decided["loan"]["status"] == "ACTIVE"
    assert decided["loan"]["principal"]["amount"] == "20000.00"
    assert world.application(pending["id"], token=own)["status"] == "APPROVED"
    assert world.engine_state()["pulls"][pulls_before:] == [APPROVED_CUSTOMER]  # called us back


def test_an_amount_over_the_limit_is_rejected_with_the_reason(world: ScoringWorld) -> None:
    world.subscribe(APPROVED_CUSTOMER)
    pending = world.apply(APPROVED_CUSTOMER, "30000.01", "scored-over-limit")

    decided = world.decided(pending["id"])

    assert decided["status"] == "REJECTED" and decided["loan"] is None
    assert [r["code"] for r in decided["reasons"]] == ["ABOVE_SCORE_LIMIT"]
    assert "30000.00" in decided["reasons"][0]["message"]
    assert _count(world, Loan) == 0


def test_an_exclusion_rejects_with_the_engines_reason(world: ScoringWorld) -> None:
    world.subscribe(EXCLUDED_CUSTOMER)
    pending = world.apply(EXCLUDED_CUSTOMER, "1000", "scored-excluded")

    decided = world.decided(pending["id"])

    assert decided["status"] == "REJECTED"
    assert [r["code"] for r in decided["reasons"]] == ["EXCLUDED_BY_SCORING_ENGINE"]
    assert decided["externalScore"]["exclusion"] == "Bounced Cheques"
    assert "bounced cheques" in decided["reasons"][0]["message"]


def test_a_score_ready_within_the_retry_budget_is_approved(world: ScoringWorld) -> None:
    queried = world.control_engine(notReadyAttempts=3)["queried"]
    world.subscribe(APPROVED_CUSTOMER)
    pending = world.apply(APPROVED_CUSTOMER, "1000", "scored-late")

    decided = world.decided(pending["id"])

    assert decided["status"] == "APPROVED"
    assert decided["externalScore"]["attempts"] == 3  # three "not ready", the fourth answered
    assert world.engine_state()["queried"] - queried == 4


def test_a_score_never_ready_fails_and_the_customer_may_apply_again(
    world: ScoringWorld,
) -> None:
    queried = world.control_engine(notReadyAttempts=50)["queried"]
    world.subscribe(APPROVED_CUSTOMER)
    pending = world.apply(APPROVED_CUSTOMER, "1000", "scored-never")

    failed = world.decided(pending["id"])

    assert failed["status"] == "FAILED"
    assert [r["code"] for r in failed["reasons"]] == ["NO_SCORE_IN_TIME"]
    assert failed["externalScore"]["attempts"] == 5  # RULES.md §3: five tries
    assert world.engine_state()["queried"] - queried == 5
    world.control_engine(notReadyAttempts=0)
    again = world.apply(APPROVED_CUSTOMER, "1000", "scored-again")
    assert again["status"] == "PENDING"
    assert world.decided(again["id"])["status"] == "APPROVED"


def test_a_second_application_while_one_is_pending_is_refused(world: ScoringWorld) -> None:
    world.control_engine(mode="down")
    world.subscribe(APPROVED_CUSTOMER)
    first = world.apply(APPROVED_CUSTOMER, "1000", "scored-first")

    second = world.apply(APPROVED_CUSTOMER, "2000", "scored-second")

    assert first["status"] == "PENDING"
    assert second["code"] == "APPLICATION_PENDING"


def test_an_unsubscribed_customer_cannot_apply_for_a_scored_product(world: ScoringWorld) -> None:
    refused = world.apply(APPROVED_CUSTOMER, "1000", "scored-stranger")
    assert refused["code"] == "CUSTOMER_NOT_FOUND"


def test_the_cbs_down_at_subscription_is_a_typed_error_and_stores_nothing(
    world: ScoringWorld,
) -> None:
    for controls in ({"mode": "down"}, {"mode": "fault"}, {"delaySeconds": 3}):
        world.control_cbs(**controls)
        refused = world.subscribe(APPROVED_CUSTOMER, username="w", password="a long password")
        assert refused["code"] == "CORE_BANKING_UNAVAILABLE", controls
    world.control_cbs(mode="garbled")
    assert world.subscribe(APPROVED_CUSTOMER)["code"] == "CORE_BANKING_BAD_REPLY"
    assert _count(world, Customer) == 0
    world.control_cbs(mode="ok")
    assert world.subscribe(APPROVED_CUSTOMER)["__typename"] == "SubscribeCustomerSuccess"


def test_unknown_and_repeated_customer_numbers_are_typed_errors(world: ScoringWorld) -> None:
    assert world.subscribe("123456789")["code"] == "CUSTOMER_NOT_IN_CORE_BANKING"
    assert world.subscribe("12")["code"] == "INVALID_INPUT"
    assert world.subscribe("500000003")["__typename"] == "SubscribeCustomerSuccess"  # generated
    assert world.subscribe("500000003")["code"] == "CUSTOMER_ALREADY_SUBSCRIBED"
    assert _count(world, Customer) == 1


def test_a_request_made_while_the_engine_is_down_completes_once_it_is_back(
    world: ScoringWorld,
) -> None:
    world.control_engine(mode="down")
    world.subscribe(APPROVED_CUSTOMER, username="wanjiru", password="a long password")
    own = world.sign_in("wanjiru", "a long password")
    pending = world.apply(APPROVED_CUSTOMER, "5000", "scored-outage")
    assert pending["status"] == "PENDING"
    world.decided(pending["id"], timeout=1.0)  # an outage of a second or so
    waiting = world.application(pending["id"])
    assert waiting["status"] == "PENDING"
    assert "HTTP 503" in (waiting["externalScore"]["lastError"] or "")
    assert "core banking" not in (waiting["externalScore"]["lastError"] or "")
    seen_by_customer = world.application(pending["id"], token=own)["externalScore"]
    assert seen_by_customer["stage"] == "INITIATE" and seen_by_customer["lastError"] is None

    world.control_engine(mode="ok")

    decided = world.decided(pending["id"])
    assert decided["status"] == "APPROVED"
    assert decided["externalScore"]["lastError"] is None
    assert _count(world, JournalEntry) == 1  # one disbursement


def test_with_core_banking_down_the_last_error_blames_core_banking_not_the_engine(
    world: ScoringWorld,
) -> None:
    """Issue 21, point 8: the engine fails because it reads the customer's transactions back
    from Lendgraph, whose core banking lookup fails; lastError names the core banking
    system, and what the engine answered."""
    world.subscribe(APPROVED_CUSTOMER)
    world.control_cbs(mode="down")
    pending = world.apply(APPROVED_CUSTOMER, "5000", "scored-cbs-down")
    world.decided(pending["id"], timeout=1.0)
    waiting = world.application(pending["id"])
    last_error = waiting["externalScore"]["lastError"] or ""
    assert waiting["status"] == "PENDING"
    assert last_error.startswith("core banking unavailable: HTTP 503"), last_error
    assert "the engine then answered: initiateQueryScore answered HTTP 502" in last_error

    world.control_cbs(mode="ok")

    decided = world.decided(pending["id"])
    assert decided["status"] == "APPROVED"
    assert decided["externalScore"]["lastError"] is None


APPLICATION_EVENTS = (
    "subscription { applicationUpdated { applicationId productCode status loanId "
    "reasons { code } } }"
)


def test_each_status_change_reaches_the_customer_live_and_no_one_else(
    world: ScoringWorld,
) -> None:
    world.subscribe(APPROVED_CUSTOMER, username="wanjiru", password="a long password")
    world.subscribe("318411216", username="otieno", password="a long password")
    own, other = (
        world.sign_in("wanjiru", "a long password"),
        world.sign_in("otieno", "a long password"),
    )
    with (
        open_subscription(world.lendgraph, own, APPLICATION_EVENTS) as mine,
        open_subscription(world.lendgraph, own, "subscription { loanUpdated { status } }") as loan,
        open_subscription(world.lendgraph, other, APPLICATION_EVENTS) as theirs,
    ):
        time.sleep(0.3)  # the subscriptions are registered with the hub
        pending = world.apply(None, "1000", "scored-live", token=own)

        first = next_message(mine)["payload"]["data"]["applicationUpdated"]
        second = next_message(mine)["payload"]["data"]["applicationUpdated"]
        made = next_message(loan)["payload"]["data"]["loanUpdated"]

        assert first["applicationId"] == pending["id"] and first["status"] == "PENDING"
        assert first["productCode"] == "SCORED_MICRO" and first["loanId"] is None
        assert second["status"] == "APPROVED" and second["loanId"] is not None
        assert [r["code"] for r in second["reasons"]] == ["EXTERNAL_SCORE"]
        assert made["status"] == "ACTIVE"
        with pytest.raises(TimeoutError):
            theirs.recv(timeout=0.5)


REGISTER = """mutation { registerCustomer(input: {firstName: "Asha", lastName: "Rao",
  phone: "+919800000001", age: 34, monthlyIncome: "50000"}) { __typename } }"""


def test_a_slow_cbs_holds_up_no_other_request(world: ScoringWorld) -> None:
    world.control_cbs(delaySeconds=1.5)
    finished: list[str] = []

    def subscribe() -> None:
        world.subscribe(APPROVED_CUSTOMER)
        finished.append("subscribe")

    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(subscribe)
        time.sleep(0.4)  # the subscription is now waiting for the CBS
        registered = world.client.execute(REGISTER, token=world.staff_token)
        finished.append("register")
        slow.result()

    assert registered.data["registerCustomer"]["__typename"] == "RegisterCustomerSuccess"
    assert finished == ["register", "subscribe"]  # the write did not wait for the CBS
    assert _count(world, Customer) == 2


def test_a_request_outside_the_products_rules_is_rejected_without_asking_the_engine(
    world: ScoringWorld,
) -> None:
    world.subscribe(APPROVED_CUSTOMER)
    initiated = world.engine_state()["initiated"]

    too_small = world.apply(APPROVED_CUSTOMER, "50", "scored-too-small")

    assert too_small["status"] == "REJECTED"
    decided = world.application(too_small["id"])
    assert [r["code"] for r in decided["reasons"]] == ["AMOUNT_OUT_OF_RANGE"]
    assert decided["externalScore"] is None
    assert world.engine_state()["initiated"] == initiated


def test_a_customer_the_bank_marks_inactive_is_refused(world: ScoringWorld) -> None:
    world.subscribe(APPROVED_CUSTOMER)
    with world.lendgraph.runtime.session_factory() as session:
        session.exec(update(Customer).values(status=CustomerStatus.INACTIVE))
        session.commit()

    refused = world.apply(APPROVED_CUSTOMER, "1000", "scored-inactive")

    assert refused["status"] == "REJECTED"
    codes = [r["code"] for r in world.application(refused["id"])["reasons"]]
    assert codes == ["CUSTOMER_INACTIVE"]


APPLICATIONS = """
query($n: Int!) { applications(first: $n, productCode: "SCORED_MICRO") { edges { node {
  id status product { code } customer { firstName } loan { number }
  externalScore { stage score limit { amount } } } } } }
"""


def test_listing_scored_applications_costs_the_same_queries_for_two_or_six(
    world: ScoringWorld,
) -> None:
    numbers = ["500000001", "500000002", "500000003", "500000004", "500000005", APPROVED_CUSTOMER]
    ids = []
    for number in numbers:
        world.subscribe(number)
        ids.append(world.apply(number, "100", f"scored-many-{number}")["id"])
    for gid in ids:
        world.decided(gid)
    engine = world.lendgraph.runtime.engine
    counts = []
    for query, variables in ((APPLICATIONS, {"n": 2}), (APPLICATIONS, {"n": 6})):
        with count_statements(engine) as counter:
            world.client.execute(query, variables, world.staff_token)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
