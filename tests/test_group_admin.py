"""Running a group: admins add and remove members and rename; anyone leaves; the last admin to
leave hands the group on; a member who is out gets NOT_FOUND for it and its history."""

from __future__ import annotations

import asyncio

from core.ids import to_global_id
from tests.conversation_helpers import ADD, GROUP, LEAVE, REMOVE, RENAME, SEND_TEXT, folders
from tests.engagement import BLOCK, FOLLOW
from tests.harness import Api
from tests.story_helpers import bulk_users
from tests.test_conversations import MESSAGES, send, start


def names(users: list[dict[str, str]]) -> list[str]:
    return [user["username"] for user in users]


async def test_the_creator_is_the_first_admin_and_admins_add_members(api: Api) -> None:
    alice, bob, carol, dave = [await api.sign_up() for _ in range(4)]
    cid = await start(api, alice, bob, carol, title="Trip")
    await send(api, alice, cid, "before dave")

    group = (await api.gql(GROUP, {"id": cid}, token=bob.token))["node"]
    assert names(group["admins"]) == [alice.username]
    assert (await api.gql_error(ADD, {"cid": cid, "ids": [dave.id]}, token=bob.token)).codes == ["FORBIDDEN"]

    added = (await api.gql(ADD, {"cid": cid, "ids": [dave.id, bob.id]}, token=alice.token))[
        "addConversationMembers"
    ]
    assert names(added["members"]) == [alice.username, bob.username, carol.username, dave.username]
    # A retry adds nothing more.
    again = (await api.gql(ADD, {"cid": cid, "ids": [dave.id]}, token=alice.token))["addConversationMembers"]
    assert again == added
    # dave follows nobody in it: it is a request for him, with the history.
    assert (await folders(api, dave))["requests"] == [cid]
    history = await api.gql(MESSAGES, {"id": cid}, token=dave.token)
    assert [e["node"]["body"] for e in history["node"]["messages"]["edges"]] == ["before dave"]


async def test_adding_is_refused_for_accounts_the_admin_may_not_message_and_beyond_the_limit(
    api: Api,
) -> None:
    alice, bob, carol, erin = [await api.sign_up() for _ in range(4)]
    cid = await start(api, alice, bob, carol)
    await api.gql(BLOCK, {"id": alice.id}, token=erin.token)
    assert (await api.gql_error(ADD, {"cid": cid, "ids": [erin.id]}, token=alice.token)).codes == [
        "NOT_FOUND"
    ]
    frank = await api.sign_up()
    await api.gql(BLOCK, {"id": frank.id}, token=alice.token)
    assert (await api.gql_error(ADD, {"cid": cid, "ids": [frank.id]}, token=alice.token)).codes == [
        "BAD_USER_INPUT"
    ]
    many = [to_global_id("User", user_id) for user_id in await bulk_users(api, 30, prefix="many")]
    errors = await api.gql_error(ADD, {"cid": cid, "ids": many}, token=alice.token)
    assert errors.codes == ["BAD_USER_INPUT"]
    group = (await api.gql(GROUP, {"id": cid}, token=alice.token))["node"]
    assert len(group["members"]) == 3  # nothing half written

    direct = await start(api, alice, bob)
    assert (await api.gql_error(ADD, {"cid": direct, "ids": [carol.id]}, token=alice.token)).codes == [
        "BAD_USER_INPUT"
    ]
    mallory = await api.sign_up()
    assert (await api.gql_error(ADD, {"cid": cid, "ids": [carol.id]}, token=mallory.token)).codes == [
        "NOT_FOUND"
    ]


async def test_a_removed_member_loses_the_conversation_and_its_history(api: Api) -> None:
    alice, bob, carol = [await api.sign_up() for _ in range(3)]
    cid = await start(api, alice, bob, carol)
    message = await send(api, bob, cid, "hi all")

    assert (await api.gql_error(REMOVE, {"cid": cid, "id": carol.id}, token=bob.token)).codes == ["FORBIDDEN"]
    removed = (await api.gql(REMOVE, {"cid": cid, "id": bob.id}, token=alice.token))[
        "removeConversationMember"
    ]
    assert names(removed["members"]) == [alice.username, carol.username]
    # A retry changes nothing.
    assert (await api.gql(REMOVE, {"cid": cid, "id": bob.id}, token=alice.token))[
        "removeConversationMember"
    ] == removed

    assert (await api.gql(MESSAGES, {"id": cid}, token=bob.token))["node"] is None
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await api.gql(node, {"id": message["id"]}, token=bob.token))["node"] is None
    assert (await folders(api, bob))["inbox"] == []
    errors = await api.gql_error(
        SEND_TEXT,
        {"cid": cid},
        token=bob.token,
    )
    assert errors.codes == ["NOT_FOUND"]
    assert (await api.gql_error(REMOVE, {"cid": cid, "id": alice.id}, token=alice.token)).codes == [
        "BAD_USER_INPUT"
    ]


async def test_the_last_admin_leaving_promotes_the_longest_member(api: Api) -> None:
    alice, bob, carol, dave = [await api.sign_up() for _ in range(4)]
    cid = await start(api, alice, bob, carol)
    api.clock.advance(1)
    await api.gql(ADD, {"cid": cid, "ids": [dave.id]}, token=alice.token)

    assert await api.gql(LEAVE, {"cid": cid}, token=alice.token) == {"leaveConversation": cid}
    group = (await api.gql(GROUP, {"id": cid}, token=dave.token))["node"]
    assert names(group["members"]) == [bob.username, carol.username, dave.username]
    # bob and carol joined with the group, before dave; bob's account is the older.
    assert names(group["admins"]) == [bob.username]
    assert (await api.gql(MESSAGES, {"id": cid}, token=alice.token))["node"] is None
    assert (await api.gql_error(LEAVE, {"cid": cid}, token=alice.token)).codes == ["NOT_FOUND"]

    await api.gql(LEAVE, {"cid": cid}, token=bob.token)
    left = (await api.gql(GROUP, {"id": cid}, token=dave.token))["node"]
    assert names(left["admins"]) == [carol.username]

    direct = await start(api, dave, bob)
    assert (await api.gql_error(LEAVE, {"cid": direct}, token=dave.token)).codes == ["BAD_USER_INPUT"]


async def test_admins_rename_the_group(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    carol = await api.sign_up()
    await api.gql(FOLLOW, {"id": alice.id}, token=bob.token)
    cid = await start(api, alice, bob, carol, title="Trip")

    renamed = (await api.gql(RENAME, {"cid": cid, "title": " Lisbon 2027 "}, token=alice.token))[
        "renameConversation"
    ]
    assert renamed["title"] == "Lisbon 2027"
    assert (await api.gql_error(RENAME, {"cid": cid, "title": "Mine"}, token=bob.token)).codes == [
        "FORBIDDEN"
    ]
    assert (await api.gql_error(RENAME, {"cid": cid, "title": "x" * 101}, token=alice.token)).codes == [
        "BAD_USER_INPUT"
    ]
    cleared = (await api.gql(RENAME, {"cid": cid, "title": None}, token=alice.token))["renameConversation"]
    assert cleared["title"] is None


async def test_racing_additions_of_one_member_add_them_once(api: Api) -> None:
    alice, bob, carol, dave = [await api.sign_up() for _ in range(4)]
    cid = await start(api, alice, bob, carol)
    await api.gql(ADD, {"cid": cid, "ids": [bob.id]}, token=alice.token)  # skipped: already in
    results = await asyncio.gather(
        *(api.post(ADD, {"cid": cid, "ids": [dave.id]}, alice.token) for _ in range(4))
    )
    assert all(not result.get("errors") for result in results), results
    group = (await api.gql(GROUP, {"id": cid}, token=alice.token))["node"]
    assert names(group["members"]) == [alice.username, bob.username, carol.username, dave.username]
