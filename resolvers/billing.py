"""The business day and close-of-business runs: read by anyone signed in (the date), run and
watched by STAFF."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from domain.billing import runs as domain
from domain.billing.calendar import BusinessCalendar, calendar, pin_business_date
from domain.billing.runs import BillingRun
from domain.errors import DomainError
from domain.origination import by_ids
from domain.pagination import Page
from domain.users import Role
from resolvers.context import RequestContext
from resolvers.loaders import KeyedLoader
from resolvers.use_case import require_viewer, run_use_case


class RunFailuresLoader(KeyedLoader):
    def fetch(self, ids: list[int]) -> dict[int, object]:
        return dict(domain.failures_of(self._context.db, ids))


def business_day(context: RequestContext) -> BusinessCalendar | None:
    if context.viewer is None:
        return None
    return calendar(context.db, context.now())


def set_business_date(context: RequestContext, day: date | None) -> BusinessCalendar | DomainError:
    def use_case(session: Session) -> BusinessCalendar:
        require_viewer(context, Role.STAFF)
        allowed = context.business_date_settable
        return pin_business_date(session, day, context.now(), allowed=allowed)

    return run_use_case(context, use_case)


def run_billing(context: RequestContext, as_of: date) -> list[BillingRun] | DomainError:
    def use_case(session: Session) -> list[BillingRun]:
        require_viewer(context, Role.STAFF)
        return domain.request_close(session, as_of, context.now())

    result = run_use_case(context, use_case)
    if not isinstance(result, DomainError):
        context.loader(RunFailuresLoader).prime(run.id for run in result)
    return result


def runs_page(context: RequestContext, first: int, after: int | None) -> Page[BillingRun]:
    require_viewer(context, Role.STAFF)
    page = domain.runs_page(context.db, first, after)
    context.loader(RunFailuresLoader).prime(run.id for run in page.items)
    return page


def visible_runs(context: RequestContext, ids: list[int]) -> dict[int, BillingRun]:
    if context.viewer is None or context.viewer.role is not Role.STAFF:
        return {}
    found: dict[int, BillingRun] = by_ids(context.db, BillingRun, ids)
    context.loader(RunFailuresLoader).prime(found)
    return found
