"""Changing sent messages: edit within the window, unsend (a tombstone in place), reactions, and
shared posts and stories decided for each reader."""

from __future__ import annotations

import uuid

from core.ids import from_global_id
from models import Media
from tests.conversation_helpers import EDIT, HISTORY, MESSAGE, REACT, SHARE, UNSEND
from tests.engagement import BLOCK, DELETE_POST, FOLLOW, GO_PRIVATE
from tests.harness import Api, TestUser
from tests.posting import create_post, ready_media
from tests.story_helpers import create_story
from tests.test_conversations import SEND, send, start


async def _history(api: Api, user: TestUser, cid: str) -> list[dict[str, object]]:
    data = await api.gql(HISTORY, {"id": cid, "last": 10}, token=user.token)
    return [e["node"] for e in data["node"]["messages"]["edges"]]


async def _share(api: Api, user: TestUser, cid: str, **shared: str) -> dict[str, object]:
    variables = {"cid": cid, "clientId": uuid.uuid4().hex, **shared}
    message: dict[str, object] = (await api.gql(SHARE, variables, token=user.token))["sendMessage"]
    return message


async def test_the_sender_edits_within_the_window(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    message = await send(api, alice, cid, "see you at 8")

    edited = (await api.gql(EDIT, {"id": message["id"], "body": " see you at 9 "}, token=alice.token))[
        "editMessage"
    ]
    assert (edited["body"], edited["seq"]) == ("see you at 9", 1)
    first_edit = edited["editedAt"]
    assert first_edit is not None
    # The same body again changes nothing, not even editedAt.
    api.clock.advance(5)
    again = (await api.gql(EDIT, {"id": message["id"], "body": "see you at 9"}, token=alice.token))[
        "editMessage"
    ]
    assert again["editedAt"] == first_edit
    assert [m["body"] for m in await _history(api, bob, cid)] == ["see you at 9"]

    assert (await api.gql_error(EDIT, {"id": message["id"], "body": "x"}, token=bob.token)).codes == [
        "FORBIDDEN"
    ]
    assert (await api.gql_error(EDIT, {"id": message["id"], "body": ""}, token=alice.token)).codes == [
        "BAD_USER_INPUT"
    ]
    api.clock.advance(api.services.settings.message_edit_window_seconds)
    late = await api.gql_error(EDIT, {"id": message["id"], "body": "at 10"}, token=alice.token)
    assert late.codes == ["BAD_USER_INPUT"]
    mallory = await api.sign_up()
    assert (await api.gql_error(EDIT, {"id": message["id"], "body": "x"}, token=mallory.token)).codes == [
        "NOT_FOUND"
    ]


async def test_unsend_keeps_the_seq_and_removes_the_content_for_everyone(api: Api) -> None:
    alice, bob = await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob)
    await send(api, alice, cid, "one")
    (media_id,) = await ready_media(api, alice, purpose="MESSAGE")
    parsed = from_global_id(media_id)
    assert parsed is not None
    async with api.services.db.read() as session:
        media = await session.get(Media, parsed[1])
        assert media is not None
        key = media.storage_key
    await api.services.storage.put(key, b"\xff\xd8\xff photo", "image/jpeg")
    variables = {"cid": cid, "body": "look", "clientId": "with-photo", "mediaId": media_id}
    photo = (await api.gql(SEND, variables, token=alice.token))["sendMessage"]
    await api.gql(REACT, {"id": photo["id"], "emoji": "😂"}, token=bob.token)
    await send(api, alice, cid, "three")

    assert (await api.gql_error(UNSEND, {"id": photo["id"]}, token=bob.token)).codes == ["FORBIDDEN"]
    unsent = (await api.gql(UNSEND, {"id": photo["id"]}, token=alice.token))["unsendMessage"]
    assert unsent["unsentAt"] is not None
    assert (unsent["seq"], unsent["body"], unsent["media"], unsent["reactions"]) == (2, "", None, [])
    history = await _history(api, bob, cid)
    assert [(m["seq"], m["body"], m["unsentAt"] is not None) for m in history] == [
        (1, "one", False),
        (2, "", True),
        (3, "three", False),
    ]
    await api.services.outbox.settle(api.services)
    assert await api.services.storage.head(key) is None
    # Unsending again changes nothing; an unsent message takes no edit and no reaction.
    assert (await api.gql(UNSEND, {"id": photo["id"]}, token=alice.token))["unsendMessage"] == unsent
    assert (await api.gql_error(EDIT, {"id": photo["id"], "body": "x"}, token=alice.token)).codes == [
        "BAD_USER_INPUT"
    ]
    assert (await api.gql_error(REACT, {"id": photo["id"], "emoji": "👍"}, token=bob.token)).codes == [
        "BAD_USER_INPUT"
    ]


async def test_one_reaction_per_member_oldest_first(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    cid = await start(api, alice, bob, carol)
    message = await send(api, alice, cid, "pizza tonight?")
    mid = message["id"]

    await api.gql(REACT, {"id": mid, "emoji": "🍕"}, token=carol.token)
    api.clock.advance(1)
    await api.gql(REACT, {"id": mid, "emoji": "👍"}, token=bob.token)
    api.clock.advance(1)
    reacted = (await api.gql(REACT, {"id": mid, "emoji": "❤️"}, token=carol.token))["reactToMessage"]
    # A new emoji replaces the member's reaction (and moves it to now).
    assert [(r["user"]["username"], r["emoji"]) for r in reacted["reactions"]] == [
        (bob.username, "👍"),
        (carol.username, "❤️"),
    ]
    same = (await api.gql(REACT, {"id": mid, "emoji": "❤️"}, token=carol.token))["reactToMessage"]
    assert same["reactions"] == reacted["reactions"]
    removed = (await api.gql(REACT, {"id": mid, "emoji": None}, token=bob.token))["reactToMessage"]
    assert [r["user"]["username"] for r in removed["reactions"]] == [carol.username]
    await api.gql(REACT, {"id": mid}, token=bob.token)  # removing what is not there: nothing changes

    for bad in ("ok", "👍👍", ""):
        errors = await api.gql_error(REACT, {"id": mid, "emoji": bad}, token=bob.token)
        assert errors.codes == ["BAD_USER_INPUT"], bad
    mallory = await api.sign_up()
    assert (await api.gql_error(REACT, {"id": mid, "emoji": "👍"}, token=mallory.token)).codes == [
        "NOT_FOUND"
    ]

    # Nothing flows between a blocked pair: alice no longer sees carol's reaction.
    await api.gql(BLOCK, {"id": carol.id}, token=alice.token)
    seen = (await api.gql(MESSAGE, {"id": mid}, token=alice.token))["node"]
    assert seen["reactions"] == []


async def test_a_shared_post_is_decided_for_each_reader(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    await api.gql(GO_PRIVATE, token=carol.token)
    await api.gql(FOLLOW, {"id": carol.id}, token=alice.token)
    await api.gql(
        "mutation($id: ID!) { approveFollowRequest(userId: $id) { id } }", {"id": alice.id}, token=carol.token
    )
    private_post = await create_post(api, carol, "just for followers")
    cid = await start(api, alice, bob)

    shared = await _share(api, alice, cid, post=private_post)
    assert shared["sharedPost"] == {"id": private_post}
    # bob may not see carol's private post: for him the share is null, on every path.
    assert (await _history(api, bob, cid))[0]["sharedPost"] is None
    assert (await api.gql(MESSAGE, {"id": shared["id"]}, token=bob.token))["node"]["sharedPost"] is None
    assert (await _history(api, alice, cid))[0]["sharedPost"] == {"id": private_post}

    # Sharing what the sender may not see is NOT_FOUND; a post or a story, not both.
    errors = await api.gql_error(
        SHARE, {"cid": cid, "clientId": "bob-share", "post": private_post}, token=bob.token
    )
    assert errors.codes == ["NOT_FOUND"]
    public_post = await create_post(api, bob, "public")
    story = await create_story(api, bob, "PUBLIC")
    both = await api.gql_error(
        SHARE, {"cid": cid, "clientId": "both", "post": public_post, "story": story}, token=bob.token
    )
    assert both.codes == ["BAD_USER_INPUT"]

    # A deleted post is null for everyone.
    deleted = await _share(api, bob, cid, post=public_post)
    await api.gql(DELETE_POST, {"id": public_post}, token=bob.token)
    assert (await api.gql(MESSAGE, {"id": deleted["id"]}, token=alice.token))["node"]["sharedPost"] is None


async def test_a_shared_story_goes_with_expiry_and_audience(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    await api.gql(FOLLOW, {"id": carol.id}, token=alice.token)
    story = await create_story(api, carol, "FOLLOWERS")
    cid = await start(api, alice, bob)

    shared = await _share(api, alice, cid, story=story, body="look at this")
    assert (shared["body"], shared["sharedStory"]) == ("look at this", {"id": story})
    # bob does not follow carol: her followers-only story is not for him.
    assert (await _history(api, bob, cid))[0]["sharedStory"] is None
    await api.gql(FOLLOW, {"id": carol.id}, token=bob.token)
    assert (await _history(api, bob, cid))[0]["sharedStory"] == {"id": story}

    api.clock.advance(api.services.settings.story_ttl_seconds + 1)
    for reader in (alice, bob):
        assert (await _history(api, reader, cid))[0]["sharedStory"] is None
    expired = await api.gql_error(SHARE, {"cid": cid, "clientId": "late", "story": story}, token=alice.token)
    assert expired.codes == ["NOT_FOUND"]


async def test_unsend_removes_shares_and_a_replay_rechecks_them(api: Api) -> None:
    alice, bob, carol = await api.sign_up(), await api.sign_up(), await api.sign_up()
    post = await create_post(api, carol, "public")
    cid = await start(api, alice, bob)
    variables = {"cid": cid, "clientId": "share-1", "post": post}
    first = (await api.gql(SHARE, variables, token=alice.token))["sendMessage"]
    # A retry returns the first message, after checking the post is still visible to the sender.
    assert (await api.gql(SHARE, variables, token=alice.token))["sendMessage"]["id"] == first["id"]
    await api.gql(BLOCK, {"id": alice.id}, token=carol.token)
    assert (await api.gql_error(SHARE, variables, token=alice.token)).codes == ["NOT_FOUND"]

    unsent = (await api.gql(UNSEND, {"id": first["id"]}, token=alice.token))["unsendMessage"]
    assert (unsent["sharedPost"], unsent["body"]) == (None, "")
