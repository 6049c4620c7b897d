"""Who may receive which loan events: decided once when a subscription starts, then checked
for every event before it is delivered.

A customer receives events of their own loans, a provider those of loans it funds (amounts
and dates only), staff every loan's. Asking for one loan the viewer may not see is refused
as if the loan did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from domain.customers import customer_of_user
from domain.errors import DomainError, NotAuthenticated, PermissionDenied
from domain.funding import Funding
from domain.loans import Loan
from domain.payments import LoanNotFound
from domain.providers import provider_of_user
from domain.users import Role, User
from resolvers.context import RequestContext, Viewer

NOBODY = -1


@dataclass(frozen=True)
class Audience:
    """One subscriber: who they are, and the one loan they asked for (None = all theirs)."""

    role: Role
    customer_id: int | None = None
    provider_id: int | None = None
    loan_id: int | None = None

    @property
    def amounts_and_dates_only(self) -> bool:
        return self.role is Role.PROVIDER

    def admits(self, event: dict[str, Any]) -> bool:
        """Whether this subscriber may receive `event` (checked for every event)."""
        if self.loan_id is not None and event.get("loanId") != self.loan_id:
            return False
        if self.role is Role.STAFF:
            return True
        if self.role is Role.CUSTOMER:
            return event.get("customerId") == self.customer_id
        return self.provider_id in (event.get("providerIds") or [])


def _audience(session: Session, viewer: Viewer, loan_id: int | None) -> Audience:
    if viewer.role is Role.STAFF:
        audience = Audience(Role.STAFF, loan_id=loan_id)
        loan = session.get(Loan, loan_id) if loan_id is not None else None
        if loan_id is not None and loan is None:
            raise LoanNotFound()
        return audience
    if viewer.role is Role.CUSTOMER:
        own = customer_of_user(session, viewer.user_id)
        mine = own.id if own is not None and own.id is not None else NOBODY
        if loan_id is not None:
            loan = session.get(Loan, loan_id)
            if loan is None or loan.customer_id != mine:
                raise LoanNotFound()
        return Audience(Role.CUSTOMER, customer_id=mine, loan_id=loan_id)
    if viewer.role is Role.PROVIDER:
        provider = provider_of_user(session, session.get(User, viewer.user_id))
        pid = provider.id if provider is not None and provider.id is not None else NOBODY
        if loan_id is not None:
            funds = session.exec(
                select(Funding.id).where(Funding.loan_id == loan_id, Funding.provider_id == pid)
            ).first()
            if funds is None:
                raise LoanNotFound()
        return Audience(Role.PROVIDER, provider_id=pid, loan_id=loan_id)
    raise PermissionDenied()


def audience(context: RequestContext, loan_id: int | None) -> Audience | DomainError:
    """The subscriber's audience, or why they may not subscribe (a loan id that names no
    loan they may see, or no sign-in). Opens a short session of its own."""
    viewer = context.viewer
    if viewer is None:
        return NotAuthenticated()
    if context.open_session is None:
        raise RuntimeError("subscriptions need a session factory in the request context")
    with context.open_session() as session:
        try:
            return _audience(session, viewer, loan_id)
        except DomainError as error:
            return error
