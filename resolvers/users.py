"""User lookups: staff see everyone; anyone else sees only themself."""

from __future__ import annotations

from domain import users as domain
from domain.pagination import Page
from domain.users import Role, User
from resolvers.context import RequestContext
from resolvers.use_case import require_viewer


def users_page(context: RequestContext, first: int, after: int | None) -> Page[User]:
    require_viewer(context, Role.STAFF)
    return domain.users_page(context.db, first, after)


def visible_users(context: RequestContext, ids: list[int]) -> dict[int, User]:
    """The users among `ids` that the viewer may see (others are simply absent)."""
    viewer = context.viewer
    if viewer is None:
        return {}
    return domain.visible_users(context.db, viewer.user_id, viewer.role, ids)
