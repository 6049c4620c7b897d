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
        "ver": 0,
        "iss": "lendgraph",
        "aud": "lendgraph-api",
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + timedelta(minutes=15),
        "jti": "abc",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_fresh_token_names_its_user_role_and_session_version() -> None:
    token, expires = issue_access_token(POLICY, 7, Role.STAFF, NOW, session_version=3)
    read = read_access_token(POLICY, token, NOW + timedelta(minutes=1))
    assert (read.user_id, read.role, read.expires_at) == (7, Role.STAFF, expires)
    assert read.session_version == 3


@pytest.mark.parametrize(
    ("description", "token"),
    [
        ("expired", jwt.encode(claims(exp=NOW - timedelta(minutes=1)), POLICY.secret, "HS256")),
        ("wrong audience", jwt.encode(claims(aud="someone-else"), POLICY.secret, "HS256")),
        ("wrong issuer", jwt.encode(claims(iss="evil"), POLICY.secret, "HS256")),
        ("not yet valid", jwt.encode(claims(nbf=NOW + timedelta(hours=1)), POLICY.secret, "HS256")),
        ("missing jti", jwt.encode(claims(jti=None), POLICY.secret, "HS256")),
        ("missing role", jwt.encode(claims(role=None), POLICY.secret, "HS256")),
        ("missing session version", jwt.encode(claims(ver=None), POLICY.secret, "HS256")),
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
    token, _ = issue_access_token(POLICY, 7, Role.CUSTOMER, NOW, session_version=0)
    header, _payload, signature = token.split(".")
    forged = jwt.encode(claims(role="STAFF"), "x" * 48, "HS256").split(".")[1]
    with pytest.raises(InvalidAccessToken):
        read_access_token(POLICY, f"{header}.{forged}.{signature}", NOW)


SECOND = int(NOW.timestamp())
ABSURD = {
    "exp 10^20": {"exp": 10**20},
    "exp 10^400": {"exp": 10**400},
    "exp infinite": {"exp": float("inf")},
    "exp not a number": {"exp": float("nan")},
    "exp a string": {"exp": str(SECOND + 600)},
    "exp true": {"exp": True},
    "exp a year 9999 date": {"exp": 253_402_300_799},
    "iat 10^20": {"iat": 10**20},
    "iat before 1970": {"iat": -(10**20)},
    "iat a list": {"iat": [SECOND]},
    "nbf before 1970": {"nbf": -1},
    "nbf infinite": {"nbf": float("-inf")},
    "sub not a number": {"sub": "seven"},
    "sub huge": {"sub": "9" * 40},
    "sub beyond users.id": {"sub": str(2**31)},
    "sub zero": {"sub": "0"},
    "sub negative": {"sub": "-7"},
    "sub padded": {"sub": " 7"},
    "sub an integer": {"sub": 7},
    "sub a float string": {"sub": "7.0"},
    "role unknown": {"role": "ADMIN"},
    "role a list": {"role": ["STAFF"]},
    "ver huge": {"ver": 10**30},
    "ver negative": {"ver": -1},
    "ver a string": {"ver": "0"},
    "ver a float": {"ver": 0.5},
    "jti a number": {"jti": 12},
    "jti empty": {"jti": ""},
    "jti huge": {"jti": "j" * 10_000},
}


@pytest.mark.parametrize("changes", ABSURD.values(), ids=ABSURD.keys())
def test_absurd_claims_in_a_correctly_signed_token_are_refused(changes: dict[str, object]) -> None:
    payload = {**claims(iat=SECOND, nbf=SECOND, exp=SECOND + 600), **changes}
    token = jwt.encode(payload, POLICY.secret, "HS256")
    with pytest.raises(InvalidAccessToken):
        read_access_token(POLICY, token, NOW)


def test_a_token_that_claims_to_outlive_the_policy_is_refused() -> None:
    long_lived = claims(exp=NOW + POLICY.ttl + timedelta(minutes=1))
    with pytest.raises(InvalidAccessToken):
        read_access_token(POLICY, jwt.encode(long_lived, POLICY.secret, "HS256"), NOW)


def test_numeric_times_and_the_largest_user_id_are_read() -> None:
    payload = claims(iat=SECOND, nbf=SECOND, exp=SECOND + 600.5, sub=str(2**31 - 1))
    read = read_access_token(POLICY, jwt.encode(payload, POLICY.secret, "HS256"), NOW)
    assert read.user_id == 2**31 - 1
    assert read.expires_at.timestamp() == SECOND + 600.5
