"""Access tokens: short-lived signed JWTs that say who is asking and in which role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from domain.users import Role

REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]


@dataclass(frozen=True)
class TokenPolicy:
    """How access tokens are signed and checked (from settings)."""

    secret: str
    issuer: str
    audience: str
    ttl: timedelta
    algorithm: str = "HS256"
    leeway: timedelta = timedelta(seconds=10)


@dataclass(frozen=True)
class AccessClaims:
    """The verified facts an access token carries."""

    user_id: int
    role: Role
    token_id: str
    expires_at: datetime


class InvalidAccessToken(Exception):
    """The bearer token is malformed, forged, expired or not meant for us."""


def issue_access_token(
    policy: TokenPolicy, user_id: int, role: Role, now: datetime
) -> tuple[str, datetime]:
    expires_at = now + policy.ttl
    claims = {
        "sub": str(user_id),
        "role": role.value,
        "iss": policy.issuer,
        "aud": policy.audience,
        "iat": now,
        "nbf": now,
        "exp": expires_at,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, policy.secret, algorithm=policy.algorithm), expires_at


def _check_times(policy: TokenPolicy, claims: dict[str, Any], now: datetime) -> None:
    moment, leeway = now.timestamp(), policy.leeway.total_seconds()
    if float(claims["exp"]) <= moment - leeway:
        raise InvalidAccessToken("token expired")
    if float(claims["nbf"]) > moment + leeway:
        raise InvalidAccessToken("token not yet valid")
    if float(claims["iat"]) > moment + leeway:
        raise InvalidAccessToken("token issued in the future")


def read_access_token(policy: TokenPolicy, token: str, now: datetime) -> AccessClaims:
    """Verify signature, algorithm, issuer, audience and every time claim, or refuse."""
    try:
        claims = jwt.decode(
            token,
            policy.secret,
            algorithms=[policy.algorithm],  # a fixed list: never trust the header's alg
            audience=policy.audience,
            issuer=policy.issuer,
            # times are checked against the caller's clock below, so rules stay testable
            options={
                "require": REQUIRED_CLAIMS,
                "strict_aud": True,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
            },
        )
        _check_times(policy, claims, now)
        return AccessClaims(
            user_id=int(claims["sub"]),
            role=Role(claims["role"]),
            token_id=str(claims["jti"]),
            expires_at=datetime.fromtimestamp(claims["exp"], tz=now.tzinfo),
        )
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as error:
        raise InvalidAccessToken(str(error)) from error
