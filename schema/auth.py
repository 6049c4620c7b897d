"""Sign-in: login, token refresh and logout, with their inputs and results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain.sign_in import IssuedTokens
from resolvers import auth as resolvers
from schema.errors import (
    InvalidCredentialsError,
    InvalidInputError,
    InvalidRefreshTokenError,
    RateLimitedError,
    TooManyLoginAttemptsError,
    outcome,
)
from schema.info import Info
from schema.users import Viewer


@strawberry.input(description="Credentials to sign in with.")
class LoginInput:
    username: str = strawberry.field(description="The username.")
    password: str = strawberry.field(description="The password.")


@strawberry.input(description="A refresh token to exchange for new tokens.")
class RefreshTokenInput:
    refresh_token: str = strawberry.field(description="The refresh token from login or refresh.")


@strawberry.input(description="The refresh token of the session to end.")
class LogoutInput:
    refresh_token: str = strawberry.field(description="The session's current refresh token.")


@strawberry.type(description="Tokens for a signed-in session.")
class AuthTokens:
    access_token: str = strawberry.field(
        description="Short-lived JWT; send as `Authorization: Bearer <token>` and in the "
        'websocket `connection_init` payload as `{"authorization": "Bearer <token>"}`.'
    )
    access_token_expires_at: datetime = strawberry.field(
        description="When the access token expires."
    )
    refresh_token: str = strawberry.field(
        description="Single-use token for `refreshToken`; each use returns a new one. "
        "Reusing an old one signs out every session of its family."
    )
    refresh_token_expires_at: datetime = strawberry.field(
        description="When the refresh token expires."
    )
    viewer: Viewer = strawberry.field(description="Who is signed in.")

    @classmethod
    def from_tokens(cls, tokens: IssuedTokens) -> AuthTokens:
        return cls(
            access_token=tokens.access_token,
            access_token_expires_at=tokens.access_expires_at,
            refresh_token=tokens.refresh_token,
            refresh_token_expires_at=tokens.refresh_expires_at,
            viewer=Viewer(user=tokens.user),
        )


@strawberry.type(description="The session was ended.")
class LogoutSuccess:
    revoked: bool = strawberry.field(
        description="True if a live session was revoked; false if it had already ended."
    )


LoginResult = Annotated[
    AuthTokens
    | InvalidInputError
    | InvalidCredentialsError
    | TooManyLoginAttemptsError
    | RateLimitedError,
    strawberry.union("LoginResult", description="Tokens, or why sign-in failed."),
]
RefreshTokenResult = Annotated[
    AuthTokens | InvalidInputError | InvalidRefreshTokenError | RateLimitedError,
    strawberry.union("RefreshTokenResult", description="New tokens, or why refresh failed."),
]
LogoutResult = Annotated[
    LogoutSuccess | InvalidInputError,
    strawberry.union("LogoutResult", description="Whether the session was ended."),
]


@strawberry.type
class AuthMutations:
    @strawberry.mutation(
        description="Sign in with username and password. One sign-in field (login, "
        "refreshToken or registerCustomer) per request; attempts are budgeted per client "
        "address and per username (RateLimitedError), and failures pause the username "
        "(TooManyLoginAttemptsError)."
    )
    def login(
        self,
        info: Info,
        input: Annotated[
            LoginInput, strawberry.argument(description="Your username and password.")
        ],
    ) -> LoginResult:
        result = resolvers.login(info.context, input.username, input.password)
        return outcome(result, AuthTokens.from_tokens)

    @strawberry.mutation(
        description="Exchange a refresh token for new tokens (rotation). Counts against the "
        "client address's budget of anonymous attempts (RateLimitedError)."
    )
    def refresh_token(
        self,
        info: Info,
        input: Annotated[
            RefreshTokenInput, strawberry.argument(description="The refresh token to exchange.")
        ],
    ) -> RefreshTokenResult:
        result = resolvers.refresh(info.context, input.refresh_token)
        return outcome(result, AuthTokens.from_tokens)

    @strawberry.mutation(description="End a session: its refresh token family is revoked.")
    def logout(
        self,
        info: Info,
        input: Annotated[
            LogoutInput, strawberry.argument(description="The refresh token of the session to end.")
        ],
    ) -> LogoutResult:
        result = resolvers.logout(info.context, input.refresh_token)
        return outcome(result, lambda revoked: LogoutSuccess(revoked=revoked))
