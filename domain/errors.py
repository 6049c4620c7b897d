"""Broken business rules as data: one DomainError subclass per rule, each with a stable code.

Resolvers return these as typed GraphQL union members; codes never change once published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


class DomainError(Exception):
    """A request the business refuses. `code` is stable and machine-readable."""

    code: ClassVar[str] = "DOMAIN_ERROR"
    # Most refusals roll back everything; a few must keep what they recorded (a failed
    # login attempt, a revoked token family) and say so here.
    commit_changes: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FieldProblem:
    """One invalid input field and why."""

    field: str
    message: str


class InvalidInput(DomainError):
    code = "INVALID_INPUT"

    def __init__(self, problems: list[FieldProblem]) -> None:
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(f"Invalid input — {summary}")
        self.problems = problems


class NotAuthenticated(DomainError):
    code = "NOT_AUTHENTICATED"

    def __init__(self) -> None:
        super().__init__("Sign in to do this.")


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"

    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message)


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    commit_changes = True  # the failed attempt counts towards the throttle

    def __init__(self) -> None:
        super().__init__("Username or password is wrong.")


class TooManyLoginAttempts(DomainError):
    code = "TOO_MANY_LOGIN_ATTEMPTS"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"Too many failed sign-ins for this username; try again in {retry_after_seconds} s."
        )
        self.retry_after_seconds = retry_after_seconds


class InvalidRefreshToken(DomainError):
    code = "INVALID_REFRESH_TOKEN"
    commit_changes = True  # reuse of a rotated token revokes its whole family

    def __init__(self, message: str = "The refresh token is invalid, expired or revoked.") -> None:
        super().__init__(message)


class UsernameTaken(DomainError):
    code = "USERNAME_TAKEN"

    def __init__(self, username: str) -> None:
        super().__init__(f"The username {username!r} is already taken.")
        self.username = username


class UnknownUser(DomainError):
    code = "USER_NOT_FOUND"

    def __init__(self, username: str) -> None:
        super().__init__(f"There is no user {username!r}.")
        self.username = username


class IdempotencyConflict(DomainError):
    code = "IDEMPOTENCY_CONFLICT"

    def __init__(self, key: str) -> None:
        super().__init__(f"You already used the idempotency key {key!r} for a different request.")
        self.key = key


class RateLimited(DomainError):
    code = "RATE_LIMITED"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "Too many attempts from this address or for this username; "
            f"try again in {retry_after_seconds} s."
        )
        self.retry_after_seconds = retry_after_seconds
