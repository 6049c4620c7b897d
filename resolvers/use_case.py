"""Running one use case as one transaction, with refusals returned as values."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from domain import attempts
from domain.errors import DomainError, NotAuthenticated, PermissionDenied, RateLimited
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


def outside_transaction(context: RequestContext, call: Callable[[], T]) -> T | DomainError:
    """Call an outside system (the core banking system) with no transaction open: the
    operation's read-only one so far is ended first, so a slow answer holds no locks."""
    context.db.rollback()
    try:
        return call()
    except DomainError as error:
        return error


def require_viewer(context: RequestContext, *roles: Role) -> Viewer:
    """The signed-in viewer, in one of `roles` when any are given."""
    if context.viewer is None:
        raise NotAuthenticated()
    if roles and context.viewer.role not in roles:
        raise PermissionDenied()
    return context.viewer


def admit_anonymous(context: RequestContext, username: str | None = None) -> RateLimited | None:
    """Spend one anonymous attempt of the caller's address (and of `username`): the refusal
    when a budget is spent, before any transaction or password work starts."""
    try:
        attempts.admit(context.attempts, context.client_address, username)
    except RateLimited as refused:
        context.attempt_refused = True
        return refused
    return None
