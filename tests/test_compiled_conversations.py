"""Conversations and a conversation's messages on the compiled executor: they run compiled, answer
as strawberry does (the suite's differential mode compares every compiled answer), and cost the
same statements whatever the page holds."""

from __future__ import annotations

import uuid

from bench.scenarios import MESSAGES
from tests.conversation_helpers import LEAVE, REACT, SHARE, UNSEND
from tests.engagement import BLOCK, FOLLOW
from tests.harness import Api, ServerFactory, TestUser
from tests.posting import create_post
from tests.story_helpers import create_story
from tests.test_compiled_execution import counted
from tests.test_conversations import send, start

MESSAGE = """
  id seq body clientId sentAt editedAt unsentAt
  sender { id username } conversation { id isGroup } media { id url }
  reactions { emoji reactedAt user { username } }
  sharedPost { id caption author { username } }
  sharedStory { id expiresAt author { username } media { url } }
  replyToStory { id }
"""
LIST = (
    """
query List($first: Int, $after: String, $folder: ConversationFolder) {
  conversations(first: $first, after: $after, folder: $folder) {
    edges { cursor node {
      id title isGroup isRequest isMuted unreadCount updatedAt
      members { id username } admins { username }
      lastMessage {"""
    + MESSAGE
    + """}
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""
)
HISTORY = (
    """
query History($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) { id ... on Conversation { title
    messages(first: $first, after: $after, last: $last, before: $before) {
      edges { cursor node {"""
    + MESSAGE
    + """} }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    } } }
}
"""
)
REPLY = """
mutation($id: ID!, $clientId: String!) {
  replyToStory(storyId: $id, body: "nice", clientId: $clientId) { id }
}
"""


async def share(
    api: Api, user: TestUser, cid: str, *, post: str | None = None, story: str | None = None
) -> str:
    variables = {"cid": cid, "clientId": uuid.uuid4().hex, "post": post, "story": story, "body": "look"}
    message_id: str = (await api.gql(SHARE, variables, token=user.token))["sendMessage"]["id"]
    return message_id


async def a_conversations_world(api: Api) -> tuple[TestUser, dict[str, TestUser], dict[str, str]]:
    """The viewer's 1:1 with anna (shares, a reply to a story, an unsent message, reactions), a group
    that cleo left and whose member ben the viewer blocked, and message requests from a stranger and
    from dora, who shares a post."""
    viewer = await api.sign_up("viewer")
    users = {name: await api.sign_up(name) for name in ("anna", "ben", "cleo", "dora", "stranger")}
    anna, ben, cleo, dora = users["anna"], users["ben"], users["cleo"], users["dora"]
    for other in (anna, ben, cleo):
        await api.gql(FOLLOW, {"id": other.id}, token=viewer.token)
        await api.gql(FOLLOW, {"id": viewer.id}, token=other.token)
    direct = await start(api, viewer, anna)
    group = await start(api, viewer, anna, ben, cleo, title="Trip")
    post = await create_post(api, anna, "a post")
    story = await create_story(api, anna)
    await share(api, anna, direct, post=post)
    await share(api, anna, direct, story=story)
    await api.gql(REPLY, {"id": story, "clientId": uuid.uuid4().hex}, viewer.token)
    unsent = await send(api, viewer, direct, "oops")
    await api.gql(UNSEND, {"id": unsent["id"]}, viewer.token)
    reacted = await send(api, anna, direct, "hello")
    await api.gql(REACT, {"id": reacted["id"], "emoji": "🔥"}, viewer.token)
    await api.gql(REACT, {"id": reacted["id"], "emoji": "👍"}, anna.token)
    await send(api, ben, group, "from ben")
    await send(api, cleo, group, "bye")
    await api.gql(LEAVE, {"cid": group}, cleo.token)
    await send(api, anna, group, "after cleo left")
    last = await send(api, ben, group, "ben again")
    await api.gql(REACT, {"id": last["id"], "emoji": "😀"}, anna.token)
    await api.gql(BLOCK, {"id": ben.id}, viewer.token)
    await start(api, users["stranger"], viewer)
    dm = await start(api, dora, viewer)
    await share(api, dora, dm, post=await create_post(api, dora, "dora's post"))
    return viewer, users, {"direct": direct, "group": group, "story": story}


async def test_conversations_and_their_messages_run_compiled(asgi: ServerFactory) -> None:
    async with asgi(max_query_cost=100_000) as api:
        viewer, users, ids = await a_conversations_world(api)
        body, executors = await counted(api, LIST, {"first": 10}, viewer)
        assert executors == (1, 0), body
        nodes = [edge["node"] for edge in body["data"]["conversations"]["edges"]]
        group = next(node for node in nodes if node["id"] == ids["group"])
        assert [m["username"] for m in group["members"]] == ["viewer", "anna", "ben"]  # cleo left
        assert group["lastMessage"] is None  # the newest, ben's, is across a block

        requests, executors = await counted(api, LIST, {"folder": "REQUESTS"}, viewer)
        assert executors == (1, 0), requests
        assert [e["node"]["isRequest"] for e in requests["data"]["conversations"]["edges"]] == [True, True]

        history, executors = await counted(api, HISTORY, {"id": ids["direct"], "last": 10}, viewer)
        assert executors == (1, 0), history
        messages = [edge["node"] for edge in history["data"]["node"]["messages"]["edges"]]
        assert [m["body"] for m in messages] == ["look", "look", "nice", "", "hello"]
        assert messages[0]["sharedPost"]["caption"] == "a post"
        assert messages[2]["replyToStory"] == {"id": ids["story"]}
        assert messages[3]["unsentAt"] is not None
        assert [r["emoji"] for r in messages[4]["reactions"]] == ["🔥", "👍"]

        group_page, executors = await counted(api, HISTORY, {"id": ids["group"], "first": 2}, viewer)
        assert executors == (1, 0), group_page
        page = group_page["data"]["node"]["messages"]
        assert [edge["node"]["body"] for edge in page["edges"]] == ["bye"]  # ben's is across a block
        assert page["pageInfo"]["hasNextPage"] is True
        left, executors = await counted(api, HISTORY, {"id": ids["group"], "first": 2}, users["cleo"])
        assert executors == (1, 0)
        assert left["data"]["node"] is None  # cleo left

        api.clock.advance(api.services.settings.story_ttl_seconds + 1)  # the shared story expires
        history, executors = await counted(api, HISTORY, {"id": ids["direct"], "first": 3}, viewer)
        assert executors == (1, 0), history
        assert [edge["node"]["sharedStory"] for edge in history["data"]["node"]["messages"]["edges"]] == [
            None,
            None,
            None,
        ]


async def history_statements(api: Api, messages: int, prefix: str) -> int:
    viewer, other = await api.sign_up(f"{prefix}viewer"), await api.sign_up(f"{prefix}other")
    await api.gql(FOLLOW, {"id": other.id}, token=viewer.token)
    cid = await start(api, viewer, other)
    post = await create_post(api, other, "shared")
    for n in range(messages):
        sent = await send(api, other if n % 2 else viewer, cid, f"m{n}")
        await api.gql(REACT, {"id": sent["id"], "emoji": "🔥"}, viewer.token)
        await share(api, other, cid, post=post)
    with api.count_statements() as statements:
        body, executors = await counted(api, HISTORY, {"id": cid, "last": 100}, viewer)
    assert executors == (1, 0), body
    assert len(body["data"]["node"]["messages"]["edges"]) == 2 * messages
    return len(statements)


async def list_statements(api: Api, conversations: int, prefix: str) -> int:
    viewer = await api.sign_up(f"{prefix}viewer")
    for n in range(conversations):
        other = await api.sign_up(f"{prefix}o{n}")
        await api.gql(FOLLOW, {"id": other.id}, token=viewer.token)
        cid = await start(api, other, viewer)
        sent = await send(api, other, cid, "hi")
        await api.gql(REACT, {"id": sent["id"], "emoji": "🔥"}, viewer.token)
    with api.count_statements() as statements:
        body, executors = await counted(api, LIST, {"first": 20}, viewer)
    assert executors == (1, 0), body
    assert len(body["data"]["conversations"]["edges"]) == conversations
    return len(statements)


async def test_compiled_pages_cost_the_same_statements_at_any_size(asgi: ServerFactory) -> None:
    async with asgi(max_query_cost=1_000_000) as api:
        assert await history_statements(api, 1, "a") == await history_statements(api, 6, "b")
        assert await list_statements(api, 1, "c") == await list_statements(api, 5, "d")


async def test_a_messages_page_with_its_senders_is_one_statement_on_postgresql(api: Api) -> None:
    """bench/scenarios.py's messages document: the conversation, the viewer's membership, the page
    and its senders in one statement on PostgreSQL (execution/message_page.py); SQLite keeps the
    loaders' statements."""
    viewer, other, blocked = (
        await api.sign_up("pviewer"),
        await api.sign_up("pother"),
        await api.sign_up("pblocked"),
    )
    cid = await start(api, viewer, other, blocked, title="three")
    for n in range(4):
        await send(api, (viewer, other, blocked)[n % 3], cid, f"m{n}")
    await api.gql(BLOCK, {"id": blocked.id}, viewer.token)
    counts = []
    for last in (2, 20, 20):
        with api.count_statements() as statements:
            data = await api.gql(MESSAGES, {"id": cid, "last": last}, viewer.token)
        counts.append(len(statements))
    edges = data["node"]["messages"]["edges"]
    assert [edge["node"]["body"] for edge in edges] == ["m0", "m1", "m3"]  # m2 is across the block
    assert [edge["node"]["sender"]["username"] for edge in edges] == ["pviewer", "pother", "pviewer"]
    if api.services.db.is_sqlite:
        assert counts[1:] == [6, 6], counts  # membership, conversation, page ids, rows, relationships, users
    else:
        assert counts[1:] == [1, 1], counts  # was 6


async def walk(api: Api, cid: str, viewer: TestUser, backward: bool) -> list[str]:
    """Every message body of the conversation, oldest first, paged by cursor (3 back or 4 forward
    at a time), each page compiled."""
    size, cursor, more, next_cursor = ("last", "before", "hasPreviousPage", "startCursor")
    if not backward:
        size, cursor, more, next_cursor = ("first", "after", "hasNextPage", "endCursor")
    bodies: list[str] = []
    at = None
    while True:
        variables: dict[str, object] = {"id": cid, size: 3 if backward else 4, cursor: at}
        body, executors = await counted(api, HISTORY, variables, viewer)
        assert executors == (1, 0), body
        page = body["data"]["node"]["messages"]
        found = [edge["node"]["body"] for edge in page["edges"]]
        bodies = found + bodies if backward else bodies + found
        if not page["pageInfo"][more]:
            return bodies
        at = page["pageInfo"][next_cursor]


async def test_paging_a_history_both_ways_compiled(asgi: ServerFactory) -> None:
    """The one-statement page (execution/message_page.py) with `after` and `before` cursors, and on
    a message request (a pending member row): the same pages as strawberry's (the differential
    mode compares each), compiled."""
    async with asgi(max_query_cost=100_000) as api:
        viewer, stranger = await api.sign_up("pviewer"), await api.sign_up("pstranger")
        cid = await start(api, stranger, viewer)  # a request for the viewer
        for n in range(7):
            await send(api, stranger, cid, f"m{n}")
        assert await walk(api, cid, viewer, backward=True) == [f"m{n}" for n in range(7)]
        assert await walk(api, cid, viewer, backward=False) == [f"m{n}" for n in range(7)]
        body, _ = await counted(api, HISTORY, {"id": cid, "first": 1, "last": 1}, viewer)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"  # as strawberry reports it
