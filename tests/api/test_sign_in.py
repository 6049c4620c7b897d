"""Sign-in over real HTTP, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from domain.users import Role
from tests.conftest import PASSWORD, TEST_SECRET
from tests.live_server import GraphQLClient

ME = "{ me { id username role } }"
REFRESH = """
mutation Refresh($token: String!) {
  refreshToken(input: {refreshToken: $token}) {
    __typename
    ... on AuthTokens { accessToken refreshToken }
    ... on Error { code message }
  }
}
"""
LOGOUT = """
mutation Logout($token: String!) {
  logout(input: {refreshToken: $token}) {
    __typename
    ... on LogoutSuccess { revoked }
    ... on Error { code }
  }
}
"""


def test_login_returns_tokens_and_me_names_the_viewer(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("asha", Role.CUSTOMER)
    result = login("asha")
    assert result["__typename"] == "AuthTokens"
    assert result["viewer"]["username"] == "asha"
    me = client.execute(ME, token=result["accessToken"]).data["me"]
    assert me == {"id": result["viewer"]["id"], "username": "asha", "role": "CUSTOMER"}


def test_me_is_null_without_a_token(client: GraphQLClient) -> None:
    assert client.execute(ME).data == {"me": None}


def test_wrong_password_and_unknown_user_get_the_same_typed_error(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("asha")
    wrong = login("asha", "not the password")
    unknown = login("nobody", PASSWORD)
    assert wrong["__typename"] == unknown["__typename"] == "InvalidCredentialsError"
    assert wrong["code"] == unknown["code"] == "INVALID_CREDENTIALS"
    assert wrong["message"] == unknown["message"]


def test_empty_credentials_are_invalid_input(client: GraphQLClient, login: Any) -> None:
    result = login("", "")
    assert result["__typename"] == "InvalidInputError"
    assert result["code"] == "INVALID_INPUT"


def test_repeated_failures_throttle_the_username_even_for_the_right_password(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("asha")
    for _ in range(5):
        assert login("asha", "wrong password!")["__typename"] == "InvalidCredentialsError"
    throttled = login("asha", PASSWORD)
    assert throttled["__typename"] == "TooManyLoginAttemptsError"
    assert 0 < throttled["retryAfterSeconds"] <= 301
    make_user("other")
    assert login("other")["__typename"] == "AuthTokens"  # other usernames are unaffected


def test_refresh_rotates_and_a_reused_token_revokes_the_whole_family(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("asha")
    first = login("asha")["refreshToken"]
    second = client.execute(REFRESH, {"token": first}).data["refreshToken"]
    assert second["__typename"] == "AuthTokens" and second["refreshToken"] != first
    assert client.execute(ME, token=second["accessToken"]).data["me"]["username"] == "asha"

    replay = client.execute(REFRESH, {"token": first}).data["refreshToken"]
    assert replay["code"] == "INVALID_REFRESH_TOKEN"
    after_theft = client.execute(REFRESH, {"token": second["refreshToken"]}).data["refreshToken"]
    assert after_theft["code"] == "INVALID_REFRESH_TOKEN"


def test_logout_ends_the_session(client: GraphQLClient, make_user: Any, login: Any) -> None:
    make_user("asha")
    token = login("asha")["refreshToken"]
    assert client.execute(LOGOUT, {"token": token}).data["logout"] == {
        "__typename": "LogoutSuccess",
        "revoked": True,
    }
    assert client.execute(REFRESH, {"token": token}).data["refreshToken"]["code"] == (
        "INVALID_REFRESH_TOKEN"
    )
    assert client.execute(LOGOUT, {"token": token}).data["logout"]["revoked"] is False


def _forge(key: str = TEST_SECRET, alg: str = "HS256", **changes: Any) -> str:
    """A token right in every claim but the ones changed (so only those can be refused)."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": "1",
        "role": "STAFF",
        "ver": 0,
        "iss": "lendgraph",
        "aud": "lendgraph-api",
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": "j",
    }
    claims.update(changes)
    return jwt.encode(claims, None if alg == "none" else key, algorithm=alg)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_forge(exp=datetime.now(UTC) - timedelta(minutes=1)), id="expired"),
        pytest.param(_forge(aud="other-api"), id="wrong-audience"),
        pytest.param(_forge(iss="evil"), id="wrong-issuer"),
        pytest.param(
            jwt.encode({"sub": "1", "role": "STAFF"}, None, algorithm="none"), id="alg-none"
        ),
        pytest.param(_forge()[:-4] + "AAAA", id="tampered-signature"),
        pytest.param(_forge(exp=10**20), id="exp-10^20"),
        pytest.param(_forge(iat=-(10**20)), id="iat-before-1970"),
        pytest.param(_forge(sub="9" * 40), id="sub-huge"),
        pytest.param(_forge(sub="asha"), id="sub-not-an-id"),
        pytest.param(_forge(role=None), id="role-null"),
        pytest.param(
            jwt.encode({"sub": "1"}, "another-secret-" * 4, algorithm="HS256"), id="wrong-key"
        ),
    ],
)
def test_untrustworthy_access_tokens_are_refused_with_401(
    client: GraphQLClient, token: str
) -> None:
    response = client.execute(ME, token=token)
    assert response.status == 401
    assert response.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_tampered_role_claim_does_not_grant_staff(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("asha")
    header, _, signature = login("asha")["accessToken"].split(".")
    payload = _forge(sub="1", role="STAFF").split(".")[1]
    response = client.execute(
        "{ users(first: 5) { edges { cursor } } }", token=f"{header}.{payload}.{signature}"
    )
    assert response.status == 401


def test_a_disabled_user_is_no_longer_signed_in(
    client: GraphQLClient, make_user: Any, login: Any, server: Any
) -> None:
    from domain.users import User

    user_id = make_user("asha")
    token = login("asha")["accessToken"]
    with server.runtime.session_factory() as session:
        user = session.get(User, user_id)
        user.is_active = False
        session.commit()
    assert client.execute(ME, token=token).data["me"] is None
    assert login("asha")["__typename"] == "InvalidCredentialsError"


def test_sign_in_mutations_still_work_with_a_stale_bearer_header(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("asha")
    stale = _forge(exp=datetime.now(UTC) - timedelta(minutes=1))
    refresh = login("asha")["refreshToken"]
    renewed = client.execute(REFRESH, {"token": refresh}, token=stale)
    assert renewed.status == 200 and renewed.data["refreshToken"]["__typename"] == "AuthTokens"
    again = client.execute(
        'mutation { login(input: {username: "asha", password: "correct horse battery"})'
        " { __typename } }",
        token=stale,
    )
    assert again.data["login"]["__typename"] == "AuthTokens"
    mixed = client.execute(
        'mutation { logout(input: {refreshToken: "x"}) { __typename } } query Other { me { id } }',
        token=stale,
    )
    assert mixed.status in (400, 401)
    assert client.execute(ME, token=stale).status == 401


def test_an_overlong_username_is_invalid_input_not_a_crash(
    client: GraphQLClient, login: Any
) -> None:
    result = login("u" * 200, "whatever-long-enough")
    assert result["__typename"] == "InvalidInputError"
