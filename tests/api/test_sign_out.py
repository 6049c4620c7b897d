"""Signing out is immediate: logout, a replayed refresh token and disabling the account end
the access tokens already issued on the next request, and close the user's websockets within
5 seconds, while other users' sessions carry on. Served as production serves (the sign-in
check remembers a user's row for 2 s), on SQLite and PostgreSQL, embedded and Redis hubs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from app.asgi import create_app
from domain.sign_in import disable_user
from domain.tables import utcnow
from domain.unit_of_work import UnitOfWork
from domain.users import ACCESS_REVOKED, Role, User, create_user
from tests.api.test_subscriptions import UPDATES, open_subscription
from tests.conftest import LOGIN, PASSWORD, make_settings
from tests.databases import empty_all_tables
from tests.live_server import GraphQLClient, LiveServer
from tests.services import REDIS_URL, require

PRODUCTS = "{ loanProducts { code } }"  # anyone signed in may read it; nobody else
REFRESH = """
mutation($token: String!) { refreshToken(input: {refreshToken: $token}) {
  ... on AuthTokens { accessToken refreshToken } ... on Error { code } } }
"""
LOGOUT = """
mutation($token: String!) { logout(input: {refreshToken: $token}) {
  ... on LogoutSuccess { revoked } ... on Error { code } } }
"""
CLOSE_WITHIN_SECONDS = 5.0


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


def close_code(ws: ClientConnection, seconds: float = CLOSE_WITHIN_SECONDS) -> int | None:
    """The code the server closed `ws` with within `seconds` (None: still open)."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            ws.recv(timeout=left)  # a subscription may deliver something first
    except TimeoutError:
        return None
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else -1
    return None


def still_open(ws: ClientConnection) -> bool:
    ws.send(json.dumps({"type": "ping"}))
    return bool(json.loads(ws.recv(timeout=5))["type"] == "pong")


def watching_revocations(server: LiveServer, count: int) -> bool:
    """The sign-in check and `count - 1` websockets listen for revocations on `server`."""
    hub: Any = server.runtime.events
    return bool(wait_for(lambda: hub.subscriber_count(ACCESS_REVOKED) >= count, 5) is not None)


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


def test_disabling_a_user_ends_their_sessions_at_once(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any
) -> None:
    make_user("asha")
    tokens = login("asha")
    assert signed_in(client, tokens["accessToken"])
    runtime = server.runtime
    with runtime.session_factory() as session:  # what `lendgraph disable-user` does
        uow = UnitOfWork(session, runtime.dispatcher.dispatch)
        disable_user(session, "asha", utcnow())
        uow.commit()
    assert not signed_in(client, tokens["accessToken"])
    refused = client.execute(REFRESH, {"token": tokens["refreshToken"]}).data["refreshToken"]
    assert refused == {"code": "INVALID_REFRESH_TOKEN"}


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


def test_an_open_subscription_closes_within_seconds_of_logout(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any
) -> None:
    make_user("asha")
    tokens = login("asha")
    with open_subscription(server, tokens["accessToken"], UPDATES) as ws:
        assert watching_revocations(server, 2)
        client.execute(LOGOUT, {"token": tokens["refreshToken"]})
        started = time.monotonic()
        assert close_code(ws) == 4403
        assert time.monotonic() - started < CLOSE_WITHIN_SECONDS


def test_a_websocket_of_an_account_disabled_in_the_database_closes_within_seconds(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any
) -> None:
    user_id = make_user("asha")
    with open_subscription(server, login("asha")["accessToken"], UPDATES) as ws:
        with server.runtime.session_factory() as session:  # no event: the re-check finds it
            user = session.get(User, user_id)
            assert user is not None
            user.is_active = False
            session.commit()
        assert close_code(ws) == 4403


def test_the_revocation_event_alone_closes_the_users_older_connections_at_once(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any
) -> None:
    asha = make_user("asha")
    access = login("asha")["accessToken"]
    with open_subscription(server, access, UPDATES) as ws:
        assert watching_revocations(server, 2)
        # The database still says version 0, so only the event can close this connection;
        # an event about the version the token already carries (a replay) closes nothing.
        server.runtime.events.publish(ACCESS_REVOKED, {"userId": asha, "sessionVersion": 0})
        assert close_code(ws, 1.0) is None and still_open(ws)
        server.runtime.events.publish(ACCESS_REVOKED, {"userId": asha, "sessionVersion": 1})
        assert close_code(ws, 1.0) == 4403


def test_other_users_keep_their_sessions_and_connections(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any
) -> None:
    make_user("asha")
    make_user("bob", Role.STAFF)
    ashas, bobs = login("asha"), login("bob")
    with (
        open_subscription(server, ashas["accessToken"], UPDATES) as asha_ws,
        open_subscription(server, bobs["accessToken"], UPDATES) as bob_ws,
    ):
        assert watching_revocations(server, 3)
        client.execute(LOGOUT, {"token": ashas["refreshToken"]})
        assert close_code(asha_ws) == 4403
        assert still_open(bob_ws)
    assert signed_in(client, bobs["accessToken"])
    renewed = client.execute(REFRESH, {"token": bobs["refreshToken"]}).data["refreshToken"]
    assert signed_in(client, renewed["accessToken"])


@pytest.fixture(scope="module")
def two_servers_on_redis(postgresql_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two API processes' worth of app on one database, with the Redis event hub between."""
    require(REDIS_URL, "Redis")
    settings = make_settings(postgresql_url, REDIS_URL=REDIS_URL, SIGN_IN_CACHE_SECONDS=2)
    with LiveServer(create_app(settings)) as a, LiveServer(create_app(settings)) as b:
        for live in (a, b):
            hub: Any = live.runtime.events
            assert wait_for(hub.connected.is_set, 10) is not None, "no Redis subscription"
        yield a, b


def test_logout_on_one_process_ends_the_session_on_another_through_redis(
    two_servers_on_redis: tuple[LiveServer, LiveServer],
) -> None:
    a, b = two_servers_on_redis
    empty_all_tables(a.runtime.engine)
    on_a, on_b = GraphQLClient(a.url), GraphQLClient(b.url)
    b.runtime.sign_ins.ttl = 60  # B would trust its memory for a minute: only the event helps
    try:
        with a.runtime.session_factory() as session:
            create_user(session, "asha", PASSWORD, Role.CUSTOMER)
            session.commit()
        tokens = on_a.execute(LOGIN, {"username": "asha", "password": PASSWORD}).data["login"]
        assert signed_in(on_b, tokens["accessToken"])  # B remembers asha as signed in
        with open_subscription(b, tokens["accessToken"], UPDATES) as ws:
            assert watching_revocations(b, 2)
            on_a.execute(LOGOUT, {"token": tokens["refreshToken"]})
            assert close_code(ws) == 4403
            waited = wait_for(lambda: not signed_in(on_b, tokens["accessToken"]), 5)
            assert waited is not None, "B still trusts the revoked token"
    finally:
        b.runtime.sign_ins.ttl = 2
        on_a.close()
        on_b.close()
