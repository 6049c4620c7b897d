"""Access tokens: short-lived signed JWTs that say who is asking, in which role, and as of
which session version of that user (a sign-out moves the version on, see domain.users)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from domain.users import Role

REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "role", "ver"]
# A signed token is still refused unless every claim is one we could have issued: times
# a datetime can hold (up to 9999-12-31), a user id that fits users.id (32 bits).
LATEST_TIMESTAMP = 253_402_300_799
LARGEST_ID = 2**31 - 1
SUBJECT = re.compile(r"[1-9][0-9]{0,9}")
MAX_TOKEN_ID_LENGTH = 64


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
    session_version: int


class InvalidAccessToken(Exception):
    """The bearer token is malformed, forged, expired or not meant for us."""


def issue_access_token(
    policy: TokenPolicy, user_id: int, role: Role, now: datetime, *, session_version: int
) -> tuple[str, datetime]:
    expires_at = now + policy.ttl
    claims = {
        "sub": str(user_id),
        "role": role.value,
        "ver": session_version,
        "iss": policy.issuer,
        "aud": policy.audience,
        "iat": now,
        "nbf": now,
        "exp": expires_at,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, policy.secret, algorithm=policy.algorithm), expires_at


def _timestamp(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidAccessToken(f"{name} is not a number")
    if not 0 <= value <= LATEST_TIMESTAMP:  # also refuses NaN and infinities
        raise InvalidAccessToken(f"{name} is out of range")
    return float(value)


def _check_times(policy: TokenPolicy, claims: dict[str, Any], now: datetime) -> datetime:
    """When the token expires, once its times are plausible and hold at `now`."""
    moment, leeway = now.timestamp(), policy.leeway.total_seconds()
    expires, not_before, issued = (_timestamp(claims, name) for name in ("exp", "nbf", "iat"))
    if expires <= moment - leeway:
        raise InvalidAccessToken("token expired")
    if not_before > moment + leeway:
        raise InvalidAccessToken("token not yet valid")
    if issued > moment + leeway:
        raise InvalidAccessToken("token issued in the future")
    if expires - issued > policy.ttl.total_seconds() + leeway:
        raise InvalidAccessToken("token claims to live longer than any we issue")
    return datetime.fromtimestamp(expires, tz=now.tzinfo)


def _user_id(claims: dict[str, Any]) -> int:
    subject = claims["sub"]
    if not isinstance(subject, str) or not SUBJECT.fullmatch(subject):
        raise InvalidAccessToken("sub is not a user id")
    user_id = int(subject)
    if user_id > LARGEST_ID:
        raise InvalidAccessToken("sub is not a user id")
    return user_id


def _session_version(claims: dict[str, Any]) -> int:
    version = claims["ver"]
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidAccessToken("ver is not a whole number")
    if not 0 <= version <= LARGEST_ID:
        raise InvalidAccessToken("ver is out of range")
    return version


def _token_id(claims: dict[str, Any]) -> str:
    token_id = claims["jti"]
    if not isinstance(token_id, str) or not 0 < len(token_id) <= MAX_TOKEN_ID_LENGTH:
        raise InvalidAccessToken("jti is not a token id")
    return token_id


def _decode(policy: TokenPolicy, token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
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
    return claims


def read_access_token(policy: TokenPolicy, token: str, now: datetime) -> AccessClaims:
    """Verify signature, algorithm, issuer, audience and every claim's type, range and time,
    or refuse: whatever a token says, the answer is claims or InvalidAccessToken."""
    try:
        claims = _decode(policy, token)
        if not isinstance(claims.get("role"), str):
            raise InvalidAccessToken("role is not a role")
        return AccessClaims(
            user_id=_user_id(claims),
            role=Role(claims["role"]),
            token_id=_token_id(claims),
            expires_at=_check_times(policy, claims, now),
            session_version=_session_version(claims),
        )
    except InvalidAccessToken:
        raise
    except (jwt.PyJWTError, KeyError, ValueError, TypeError, OverflowError) as error:
        raise InvalidAccessToken(str(error)) from error
