"""Global ids, authorized node lookups, cursor pages, and constant statement counts."""

from typing import Any

from strawberry.relay import GlobalID

from domain.users import Role
from tests.live_server import GraphQLClient, LiveServer
from tests.sql_counter import count_statements

NODE = "query($id: ID!) { node(id: $id) { __typename ... on User { username role } } }"
PAGE = """
query($first: Int!, $after: String) {
  users(first: $first, after: $after) {
    edges { cursor node { id username role isActive createdAt } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


def gid(user_id: int) -> str:
    return str(GlobalID("User", str(user_id)))


def test_staff_resolve_any_user_node(client: GraphQLClient, make_user: Any, login: Any) -> None:
    make_user("boss", Role.STAFF)
    asha = make_user("asha")
    node = client.execute(NODE, {"id": gid(asha)}, token=login("boss")["accessToken"]).data["node"]
    assert node == {"__typename": "User", "username": "asha", "role": "CUSTOMER"}


def test_a_customer_sees_their_own_node_and_never_anothers(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    asha, ravi = make_user("asha"), make_user("ravi")
    token = login("asha")["accessToken"]
    assert client.execute(NODE, {"id": gid(asha)}, token=token).data["node"]["username"] == "asha"
    assert client.execute(NODE, {"id": gid(ravi)}, token=token).data["node"] is None
    assert client.execute(NODE, {"id": gid(ravi)}).data["node"] is None


def test_ids_of_unknown_types_or_rows_resolve_to_null(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("boss", Role.STAFF)
    token = login("boss")["accessToken"]
    assert client.execute(NODE, {"id": gid(999999)}, token=token).data["node"] is None
    assert client.execute(NODE, {"id": str(GlobalID("Nothing", "1"))}, token=token).data == {
        "node": None
    }
    superscript = client.execute(NODE, {"id": str(GlobalID("User", "²"))}, token=token)
    assert superscript.data == {"node": None}
    assert client.execute(NODE, {"id": "%%%"}, token=token).body == {"data": {"node": None}}
    interface = client.execute(NODE, {"id": str(GlobalID("Node", "1"))}, token=token)
    assert interface.body == {"data": {"node": None}}


def test_pages_walk_every_user_once_in_order(
    client: GraphQLClient, make_user: Any, login: Any
) -> None:
    make_user("boss", Role.STAFF)
    for n in range(6):
        make_user(f"user{n}")
    token = login("boss")["accessToken"]
    seen, after, pages = [], None, 0
    while True:
        page = client.execute(PAGE, {"first": 3, "after": after}, token=token).data["users"]
        seen += [edge["node"]["username"] for edge in page["edges"]]
        pages += 1
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["boss"] + [f"user{n}" for n in range(6)]
    assert pages == 3


def test_statements_per_request_do_not_grow_with_the_page(
    client: GraphQLClient, server: LiveServer, make_user: Any, login: Any
) -> None:
    make_user("boss", Role.STAFF)
    for n in range(30):
        make_user(f"user{n}")
    token = login("boss")["accessToken"]
    counts = []
    for size in (2, 30):
        with count_statements(server.runtime.engine) as counter:
            page = client.execute(PAGE, {"first": size}, token=token).data["users"]
        assert len(page["edges"]) == size
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
