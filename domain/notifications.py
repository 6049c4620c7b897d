"""Notifications: messages stored per user, each announced to that user's subscribers.

Every notification has a dedupe key (kind, loan and what it is about), so raising the same
one twice — a retried job, a replayed request — stores and announces it once. Borrowers
are told when an application is decided and a payment booked, and by the daily close of
reminders, missed payments, delinquency and bills. Each is stored and announced live, and
emailed through an `EmailSender` when one is configured (a job, retried on failure, that
never stores the notification again).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select, update

from domain.customers import Customer
from domain.outbox import emit_event, emit_job
from domain.pagination import Page, page_by_id
from domain.tables import timestamp_column
from domain.upsert import insert_ignoring_conflicts

NOTIFICATION_RECEIVED = "notificationReceived"


DELIVER_ACTOR = "deliver_notification"


class EmailUndeliverable(Exception):
    """The email sender could not hand the message over (raised by senders; retried)."""


class EmailBeingSent(Exception):
    """Another job (a duplicate delivery) is sending this notification's email right now."""

    def __init__(self, notification_id: int) -> None:
        super().__init__(f"notification {notification_id} is being emailed by another job")
        self.notification_id = notification_id


# How long a job may take to send one email before another may try: longer than the SMTP
# timeout, short enough that a job that died mid-send does not hold the email for long.
EMAIL_CLAIM = timedelta(minutes=2)


@dataclass(frozen=True)
class Letter:
    to: str
    subject: str
    body: str


class EmailSender(Protocol):
    """Delivers one email; raises EmailUndeliverable when it could not."""

    def send(self, to: str, subject: str, body: str) -> None: ...


class NotificationKind(enum.StrEnum):
    LOAN_DECIDED = "LOAN_DECIDED"
    PAYMENT_RECEIVED = "PAYMENT_RECEIVED"
    DELINQUENCY_WARNING = "DELINQUENCY_WARNING"
    PAYMENT_REMINDER = "PAYMENT_REMINDER"
    MISSED_PAYMENT = "MISSED_PAYMENT"
    BILL_ISSUED = "BILL_ISSUED"


class Notification(SQLModel, table=True):
    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    kind: NotificationKind = Field(
        sa_type=sa.Enum(NotificationKind, name="notification_kind", native_enum=False, length=32)
    )
    title: str = Field(max_length=120)
    body: str = Field(max_length=500)
    loan_id: int | None = Field(default=None, foreign_key="loans.id")
    dedupe_key: str = Field(max_length=160, sa_column_kwargs={"unique": True, "nullable": False})
    # When it went out by email (null: not yet, or no email sender or address).
    emailed_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    # A job sending it holds it until then, so a duplicate job sends nothing meanwhile.
    email_claimed_until: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True)
    )
    created_at: datetime = Field(sa_column=timestamp_column())
    read_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


def notify(
    session: Session,
    *,
    user_id: int | None,
    kind: NotificationKind,
    about: str,
    title: str,
    body: str,
    loan_id: int | None,
    now: datetime,
) -> None:
    """Store the notification once per (kind, `about`) and announce it to the user's
    subscribers through the outbox. Customers without a sign-in get none."""
    if user_id is None:
        return
    key = f"{kind.value}:{about}"
    row = {
        "user_id": user_id,
        "kind": kind,
        "title": title,
        "body": body,
        "loan_id": loan_id,
        "dedupe_key": key,
        "created_at": now,
        "read_at": None,
    }
    if not insert_ignoring_conflicts(session, Notification, [row]):
        return  # raised before
    stored = session.exec(select(Notification).where(Notification.dedupe_key == key)).one()
    emit_event(
        session,
        NOTIFICATION_RECEIVED,
        userId=user_id,
        notificationId=stored.id,
        kind=kind.value,
        title=title,
        body=body,
        loanId=loan_id,
        createdAt=now.isoformat(),
    )
    emit_job(session, DELIVER_ACTOR, notification_id=stored.id)  # email, when configured


def notifications_page(
    session: Session, user_id: int, first: int, after: int | None, unread_only: bool
) -> Page[Notification]:
    statement = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        statement = statement.where(col(Notification.read_at).is_(None))
    return page_by_id(session, statement, Notification.id, first, after)


def mark_read(session: Session, user_id: int, ids: list[int] | None, now: datetime) -> int:
    """Mark the user's notifications read (these, or all of them); how many changed."""
    statement = (
        update(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=now)
    )
    if ids is not None:
        statement = statement.where(col(Notification.id).in_(ids))
    result = session.exec(statement)
    return int(result.rowcount or 0)


def email_of(session: Session, notification_id: int) -> tuple[Notification, str] | None:
    """The notification and its recipient's address, if it is still to be emailed."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.emailed_at is not None:
        return None
    address = session.exec(
        select(Customer.email).where(Customer.user_id == notification.user_id)
    ).first()
    return (notification, address) if address else None


def claim_email(session: Session, notification_id: int, now: datetime) -> Letter | None:
    """The email to send, held for this job for EMAIL_CLAIM; None when there is nothing
    (left) to send. Raises EmailBeingSent while another job holds it: of two deliveries of
    the same job, one sends and the other finds it sent."""
    found = email_of(session, notification_id)
    if found is None:
        return None
    notification, address = found
    claimed = session.exec(
        update(Notification)
        .where(
            col(Notification.id) == notification_id,
            col(Notification.emailed_at).is_(None),
            sa.or_(
                col(Notification.email_claimed_until).is_(None),
                col(Notification.email_claimed_until) <= now,
            ),
        )
        .values(email_claimed_until=now + EMAIL_CLAIM)
    )
    if not claimed.rowcount:
        raise EmailBeingSent(notification_id)
    return Letter(address, notification.title, notification.body)


def release_email(session: Session, notification_id: int) -> None:
    """The send failed: let the next try claim it at once."""
    session.exec(
        update(Notification)
        .where(col(Notification.id) == notification_id, col(Notification.emailed_at).is_(None))
        .values(email_claimed_until=None)
    )


def mark_emailed(session: Session, notification_id: int, now: datetime) -> None:
    session.exec(
        update(Notification)
        .where(col(Notification.id) == notification_id, col(Notification.emailed_at).is_(None))
        .values(emailed_at=now, email_claimed_until=None)
    )
