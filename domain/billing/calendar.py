"""The business day (RULES.md §0, §4, §5): the date the bank's books are on, distinct from the
wall clock. Every rule takes its "as of" from here; staff may pin it in development and tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Field, Session, SQLModel, select

from domain.errors import DomainError
from domain.tables import timestamp_column
from domain.upsert import insert_ignoring_conflicts

SINGLETON = 1


class BusinessCalendar(SQLModel, table=True):
    __tablename__ = "business_calendar"

    id: int = Field(default=SINGLETON, primary_key=True)
    pinned_date: date | None = None  # None: the UTC date of the wall clock
    closed_through: date | None = None  # the last business day whose close completed
    updated_at: datetime = Field(sa_column=timestamp_column())


class BusinessDateFixed(DomainError):
    code = "BUSINESS_DATE_FIXED"

    def __init__(self) -> None:
        super().__init__("The business date follows the clock in production; it cannot be set.")


def calendar(session: Session, now: datetime, *, lock: bool = False) -> BusinessCalendar:
    """The calendar row; reading it writes nothing (a fresh database has none yet)."""
    statement = select(BusinessCalendar).where(BusinessCalendar.id == SINGLETON)
    row = session.exec(statement.with_for_update() if lock else statement).first()
    if row is None and lock:
        insert_ignoring_conflicts(session, BusinessCalendar, [{"id": SINGLETON, "updated_at": now}])
        row = session.exec(statement.with_for_update()).one()
    return row or BusinessCalendar(updated_at=now)


def business_date(session: Session, now: datetime) -> date:
    return calendar(session, now).pinned_date or now.date()


def pin_business_date(
    session: Session, day: date | None, now: datetime, *, allowed: bool
) -> BusinessCalendar:
    """Set (or with None, unpin) the business date; `allowed` is false in production."""
    if not allowed:
        raise BusinessDateFixed()
    row = calendar(session, now, lock=True)
    row.pinned_date, row.updated_at = day, now
    session.add(row)
    session.flush()
    return row


def days_between(first: date, last: date) -> list[date]:
    """Every day from `first` through `last` (none when `last` is before `first`)."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
