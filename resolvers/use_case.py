"""Running one use case as one transaction, with refusals returned as values."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from domain.errors import DomainError, NotAuthenticated, PermissionDenied
from domain.users import Role
from resolvers.context import RequestContext, Viewer

T = TypeVar("T")


def run_use_case(context: RequestContext, use_case: Callable[[Session], T]) -> T | DomainError:
    """Commit on success; on a DomainError roll back (or keep, if the rule says so)."""
    uow = context.unit_of_work()
    with uow.transaction():
        try:
            result = use_case(uow.session)
        except DomainError as error:
            if error.commit_changes:
                uow.commit()
            return error
        uow.commit()
        return result


def require_viewer(context: RequestContext, *roles: Role) -> Viewer:
    """The signed-in viewer, in one of `roles` when any are given."""
    if context.viewer is None:
        raise NotAuthenticated()
    if roles and context.viewer.role not in roles:
        raise PermissionDenied()
    return context.viewer
