"""Notifications: `me { notifications }`, markNotificationsRead, and their event type."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry import relay

from domain import notifications as domain
from resolvers import notifications as resolvers
from schema.errors import InvalidInputError, NotAuthenticatedError, outcome_of
from schema.global_ids import rows_of
from schema.info import Info


@strawberry.enum(description="What a notification is about.")
class NotificationKind(enum.Enum):
    LOAN_DECIDED = strawberry.enum_value(
        "LOAN_DECIDED", description="A loan application was approved or refused."
    )
    PAYMENT_RECEIVED = strawberry.enum_value(
        "PAYMENT_RECEIVED", description="A payment was booked on one of your loans."
    )
    DELINQUENCY_WARNING = strawberry.enum_value(
        "DELINQUENCY_WARNING", description="A loan of yours became delinquent (missed dues)."
    )
    PAYMENT_REMINDER = strawberry.enum_value(
        "PAYMENT_REMINDER", description="A payment falls due in a few days."
    )
    MISSED_PAYMENT = strawberry.enum_value(
        "MISSED_PAYMENT", description="A payment was not made by its due date."
    )
    BILL_ISSUED = strawberry.enum_value("BILL_ISSUED", description="A credit-card bill was issued.")


@strawberry.type(description="A message for the signed-in user.")
class Notification:
    id: relay.GlobalID = strawberry.field(description="Global id of the notification.")
    kind: NotificationKind = strawberry.field(description="What it is about.")
    title: str = strawberry.field(description="One line for a list.")
    body: str = strawberry.field(description="The message.")
    loan_id: relay.GlobalID | None = strawberry.field(description="The loan it concerns.")
    created_at: datetime = strawberry.field(description="When it was raised.")
    read: bool = strawberry.field(description="Marked read with markNotificationsRead.")

    @classmethod
    def from_model(cls, row: domain.Notification) -> Notification:
        return cls(
            id=relay.GlobalID("Notification", str(row.id)),
            kind=NotificationKind(row.kind.value),
            title=row.title,
            body=row.body,
            loan_id=relay.GlobalID("Loan", str(row.loan_id)) if row.loan_id else None,
            created_at=row.created_at,
            read=row.read_at is not None,
        )

    @classmethod
    def from_event(cls, payload: dict[str, Any]) -> Notification:
        loan = payload.get("loanId")
        return cls(
            id=relay.GlobalID("Notification", str(payload["notificationId"])),
            kind=NotificationKind(payload["kind"]),
            title=payload["title"],
            body=payload["body"],
            loan_id=relay.GlobalID("Loan", str(loan)) if loan else None,
            created_at=datetime.fromisoformat(payload["createdAt"]),
            read=False,
        )


@strawberry.input(description="Which notifications to mark read.")
class MarkNotificationsReadInput:
    ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="These notifications; null marks every one read."
    )


@strawberry.type(description="How many notifications were marked read.")
class NotificationsMarkedRead:
    updated: int = strawberry.field(description="Notifications that were unread until now.")


MarkNotificationsReadResult = Annotated[
    NotificationsMarkedRead | InvalidInputError | NotAuthenticatedError,
    strawberry.union("MarkNotificationsReadResult", description="The count, or why not."),
]


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(description="Mark your notifications read (some, or all).")
    def mark_notifications_read(
        self,
        info: Info,
        input: Annotated[MarkNotificationsReadInput, strawberry.argument(description="Which.")],
    ) -> MarkNotificationsReadResult:
        return outcome_of(
            lambda: resolvers.mark_read(info.context, rows_of(input.ids, "Notification", "ids")),
            lambda n: NotificationsMarkedRead(updated=n),
        )
