"""Message requests: which folder a conversation lands in (follows, private accounts, groups,
blocks), accepting, declining, replying, the badge counts, and mute."""

from __future__ import annotations

from tests.conversation_helpers import ACCEPT, DECLINE, FOLDER, MUTE, SEND_TEXT, folders
from tests.engagement import APPROVE, BLOCK, FOLLOW, GO_PRIVATE
from tests.harness import Api
from tests.test_conversations import MESSAGES, START, send, start


async def test_a_conversation_from_someone_not_followed_is_a_request(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    await send(api, alice, cid, "hi, we met at the party")

    assert await folders(api, bob) == {"inbox": [], "requests": [cid], "unread": 0, "request_count": 1}
    # The sender started it: it is in their inbox, and nothing is unread for them.
    assert await folders(api, alice) == {"inbox": [cid], "requests": [], "unread": 0, "request_count": 0}
    # The request's messages are readable before accepting.
    data = await api.gql(MESSAGES, {"id": cid}, token=bob.token)
    assert [e["node"]["body"] for e in data["node"]["messages"]["edges"]] == ["hi, we met at the party"]


async def test_following_the_sender_puts_it_in_the_inbox_even_later(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    await api.gql(FOLLOW, {"id": alice.id}, token=bob.token)
    followed = await start(api, alice, bob)
    later = await start(api, carol, bob)
    await send(api, carol, later, "hello")
    assert (await folders(api, bob))["inbox"] == [followed]
    assert (await folders(api, bob))["requests"] == [later]

    await api.gql(FOLLOW, {"id": carol.id}, token=bob.token)
    after = await folders(api, bob)
    assert (after["inbox"], after["requests"], after["unread"]) == ([later, followed], [], 1)


async def test_private_accounts_a_follow_request_is_not_a_follow(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    await api.gql(GO_PRIVATE, token=alice.token)
    await api.gql(FOLLOW, {"id": alice.id}, token=bob.token)  # requested, not yet approved
    cid = await start(api, alice, bob)
    assert (await folders(api, bob))["requests"] == [cid]

    await api.gql(APPROVE, {"id": bob.id}, token=alice.token)
    assert (await folders(api, bob))["inbox"] == [cid]

    # A private recipient is no different: what counts is whom the recipient follows.
    carol, dave = await api.sign_up(), await api.sign_up()
    await api.gql(GO_PRIVATE, token=dave.token)
    await api.gql(FOLLOW, {"id": dave.id}, token=carol.token)
    await api.gql(APPROVE, {"id": carol.id}, token=dave.token)
    to_dave = await start(api, carol, dave)
    assert (await folders(api, dave))["requests"] == [to_dave]
    assert (await folders(api, carol))["inbox"] == [to_dave]


async def test_a_group_is_a_request_for_each_member_who_follows_nobody_in_it(api: Api) -> None:
    alice, bob, carol, dave = [await api.sign_up() for _ in range(4)]
    await api.gql(FOLLOW, {"id": carol.id}, token=bob.token)  # bob follows another member (not the creator)
    cid = await start(api, alice, bob, carol, dave, title="Trip")
    await send(api, alice, cid, "who is in?")

    assert (await folders(api, bob))["inbox"] == [cid]
    assert (await folders(api, carol))["requests"] == [cid]
    assert (await folders(api, dave))["requests"] == [cid]
    assert (await folders(api, alice))["inbox"] == [cid]


async def test_blocking_refuses_everything_requests_included(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    await api.gql(BLOCK, {"id": alice.id}, token=bob.token)
    assert (await api.gql_error(START, {"ids": [bob.id]}, token=alice.token)).codes == ["NOT_FOUND"]
    errors = await api.gql_error(
        SEND_TEXT,
        {"cid": cid},
        token=alice.token,
    )
    assert errors.codes == ["BAD_USER_INPUT"]


async def test_accepting_moves_it_to_the_inbox_and_counts_it(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    await send(api, alice, cid, "hi")

    accepted = (await api.gql(ACCEPT, {"cid": cid}, token=bob.token))["acceptMessageRequest"]
    assert accepted == {"id": cid, "isRequest": False}
    assert await folders(api, bob) == {"inbox": [cid], "requests": [], "unread": 1, "request_count": 0}
    # Accepting again changes nothing; a stranger gets NOT_FOUND.
    assert (await api.gql(ACCEPT, {"cid": cid}, token=bob.token))["acceptMessageRequest"][
        "isRequest"
    ] is False
    mallory = await api.sign_up()
    assert (await api.gql_error(ACCEPT, {"cid": cid}, token=mallory.token)).codes == ["NOT_FOUND"]


async def test_replying_accepts_the_request(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    await send(api, alice, cid, "hi")
    await send(api, bob, cid, "hi back")
    assert (await folders(api, bob))["inbox"] == [cid]


async def test_declining_removes_it_for_the_recipient_silently(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    await send(api, alice, cid, "buy my course")

    declined = await api.gql(DECLINE, {"cid": cid}, token=bob.token)
    assert declined == {"declineMessageRequest": cid}
    assert await api.gql(DECLINE, {"cid": cid}, token=bob.token) == declined  # a retry answers the same
    assert await folders(api, bob) == {"inbox": [], "requests": [], "unread": 0, "request_count": 0}
    assert (await api.gql(MESSAGES, {"id": cid}, token=bob.token))["node"] is None
    assert (await api.gql_error(ACCEPT, {"cid": cid}, token=bob.token)).codes == ["NOT_FOUND"]

    # The sender is not told: bob is still listed, and sending still works.
    members = "query($id: ID!) { node(id: $id) { ... on Conversation { members { username } } } }"
    listed = (await api.gql(members, {"id": cid}, token=alice.token))["node"]["members"]
    assert {m["username"] for m in listed} == {alice.username, bob.username}
    await send(api, alice, cid, "hello??")
    assert (await folders(api, bob))["requests"] == []

    # Starting the 1:1 themselves brings it back, accepted, with its history.
    assert await start(api, bob, alice) == cid
    assert (await folders(api, bob))["inbox"] == [cid]
    data = await api.gql(MESSAGES, {"id": cid}, token=bob.token)
    assert [e["node"]["seq"] for e in data["node"]["messages"]["edges"]] == [1, 2]


async def test_only_a_request_can_be_declined(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    assert (await api.gql_error(DECLINE, {"cid": cid}, token=alice.token)).codes == ["BAD_USER_INPUT"]
    mallory = await api.sign_up()
    assert (await api.gql_error(DECLINE, {"cid": cid}, token=mallory.token)).codes == ["NOT_FOUND"]


async def test_a_muted_conversation_counts_in_no_badge(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    await api.gql(FOLLOW, {"id": alice.id}, token=bob.token)
    cid = await start(api, alice, bob)
    await send(api, alice, cid, "hi")
    assert (await folders(api, bob))["unread"] == 1

    assert (await api.gql(MUTE, {"cid": cid, "on": True}, token=bob.token))["setConversationMuted"] == {
        "isMuted": True
    }
    data = await api.gql(FOLDER, {}, token=bob.token)
    assert data["unreadConversationCount"] == 0
    assert data["conversations"]["edges"][0]["node"] == {
        "id": cid,
        "isRequest": False,
        "isMuted": True,
        "unreadCount": 1,
    }
    await api.gql(MUTE, {"cid": cid, "on": True}, token=bob.token)  # again: no change
    await api.gql(MUTE, {"cid": cid, "on": False}, token=bob.token)
    assert (await folders(api, bob))["unread"] == 1
    # Muting is the viewer's own: alice's view is unchanged, and a stranger gets NOT_FOUND.
    assert (await api.gql(FOLDER, {}, token=alice.token))["conversations"]["edges"][0]["node"][
        "isMuted"
    ] is False
    mallory = await api.sign_up()
    assert (await api.gql_error(MUTE, {"cid": cid, "on": True}, token=mallory.token)).codes == ["NOT_FOUND"]
