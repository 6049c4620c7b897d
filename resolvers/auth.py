"""Sign-in mutations and the `me` query."""

from __future__ import annotations

from sqlmodel import Session

from domain import sign_in
from domain.errors import DomainError, FieldProblem, InvalidInput
from domain.sign_in import IssuedTokens
from domain.users import User
from resolvers.context import RequestContext
from resolvers.use_case import admit_anonymous, run_use_case

MAX_CREDENTIAL_LENGTH = 1024
MAX_USERNAME_LENGTH = 64


def _check_present(**fields: str) -> None:
    problems = [
        FieldProblem(name, "is required" if not value else "is too long")
        for name, value in fields.items()
        if not value or len(value) > MAX_CREDENTIAL_LENGTH
    ]
    if problems:
        raise InvalidInput(problems)


def login(context: RequestContext, username: str, password: str) -> IssuedTokens | DomainError:
    refused = admit_anonymous(context, username)
    if refused is not None:
        return refused

    def use_case(session: Session) -> IssuedTokens:
        _check_present(username=username, password=password)
        if len(username) > MAX_USERNAME_LENGTH:
            raise InvalidInput([FieldProblem("username", "is too long")])
        return sign_in.log_in(session, context.sign_in, username, password, context.now())

    return run_use_case(context, use_case)


def refresh(context: RequestContext, refresh_token: str) -> IssuedTokens | DomainError:
    refused = admit_anonymous(context)
    if refused is not None:
        return refused

    def use_case(session: Session) -> IssuedTokens:
        _check_present(refreshToken=refresh_token)
        return sign_in.refresh(session, context.sign_in, refresh_token, context.now())

    return run_use_case(context, use_case)


def logout(context: RequestContext, refresh_token: str) -> bool | DomainError:
    def use_case(session: Session) -> bool:
        _check_present(refreshToken=refresh_token)
        return sign_in.log_out(session, refresh_token, context.now())

    return run_use_case(context, use_case)


def me(context: RequestContext) -> User | None:
    return None if context.viewer is None else context.db.get(User, context.viewer.user_id)
