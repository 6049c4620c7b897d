"""The websocket speaks graphql-transport-ws only and signs in through connection_init."""

import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.live_server import GraphQLClient, LiveServer

PROTOCOL = "graphql-transport-ws"


def _ws_url(server: LiveServer) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


def _init(server: LiveServer, payload: dict[str, Any] | None) -> dict[str, Any]:
    with connect(_ws_url(server), subprotocols=[PROTOCOL], open_timeout=5) as ws:
        assert ws.subprotocol == PROTOCOL
        ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        try:
            return json.loads(ws.recv(timeout=5))
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return {"closed": closed.rcvd.code}


def test_a_valid_access_token_in_connection_init_is_acknowledged(
    server: LiveServer, client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("asha")
    token = login("asha")["accessToken"]
    assert _init(server, {"authorization": f"Bearer {token}"}) == {"type": "connection_ack"}


@pytest.mark.parametrize(
    "payload", [None, {"authorization": "Bearer not-a-token"}, {"authorization": "Basic abc"}]
)
def test_a_missing_or_invalid_token_closes_the_connection(
    server: LiveServer, client: GraphQLClient, payload: dict[str, Any] | None
) -> None:
    assert _init(server, payload) == {"closed": 4403}


def test_the_legacy_graphql_ws_protocol_is_not_spoken(server: LiveServer) -> None:
    with (
        connect(_ws_url(server), subprotocols=["graphql-ws"], open_timeout=5) as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4406


def test_browser_pages_from_unlisted_origins_cannot_open_the_websocket(server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(
            _ws_url(server), subprotocols=[PROTOCOL], origin="https://evil.example", open_timeout=5
        )
    assert refused.value.response.status_code == 403


def test_queries_over_the_websocket_are_pointed_to_http(
    server: LiveServer, client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("asha")
    token = login("asha")["accessToken"]
    with connect(_ws_url(server), subprotocols=[PROTOCOL], open_timeout=5) as ws:
        ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        assert json.loads(ws.recv(timeout=5))["type"] == "connection_ack"
        ws.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": "{ me { username } }"}}
            )
        )
        reply = json.loads(ws.recv(timeout=5))
    assert reply["type"] == "error" and reply["id"] == "1"
    assert "POST /graphql" in reply["payload"][0]["message"]
