"""Conversations and messages over HTTP: 1:1 and groups, membership, blocks, seq, idempotency, reads."""

from __future__ import annotations

import asyncio
import uuid

from tests.harness import Api, ServerFactory, TestUser

START = """
mutation($ids: [ID!]!, $title: String) {
  startConversation(input: {memberIds: $ids, title: $title}) { id isGroup title members { username } }
}
"""
SEND = """
mutation($cid: ID!, $body: String, $clientId: String!, $mediaId: ID) {
  sendMessage(input: {conversationId: $cid, body: $body, clientId: $clientId, mediaId: $mediaId}) {
    id seq body clientId sender { username } media { id status } conversation { id }
  }
}
"""
MARK_READ = """
mutation($cid: ID!, $seq: Int!) { markConversationRead(conversationId: $cid, upToSeq: $seq) { unreadCount } }
"""
CONVERSATIONS = """
query($first: Int, $after: String) {
  conversations(first: $first, after: $after) {
    edges {
      cursor
      node { id title unreadCount updatedAt members { username } lastMessage { body sender { username } } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
MESSAGES = """
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) {
    ... on Conversation {
      messages(first: $first, after: $after, last: $last, before: $before) {
        edges { cursor node { seq body sender { username } } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
}
"""
BLOCK = "mutation($id: ID!) { block(userId: $id) { id } }"


async def start(api: Api, user: TestUser, *others: TestUser, title: str | None = None) -> str:
    data = await api.gql(START, {"ids": [o.id for o in others], "title": title}, token=user.token)
    conversation_id: str = data["startConversation"]["id"]
    return conversation_id


async def send(
    api: Api, user: TestUser, cid: str, body: str, client_id: str | None = None
) -> dict[str, object]:
    variables = {"cid": cid, "body": body, "clientId": client_id or uuid.uuid4().hex}
    message: dict[str, object] = (await api.gql(SEND, variables, token=user.token))["sendMessage"]
    return message


async def seqs(api: Api, user: TestUser, cid: str, **args: object) -> list[int]:
    data = await api.gql(MESSAGES, {"id": cid, **args}, token=user.token)
    return [edge["node"]["seq"] for edge in data["node"]["messages"]["edges"]]


async def test_one_to_one_is_reused_and_groups_are_new(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()

    first = await start(api, alice, bob)
    assert await start(api, bob, alice) == first
    group = (await api.gql(START, {"ids": [bob.id, carol.id], "title": " Trip "}, token=alice.token))[
        "startConversation"
    ]

    assert group["id"] != first
    assert (group["isGroup"], group["title"]) == (True, "Trip")
    assert sorted(m["username"] for m in group["members"]) == sorted(
        [alice.username, bob.username, carol.username]
    )
    racing = await asyncio.gather(*(start(api, carol, alice) for _ in range(5)))
    assert len(set(racing)) == 1


async def test_start_conversation_checks_its_input(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    too_many = [bob.id] * 2 + [alice.id] * 31
    cases: list[tuple[dict[str, object], str]] = [
        ({"ids": []}, "BAD_USER_INPUT"),
        ({"ids": [alice.id]}, "BAD_USER_INPUT"),
        ({"ids": too_many}, "BAD_USER_INPUT"),
        ({"ids": [bob.id], "title": "x" * 101}, "BAD_USER_INPUT"),
        ({"ids": ["not-an-id"]}, "NOT_FOUND"),
    ]
    for variables, code in cases:
        assert (await api.gql_error(START, variables, token=alice.token)).codes == [code], variables
    assert (await api.gql(CONVERSATIONS, {}, token=alice.token))["conversations"]["edges"] == []


async def test_only_members_see_a_conversation(api: Api) -> None:
    alice, bob, mallory = await api.sign_up(), await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    await send(api, alice, cid, "hi bob")

    assert (await api.gql(MESSAGES, {"id": cid}, token=mallory.token))["node"] is None
    assert (
        await api.gql_error(SEND, {"cid": cid, "body": "hey", "clientId": "m1"}, token=mallory.token)
    ).codes == ["NOT_FOUND"]
    assert (await api.gql_error(MARK_READ, {"cid": cid, "seq": 1}, token=mallory.token)).codes == [
        "NOT_FOUND"
    ]
    typing = "mutation($cid: ID!) { setTyping(conversationId: $cid, isTyping: true) }"
    assert (await api.gql_error(typing, {"cid": cid}, token=mallory.token)).codes == ["NOT_FOUND"]
    assert (await api.gql(CONVERSATIONS, {}, token=mallory.token))["conversations"]["edges"] == []
    assert await seqs(api, bob, cid) == [1]


async def test_nothing_flows_between_a_blocked_pair(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    await send(api, bob, cid, "before the block")
    await api.gql(BLOCK, {"id": bob.id}, token=alice.token)

    assert (await api.gql_error(START, {"ids": [bob.id]}, token=alice.token)).codes == ["BAD_USER_INPUT"]
    # The blocked side cannot even find the blocker.
    assert (await api.gql_error(START, {"ids": [alice.id, carol.id]}, token=bob.token)).codes == ["NOT_FOUND"]
    for sender in (alice, bob):
        errors = await api.gql_error(
            SEND, {"cid": cid, "body": "hi", "clientId": uuid.uuid4().hex}, token=sender.token
        )
        assert errors.codes == ["BAD_USER_INPUT"]
    assert await seqs(api, alice, cid) == []


async def test_messages_are_numbered_and_paged_both_ways(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    for n in range(1, 8):
        message = await send(api, alice if n % 2 else bob, cid, f"m{n}")
        assert message["seq"] == n

    assert await seqs(api, bob, cid) == [1, 2, 3, 4, 5, 6, 7]
    back = (await api.gql(MESSAGES, {"id": cid, "last": 3}, token=bob.token))["node"]["messages"]
    assert [e["node"]["seq"] for e in back["edges"]] == [5, 6, 7]
    assert back["pageInfo"]["hasPreviousPage"] is True and back["pageInfo"]["hasNextPage"] is False
    before = back["pageInfo"]["startCursor"]
    assert await seqs(api, bob, cid, last=3, before=before) == [2, 3, 4]
    assert (
        await seqs(
            api,
            bob,
            cid,
            last=3,
            before=(await api.gql(MESSAGES, {"id": cid, "first": 1}, token=bob.token))["node"]["messages"][
                "pageInfo"
            ]["endCursor"],
        )
        == []
    )

    forward = (await api.gql(MESSAGES, {"id": cid, "first": 4}, token=bob.token))["node"]["messages"]
    assert [e["node"]["seq"] for e in forward["edges"]] == [1, 2, 3, 4]
    assert forward["pageInfo"]["hasNextPage"] is True
    assert await seqs(api, bob, cid, first=4, after=forward["pageInfo"]["endCursor"]) == [5, 6, 7]
    errors = await api.gql_error(MESSAGES, {"id": cid, "first": 2, "last": 2}, token=bob.token)
    assert errors.codes == ["BAD_USER_INPUT"]
    assert (await api.gql_error(MESSAGES, {"id": cid, "first": 101}, token=bob.token)).codes == [
        "BAD_USER_INPUT"
    ]


async def test_a_retried_send_returns_the_first_message(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    first = await send(api, alice, cid, "once", client_id="c-1")
    again = await send(api, alice, cid, "once", client_id="c-1")
    racing = await asyncio.gather(*(send(api, alice, cid, "race", client_id="c-2") for _ in range(8)))

    assert again == first
    assert len({m["id"] for m in racing}) == 1
    assert await seqs(api, alice, cid) == [1, 2]
    other = await start(api, alice, await api.sign_up())
    errors = await api.gql_error(SEND, {"cid": other, "body": "x", "clientId": "c-1"}, token=alice.token)
    assert errors.codes == ["CONFLICT"]
    # In a group no pair lock queues them: the racing sends meet on the clientId key itself.
    group = await start(api, alice, bob, await api.sign_up())
    racing = await asyncio.gather(*(send(api, alice, group, "race", client_id="g-1") for _ in range(8)))
    assert len({m["id"] for m in racing}) == 1
    assert await seqs(api, alice, group) == [1]


async def test_concurrent_senders_get_every_seq_once(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    sent = await asyncio.gather(*(send(api, alice if n % 2 else bob, cid, f"n{n}") for n in range(50)))

    assert sorted(int(str(m["seq"])) for m in sent) == list(range(1, 51))
    assert await seqs(api, alice, cid, first=100) == list(range(1, 51))


async def test_message_content_rules(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    for body, client_id in (("", "a"), ("   ", "b"), ("x" * 2001, "c"), ("ok", ""), ("ok", "has space")):
        errors = await api.gql_error(
            SEND, {"cid": cid, "body": body, "clientId": client_id}, token=alice.token
        )
        assert errors.codes == ["BAD_USER_INPUT"], (body[:10], client_id)
    post_media = await api.upload(alice, "POST")
    errors = await api.gql_error(
        SEND, {"cid": cid, "clientId": "p", "mediaId": post_media}, token=alice.token
    )
    assert errors.codes == ["BAD_USER_INPUT"]
    media = await api.upload(alice, "MESSAGE")
    sent = (await api.gql(SEND, {"cid": cid, "clientId": "photo", "mediaId": media}, token=alice.token))[
        "sendMessage"
    ]
    assert (sent["seq"], sent["body"], sent["media"]) == (1, "", {"id": media, "status": "READY"})
    assert len((await send(api, alice, cid, "y" * 2000))["body"]) == 2000  # type: ignore[arg-type]


async def test_read_mark_only_moves_forward(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    for n in range(4):
        await send(api, alice, cid, f"m{n}")
    await send(api, bob, cid, "mine")

    async def unread(user: TestUser) -> int:
        edges = (await api.gql(CONVERSATIONS, {}, token=user.token))["conversations"]["edges"]
        count: int = edges[0]["node"]["unreadCount"]
        return count

    assert (await unread(bob), await unread(alice)) == (4, 1)
    assert (await api.gql(MARK_READ, {"cid": cid, "seq": 3}, token=bob.token))["markConversationRead"] == {
        "unreadCount": 1
    }
    await api.gql(MARK_READ, {"cid": cid, "seq": 1}, token=bob.token)
    assert await unread(bob) == 1
    await api.gql(MARK_READ, {"cid": cid, "seq": 99}, token=bob.token)
    assert await unread(bob) == 0
    assert (await api.gql_error(MARK_READ, {"cid": cid, "seq": -1}, token=bob.token)).codes == [
        "BAD_USER_INPUT"
    ]


async def test_conversations_most_recently_active_first_in_fixed_statements(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    ids = [await start(api, alice, bob, carol, title=f"g{n}") for n in range(25)]
    await send(api, bob, ids[3], "bump")

    first = (await api.gql(CONVERSATIONS, {"first": 2}, token=alice.token))["conversations"]
    assert [e["node"]["title"] for e in first["edges"]] == ["g3", "g24"]
    assert first["edges"][0]["node"]["lastMessage"] == {"body": "bump", "sender": {"username": bob.username}}
    rest = (
        await api.gql(
            CONVERSATIONS, {"first": 100, "after": first["pageInfo"]["endCursor"]}, token=alice.token
        )
    )["conversations"]
    assert [e["node"]["title"] for e in rest["edges"]] == [f"g{n}" for n in range(23, -1, -1) if n != 3]

    counts = []
    for size in (5, 25):
        with api.count_statements() as statements:
            await api.gql(CONVERSATIONS, {"first": size}, token=alice.token)
        counts.append(len(statements))
    assert counts[0] == counts[1]
    for n in range(25):
        await send(api, carol, ids[0], f"m{n}")
    counts = []
    for size in (5, 25):
        with api.count_statements() as statements:
            await api.gql(MESSAGES, {"id": ids[0], "first": size}, token=alice.token)
        counts.append(len(statements))
    assert counts[0] == counts[1]


async def test_a_group_has_at_most_32_members_and_a_refused_one_leaves_nothing(asgi: ServerFactory) -> None:
    async with asgi(signups_per_window=40) as api:
        await _refuses_a_33rd_member(api)


async def _refuses_a_33rd_member(api: Api) -> None:
    owner, *others = [await api.sign_up() for _ in range(33)]
    errors = await api.gql_error(START, {"ids": [o.id for o in others], "title": "too many"}, owner.token)
    assert errors.codes == ["BAD_USER_INPUT"]
    assert errors.errors[0]["extensions"]["field"] == "memberIds"
    assert (await api.gql(CONVERSATIONS, {"first": 5}, owner.token))["conversations"]["edges"] == []
    full = await api.gql(START, {"ids": [o.id for o in others[:31]], "title": "full"}, owner.token)
    assert len(full["startConversation"]["members"]) == 32
