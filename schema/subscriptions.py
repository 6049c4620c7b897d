"""Real-time events over graphql-transport-ws: paymentReceived, loanUpdated,
applicationUpdated and notificationReceived."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator, Callable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import anyio
import strawberry
import structlog
from graphql import GraphQLError
from strawberry import relay

from domain.application_events import APPLICATION_UPDATED
from domain.errors import InvalidInput
from domain.money import Money as DomainMoney
from domain.notifications import NOTIFICATION_RECEIVED
from domain.tables import utcnow
from resolvers import subscriptions as resolvers
from resolvers.context import EventsMissed, SubscriberTooSlow
from schema.eligibility import DecisionReason
from schema.global_ids import optional_row_of
from schema.info import Info
from schema.loans import ApplicationStatus, LoanStatus
from schema.payments import AllocationKind
from schema.scalars import Money

if TYPE_CHECKING:
    from schema.notifications import Notification

T = TypeVar("T")
log = structlog.get_logger(__name__)
SEEN_MESSAGES = 512  # a message relayed twice (after a crash) is delivered once


def _money(text: str | None, currency: str) -> Money | None:
    if text is None:
        return None
    return Money.from_domain(DomainMoney(Decimal(text), currency))


@strawberry.type(description="One part of a payment, as the event reports it.")
class EventAllocation:
    kind: AllocationKind = strawberry.field(description="An installment or a prepayment.")
    installment_number: int | None = strawberry.field(description="The installment paid.")
    due_date: date | None = strawberry.field(description="Its due date.")
    principal: Money = strawberry.field(description="Principal paid.")
    interest: Money = strawberry.field(description="Interest paid.")


@strawberry.interface(description="Something that happened to a loan.")
class LoanEvent:
    event_id: str = strawberry.field(
        description="Unique per event (the same event is never delivered twice)."
    )
    sequence: int = strawberry.field(
        description="The loan's own event counter, shared by paymentReceived and "
        "loanUpdated: 1, 2, 3... Subscribe to both to see every number; events may arrive a "
        "little out of order, so a number still missing once later ones have arrived means "
        "an event was missed: refetch the loan. Ignore numbers at or below one already seen."
    )
    loan_id: relay.GlobalID = strawberry.field(description="The loan's global id.")
    loan_number: int = strawberry.field(description="The loan number people quote.")
    status: LoanStatus = strawberry.field(description="The loan's status after the event.")
    outstanding: Money | None = strawberry.field(
        description="Principal and interest still owed after it; null for providers."
    )
    occurred_at: datetime = strawberry.field(description="When it happened.")


def _common(payload: dict[str, Any], audience: resolvers.Audience) -> dict[str, Any]:
    currency = payload["currency"]
    hidden = audience.amounts_and_dates_only
    return {
        "event_id": str(payload["messageId"]),
        "sequence": int(payload["sequence"]),
        "loan_id": relay.GlobalID("Loan", str(payload["loanId"])),
        "loan_number": int(payload["loanNumber"]),
        "status": LoanStatus(payload["status"]),
        "outstanding": None if hidden else _money(payload.get("outstanding"), currency),
        "occurred_at": datetime.fromisoformat(payload["occurredAt"]),
    }


@strawberry.type(
    description="A payment was booked on a loan. Providers get amounts and dates only."
)
class PaymentReceivedEvent(LoanEvent):
    payment_id: relay.GlobalID | None = strawberry.field(
        description="The payment's global id; null for providers."
    )
    amount: Money = strawberry.field(description="Amount paid.")
    paid_on: date = strawberry.field(description="The day it was paid.")
    principal: Money | None = strawberry.field(description="Of which principal.")
    interest: Money | None = strawberry.field(description="Of which interest.")
    allocations: list[EventAllocation] | None = strawberry.field(
        description="Where it went, in order; null for providers."
    )

    @classmethod
    def from_payload(
        cls, payload: dict[str, Any], audience: resolvers.Audience
    ) -> PaymentReceivedEvent:
        currency, hidden = payload["currency"], audience.amounts_and_dates_only
        amount = _money(payload["amount"], currency)
        assert amount is not None
        return cls(
            **_common(payload, audience),
            payment_id=None if hidden else relay.GlobalID("Payment", str(payload["paymentId"])),
            amount=amount,
            paid_on=date.fromisoformat(payload["paidOn"]),
            principal=None if hidden else _money(payload["principal"], currency),
            interest=None if hidden else _money(payload["interest"], currency),
            allocations=None
            if hidden
            else [
                EventAllocation(
                    kind=AllocationKind(a["kind"]),
                    installment_number=a["installmentNumber"],
                    due_date=date.fromisoformat(a["dueDate"]) if a["dueDate"] else None,
                    principal=Money.from_domain(DomainMoney(Decimal(a["principal"]), currency)),
                    interest=Money.from_domain(DomainMoney(Decimal(a["interest"]), currency)),
                )
                for a in payload.get("allocations", [])
            ],
        )


@strawberry.type(description="A loan's status changed (made, paid out, closed...).")
class LoanUpdatedEvent(LoanEvent):
    @classmethod
    def from_payload(
        cls, payload: dict[str, Any], audience: resolvers.Audience
    ) -> LoanUpdatedEvent:
        return cls(**_common(payload, audience))


@strawberry.type(
    description="A loan application was stored or its status changed: PENDING while the "
    "external scoring engine decides, then APPROVED (with its loan), REJECTED or FAILED."
)
class ApplicationUpdatedEvent:
    event_id: str = strawberry.field(description="Unique per event.")
    application_id: relay.GlobalID = strawberry.field(description="The application's id.")
    product_code: str = strawberry.field(description="The product applied for.")
    status: ApplicationStatus = strawberry.field(description="Its status after the change.")
    loan_id: relay.GlobalID | None = strawberry.field(description="The loan, once approved.")
    reasons: list[DecisionReason] = strawberry.field(description="Every rule that decided it.")
    occurred_at: datetime = strawberry.field(description="When it happened.")

    @classmethod
    def from_payload(cls, payload: dict[str, Any], _: Any) -> ApplicationUpdatedEvent:
        loan, reasons = payload.get("loanId"), payload["reasons"]
        return cls(
            event_id=str(payload["messageId"]),
            application_id=relay.GlobalID("LoanApplication", str(payload["applicationId"])),
            product_code=str(payload["productCode"]),
            status=ApplicationStatus(payload["status"]),
            loan_id=relay.GlobalID("Loan", str(loan)) if loan is not None else None,
            reasons=[DecisionReason(code=r["code"], message=r["message"]) for r in reasons],
            occurred_at=datetime.fromisoformat(payload["occurredAt"]),
        )


LoanArg = Annotated[
    strawberry.ID | None,
    strawberry.argument(description="Only this loan; without it, every loan the viewer sees."),
]


async def _events(
    info: Info, topic: str, loan: strawberry.ID | None
) -> AsyncGenerator[tuple[dict[str, Any], resolvers.Audience], None]:
    """The topic's events this viewer may receive, each checked as it arrives."""
    context = info.context
    try:
        loan_id = optional_row_of(loan, "Loan", "loanId")
    except InvalidInput as refused:
        raise GraphQLError(refused.message, extensions={"code": refused.code}) from None
    audience = await anyio.to_thread.run_sync(resolvers.audience, context, loan_id)
    if not isinstance(audience, resolvers.Audience):
        raise GraphQLError(audience.message, extensions={"code": audience.code})
    if context.events is None:
        raise RuntimeError("subscriptions need the event hub in the request context")
    async for payload in _delivered(context, topic, audience.admits):
        yield payload, audience


async def _delivered(
    context: Any, topic: str, wanted: Callable[[dict[str, Any]], bool]
) -> AsyncGenerator[dict[str, Any], None]:
    """Events `wanted` lets through (checked before they are queued), each once, while the
    viewer's token is valid; a subscriber that falls behind is told so and ended."""
    viewer = context.viewer
    seen: deque[str] = deque(maxlen=SEEN_MESSAGES)
    try:
        async for payload in context.events(topic, wanted):
            if viewer is None or viewer.token_expires_at <= utcnow():
                raise GraphQLError(
                    "The access token expired.", extensions={"code": "UNAUTHENTICATED"}
                )
            message = str(payload.get("messageId"))
            if message in seen:
                continue
            seen.append(message)
            yield payload
    except SubscriberTooSlow:
        raise GraphQLError(
            "Events arrived faster than this connection read them; subscribe again and refetch.",
            extensions={"code": "TOO_SLOW"},
        ) from None
    except EventsMissed:
        raise GraphQLError(
            "The server lost its event feed and could not replay what was sent meanwhile, so "
            "events may have been missed; refetch what you show and subscribe again.",
            extensions={"code": "EVENTS_MISSED"},
        ) from None


async def _own_events(info: Info, topic: str) -> AsyncGenerator[dict[str, Any], None]:
    """The topic's events addressed to the signed-in user, once each."""
    context, viewer = info.context, info.context.viewer
    if viewer is None or context.events is None:
        raise GraphQLError("Sign in to subscribe.", extensions={"code": "NOT_AUTHENTICATED"})
    user_id = viewer.user_id
    async for payload in _delivered(context, topic, lambda p: p.get("userId") == user_id):
        yield payload


def _parsed(build: Callable[..., T], payload: dict[str, Any], audience: Any) -> T | None:
    """The event type, or None (logged) for a payload in an older or foreign shape."""
    try:
        return build(payload, audience)
    except (KeyError, TypeError, ValueError):
        log.warning("event_payload_skipped", message_id=payload.get("messageId"))
        return None


@strawberry.type(
    description="Live updates, over graphql-transport-ws at /graphql. Each event arrives "
    "once; after a Redis outage the server replays what it missed. A subscription that ends "
    "with an error coded EVENTS_MISSED (the server could not replay what it missed) or "
    "TOO_SLOW (the connection read too slowly) may have missed events: refetch, then "
    "subscribe again."
)
class Subscription:
    @strawberry.subscription(
        description="Payments as they are booked, from any API process or worker: a "
        "customer's own loans, a provider's funded loans (amounts and dates only), or any "
        "loan for STAFF. Asking for a loan you may not see is an error."
    )
    async def payment_received(
        self, info: Info, loan_id: LoanArg = None
    ) -> AsyncGenerator[PaymentReceivedEvent, None]:
        async for payload, audience in _events(info, "paymentReceived", loan_id):
            event = _parsed(PaymentReceivedEvent.from_payload, payload, audience)
            if event is not None:
                yield event

    @strawberry.subscription(
        description="Loan status changes as they happen, with the same audience rules "
        "as paymentReceived."
    )
    async def loan_updated(
        self, info: Info, loan_id: LoanArg = None
    ) -> AsyncGenerator[LoanUpdatedEvent, None]:
        async for payload, audience in _events(info, "loanUpdated", loan_id):
            event = _parsed(LoanUpdatedEvent.from_payload, payload, audience)
            if event is not None:
                yield event

    @strawberry.subscription(
        description="Loan applications as they are stored and decided: a customer's own, "
        "or everyone's for STAFF (externally scored ones are decided in the background); "
        "providers receive none."
    )
    async def application_updated(
        self, info: Info
    ) -> AsyncGenerator[ApplicationUpdatedEvent, None]:
        async for payload, audience in _events(info, APPLICATION_UPDATED, None):
            event = _parsed(ApplicationUpdatedEvent.from_payload, payload, audience)
            if event is not None:
                yield event

    @strawberry.subscription(
        description="Your own notifications as they are raised (the same ones "
        "`me { notifications }` lists)."
    )
    async def notification_received(
        self, info: Info
    ) -> AsyncGenerator[Annotated[Notification, strawberry.lazy("schema.notifications")], None]:
        from schema.notifications import Notification as NotificationType

        async for payload in _own_events(info, NOTIFICATION_RECEIVED):
            yield NotificationType.from_event(payload)
