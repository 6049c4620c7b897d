"""Signing out is immediate: logout and a replayed refresh token end the access tokens
already issued on the next request. Served as production serves (the sign-in check
remembers a user's row for 2 s), on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from app.asgi import create_app
from domain.users import User
from tests.conftest import make_settings
from tests.live_server import GraphQLClient, LiveServer

PRODUCTS = "{ loanProducts { code } }"  # anyone signed in may read it; nobody else
REFRESH = """
mutation($token: String!) { refreshToken(input: {refreshToken: $token}) {
  ... on AuthTokens { accessToken refreshToken } ... on Error { code } } }
"""
LOGOUT = """
mutation($token: String!) { logout(input: {refreshToken: $token}) {
  ... on LogoutSuccess { revoked } ... on Error { code } } }
"""


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[LiveServer]:
    """The API with the sign-in cache on (2 s), as in production."""
    settings = make_settings(database_url, SIGN_IN_CACHE_SECONDS=2)
    with LiveServer(create_app(settings)) as live:
        yield live


@pytest.fixture
def client(client: GraphQLClient, server: LiveServer) -> GraphQLClient:
    server.runtime.sign_ins.forget_all()  # the tables were emptied: user ids start over
    return client


def signed_in(client: GraphQLClient, access: str) -> bool:
    response = client.execute(PRODUCTS, token=access)
    assert response.status == 200, response.body
    if not response.errors:
        return True
    assert [e["extensions"]["code"] for e in response.errors] == ["NOT_AUTHENTICATED"]
    return False


def wait_for(condition: Any, seconds: float) -> float | None:
    """Seconds until `condition()` held, or None if it never did within `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def test_logout_refuses_the_old_access_token_on_the_next_request(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("asha")
    tokens = login("asha")
    assert signed_in(client, tokens["accessToken"])  # now remembered for 2 s
    assert client.execute(LOGOUT, {"token": tokens["refreshToken"]}).data["logout"] == {
        "revoked": True
    }
    assert not signed_in(client, tokens["accessToken"])
    assert client.execute("{ me { id } }", token=tokens["accessToken"]).data == {"me": None}


def test_a_replayed_refresh_token_ends_every_access_token_of_the_user(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("asha")
    first = login("asha")
    second = client.execute(REFRESH, {"token": first["refreshToken"]}).data["refreshToken"]
    assert signed_in(client, first["accessToken"]) and signed_in(client, second["accessToken"])

    replay = client.execute(REFRESH, {"token": first["refreshToken"]}).data["refreshToken"]
    assert replay == {"code": "INVALID_REFRESH_TOKEN"}
    assert not signed_in(client, first["accessToken"])
    assert not signed_in(client, second["accessToken"])  # the thief's copy too
    again = login("asha")  # signing in again starts afresh
    assert signed_in(client, again["accessToken"])


def test_an_account_disabled_in_the_database_is_signed_out_within_the_cache_lifetime(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any
) -> None:
    user_id = make_user("asha")
    access = login("asha")["accessToken"]
    assert signed_in(client, access)
    with server.runtime.session_factory() as session:  # no event: only the row changes
        user = session.get(User, user_id)
        assert user is not None
        user.is_active = False
        session.commit()
    waited = wait_for(lambda: not signed_in(client, access), 4)
    assert waited is not None and waited <= 2.5, waited
