from datetime import UTC, datetime, timedelta

import jwt
import pytest

from domain.access_tokens import (
    InvalidAccessToken,
    TokenPolicy,
    issue_access_token,
    read_access_token,
)
from domain.users import Role

POLICY = TokenPolicy(
    secret="s" * 48, issuer="lendgraph", audience="lendgraph-api", ttl=timedelta(minutes=15)
)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def claims(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "sub": "7",
        "role": "STAFF",
        "iss": "lendgraph",
        "aud": "lendgraph-api",
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + timedelta(minutes=15),
        "jti": "abc",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_fresh_token_names_its_user_and_role() -> None:
    token, expires = issue_access_token(POLICY, 7, Role.STAFF, NOW)
    read = read_access_token(POLICY, token, NOW + timedelta(minutes=1))
    assert (read.user_id, read.role, read.expires_at) == (7, Role.STAFF, expires)


@pytest.mark.parametrize(
    ("description", "token"),
    [
        ("expired", jwt.encode(claims(exp=NOW - timedelta(minutes=1)), POLICY.secret, "HS256")),
        ("wrong audience", jwt.encode(claims(aud="someone-else"), POLICY.secret, "HS256")),
        ("wrong issuer", jwt.encode(claims(iss="evil"), POLICY.secret, "HS256")),
        ("not yet valid", jwt.encode(claims(nbf=NOW + timedelta(hours=1)), POLICY.secret, "HS256")),
        ("missing jti", jwt.encode(claims(jti=None), POLICY.secret, "HS256")),
        ("wrong key", jwt.encode(claims(), "k" * 48, "HS256")),
        ("other algorithm", jwt.encode(claims(), POLICY.secret, "HS512")),
        ("alg none", jwt.encode(claims(), None, algorithm="none")),
        ("garbage", "not.a.token"),
    ],
)
def test_untrustworthy_tokens_are_refused(description: str, token: str) -> None:
    with pytest.raises(InvalidAccessToken):
        read_access_token(POLICY, token, NOW)


def test_a_tampered_payload_is_refused() -> None:
    token, _ = issue_access_token(POLICY, 7, Role.CUSTOMER, NOW)
    header, _payload, signature = token.split(".")
    forged = jwt.encode(claims(role="STAFF"), "x" * 48, "HS256").split(".")[1]
    with pytest.raises(InvalidAccessToken):
        read_access_token(POLICY, f"{header}.{forged}.{signature}", NOW)
