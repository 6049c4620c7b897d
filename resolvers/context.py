"""What every resolver gets: who is asking, one database session, and the request id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlmodel import Session

from domain.billing.calendar import business_date
from domain.core_banking import CoreBanking
from domain.ports import AttemptBudget
from domain.sign_in import SignInPolicy
from domain.tables import utcnow
from domain.unit_of_work import AfterCommit, UnitOfWork
from domain.users import Role

L = TypeVar("L")


class SubscriberTooSlow(Exception):
    """An event stream's subscriber did not keep up and was cut off (raised by the hub)."""


class EventsMissed(Exception):
    """The hub lost its event feed and could not replay what was sent meanwhile: the
    subscriber may have missed events and must refetch (raised by the hub)."""


@dataclass(frozen=True)
class Viewer:
    """The signed-in user behind a request, as proven by their access token."""

    user_id: int
    role: Role
    token_id: str
    token_expires_at: datetime
    session_version: int  # the user's, when the token was issued (a sign-out moves it on)

    @property
    def is_staff(self) -> bool:
        return self.role is Role.STAFF


@dataclass
class RequestContext:
    """Built per GraphQL operation; `session` is opened in the operation's worker thread."""

    request_id: str
    sign_in: SignInPolicy
    after_commit: AfterCommit
    viewer: Viewer | None = None
    client_address: str | None = None
    session: Session | None = None
    connection_params: dict[str, Any] | None = None
    operation_name: str | None = None  # as the document names it, for metrics and logs
    # Websockets only: sessions of their own (a subscription outlives any one transaction)
    # and the event hub's stream of a topic.
    open_session: Callable[[], Session] | None = None
    events: (
        Callable[[str, Callable[[dict[str, Any]], bool]], AsyncIterator[dict[str, Any]]] | None
    ) = None
    extras: dict[Any, Any] = field(default_factory=dict)
    core_banking: CoreBanking | None = None  # the bank's CBS, for onboarding (RULES.md §3)
    cbs_currency: str = "KES"
    business_date_settable: bool = False  # development and tests only, never production
    attempts: AttemptBudget | None = None  # budgets of anonymous sign-in attempts (None: none)
    attempt_refused: bool = False  # an attempt was over budget: the answer is held back

    @property
    def db(self) -> Session:
        if self.session is None:
            raise RuntimeError("no database session is open for this operation")
        return self.session

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.after_commit)

    def now(self) -> datetime:
        return utcnow()

    def today(self) -> date:
        """The business date (RULES.md: every rule runs as of it), once per operation."""
        if "business_date" not in self.extras:
            if self.session is None:
                return self.now().date()
            self.extras["business_date"] = business_date(self.session, self.now())
        day: date = self.extras["business_date"]
        return day

    def loader(self, kind: Callable[[RequestContext], L]) -> L:
        """The request's one instance of a batch loader (see resolvers.loaders)."""
        if kind not in self.extras:
            self.extras[kind] = kind(self)
        loaded: L = self.extras[kind]
        return loaded
