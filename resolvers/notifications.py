"""A signed-in user's own notifications: reading them and marking them read."""

from __future__ import annotations

from sqlmodel import Session

from domain import notifications as domain
from domain.errors import DomainError
from domain.pagination import Page
from resolvers.context import RequestContext
from resolvers.use_case import require_viewer, run_use_case


def my_notifications(
    context: RequestContext, first: int, after: int | None, unread_only: bool
) -> Page[domain.Notification]:
    viewer = require_viewer(context)
    return domain.notifications_page(context.db, viewer.user_id, first, after, unread_only)


def mark_read(context: RequestContext, ids: list[int] | None) -> int | DomainError:
    def use_case(session: Session) -> int:
        viewer = require_viewer(context)
        return domain.mark_read(session, viewer.user_id, ids, context.now())

    return run_use_case(context, use_case)
