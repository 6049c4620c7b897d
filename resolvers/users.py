"""User lookups: staff see everyone; anyone else sees only themself."""

from __future__ import annotations

from sqlmodel import select

from domain.pagination import Page, page_by_id
from domain.users import Role, User, users_by_ids
from resolvers.context import RequestContext
from resolvers.use_case import require_viewer


def users_page(context: RequestContext, first: int, after: int | None) -> Page[User]:
    require_viewer(context, Role.STAFF)
    return page_by_id(context.db, select(User), User.id, first, after)


def visible_users(context: RequestContext, ids: list[int]) -> dict[int, User]:
    """The users among `ids` that the viewer may see (others are simply absent)."""
    viewer = context.viewer
    if viewer is None:
        return {}
    if not viewer.is_staff:
        ids = [i for i in ids if i == viewer.user_id]
    return users_by_ids(context.db, ids)
