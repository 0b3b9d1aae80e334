"""The write path: rules checked inside the transaction that acts on them, nothing half written,
no network call while a transaction is open, and a request that reads its own writes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from core.database import transaction_open
from models import Base, Block, Conversation, Follow, FollowState, Message
from tests.harness import Api, TestUser
from tests.posting import CREATE_POST, create_post, ready_media, settle, user_id
from tests.story_helpers import create_story

FOLLOW = "mutation($id: ID!) { follow(userId: $id) { viewerFollowStatus } }"
UNFOLLOW = "mutation($id: ID!) { unfollow(userId: $id) { id } }"
BLOCK = "mutation($id: ID!) { block(userId: $id) { id } }"
UNBLOCK = "mutation($id: ID!) { unblock(userId: $id) { id } }"
PRIVATE = "mutation($on: Boolean!) { updateProfile(input: {isPrivate: $on}) { isPrivate } }"
FEED = "{ feed(first: 50) { edges { node { author { username } } } } }"
REPLY = "mutation($story: ID!, $body: String!, $cid: String!) { replyToStory(storyId: $story, body: $body, clientId: $cid) { id } }"  # noqa: E501
LIKE = "mutation($id: ID!) { likePost(id: $id) { likeCount } }"
START = "mutation($ids: [ID!]!) { startConversation(input: {memberIds: $ids}) { id } }"
SEND = "mutation($c: ID!, $b: String!, $k: String!) { sendMessage(input: {conversationId: $c, body: $b, clientId: $k}) { seq } }"  # noqa: E501
LOG_IN = "mutation($u: String!, $p: String!) { logIn(input: {username: $u, password: $p}) { token } }"


async def _rows(api: Api, model: type[Base], *where: Any) -> int:
    async with api.services.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# Check, then act: the rule is read inside the transaction, after the lock that orders it.


async def test_follow_racing_block_never_leaves_a_follow_beside_a_block(api: Api) -> None:
    fan, author = await api.sign_up(), await api.sign_up()
    await create_post(api, author, "by the author")
    for _ in range(100):
        await asyncio.gather(
            api.post(FOLLOW, {"id": author.id}, fan.token), api.post(BLOCK, {"id": fan.id}, author.token)
        )
        follows = await _rows(api, Follow, Follow.follower_id == user_id(fan))
        blocks = await _rows(api, Block, Block.user_id == user_id(author))
        assert blocks == 1 and follows == 0
        await settle(api)
        assert (await api.gql(FEED, token=fan.token))["feed"]["edges"] == []
        await api.gql(UNBLOCK, {"id": fan.id}, author.token)


async def test_the_feed_shows_nothing_across_a_block_even_beside_a_follow_row(api: Api) -> None:
    """Defence in depth: even a follow row beside a block (written behind the app's back) shows
    nothing of the blocked author in the feed."""
    fan, author = await api.sign_up(), await api.sign_up()
    await create_post(api, author, "hidden")
    await api.gql(FOLLOW, {"id": author.id}, fan.token)
    async with api.services.db.write() as session:
        session.add(Block(user_id=user_id(author), other_id=user_id(fan), created_at=api.clock.now()))
    await settle(api)
    assert await _rows(api, Follow, Follow.follower_id == user_id(fan)) == 1
    assert (await api.gql(FEED, token=fan.token))["feed"]["edges"] == []


async def test_a_follow_waits_for_a_switch_to_private_in_flight(api: Api, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time: no switch can be in flight")
    fan, author = await api.sign_up(), await api.sign_up()
    engine = create_async_engine(api.services.db.url)
    try:
        async with engine.connect() as side:
            # A switch to private, committed a moment after the follow has read the account.
            await side.execute(
                text("UPDATE users SET is_private = true WHERE id = :id"), {"id": user_id(author)}
            )
            follow = asyncio.create_task(api.gql(FOLLOW, {"id": author.id}, fan.token))
            await _until_waiting_on_a_lock(side)
            await side.commit()
        status = (await follow)["follow"]["viewerFollowStatus"]
    finally:
        await engine.dispose()
    assert status == "REQUESTED"
    assert await _rows(api, Follow, Follow.state == FollowState.ACCEPTED) == 0


async def _until_waiting_on_a_lock(side: Any) -> None:
    """Readiness, not a sleep: PostgreSQL says when another backend waits for a lock."""
    for _ in range(500):
        waiting = await side.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the follow never waited for the switch to private")


# Nothing half written.


async def test_a_refused_reply_leaves_no_conversation_and_no_message(api: Api) -> None:
    viewer, author = await api.sign_up(), await api.sign_up()
    await api.gql(FOLLOW, {"id": author.id}, viewer.token)
    story = await create_story(api, author)
    too_long = await api.gql_error(REPLY, {"story": story, "body": "x" * 2001, "cid": "r1"}, viewer.token)
    bad_client_id = await api.gql_error(
        REPLY, {"story": story, "body": "hi", "cid": "two words"}, viewer.token
    )
    empty_client_id = await api.gql_error(REPLY, {"story": story, "body": "hi", "cid": " "}, viewer.token)
    assert too_long.codes == bad_client_id.codes == empty_client_id.codes == ["BAD_USER_INPUT"]
    assert await _rows(api, Conversation) == 0
    assert await _rows(api, Message) == 0


class _FailNthWrite:
    """Makes the Nth INSERT/UPDATE/DELETE of a request fail, as a crash or a broken constraint
    would: a write split over two transactions is caught with its first one committed."""

    def __init__(self, api: Api, nth: int) -> None:
        self.api, self.nth, self.seen, self.failed = api, nth, 0, False

    def __enter__(self) -> _FailNthWrite:
        event.listen(self.api.services.db.writer.sync_engine, "before_cursor_execute", self._before)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.api.services.db.writer.sync_engine, "before_cursor_execute", self._before)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.split()
        # Claiming and completing outbox rows after the commit is not the mutation's own write.
        after_commit = words[:2] == ["UPDATE", "outbox"] or words[:3] == ["DELETE", "FROM", "outbox"]
        # A data-modifying CTE (a send's seq UPDATE feeding its INSERT, on PostgreSQL) is a write.
        modifying = words[0].upper() == "WITH" and any(w in ("INSERT", "UPDATE", "DELETE") for w in words)
        if (words[0].upper() in ("INSERT", "UPDATE", "DELETE") or modifying) and not after_commit:
            self.seen += 1
            if self.seen == self.nth:
                self.failed = True
                raise RuntimeError("injected failure")


async def _snapshot(api: Api) -> dict[str, int]:
    async with api.services.db.read() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
            if table.name != "id_node_leases"
        }


async def test_every_mutation_that_writes_twice_writes_all_or_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After-commit work runs only when settled, so every write counted below is the mutation's.
    monkeypatch.setattr(api.services.outbox, "kick", lambda services: None)
    alice, bob, carol, dave = [await api.sign_up() for _ in range(4)]
    await api.gql(PRIVATE, {"on": True}, carol.token)
    post = await create_post(api, bob, "a post")
    story = await create_story(api, dave, "PUBLIC")  # no conversation with dave yet
    media = await ready_media(api, alice)
    conversation = (await api.gql(START, {"ids": [bob.id]}, alice.token))["startConversation"]["id"]
    cases: list[tuple[str, dict[str, Any], TestUser]] = [
        (FOLLOW, {"id": carol.id}, alice),  # a follow request
        (CREATE_POST, {"input": {"caption": "c", "mediaIds": media}}, alice),  # post, media (+ outbox)
        (REPLY, {"story": story, "body": "hi", "cid": "reply-1"}, alice),  # conversation, members, message
        (SEND, {"c": conversation, "b": "hello", "k": "send-1"}, alice),  # seq, message
        (PRIVATE, {"on": False}, carol),  # public again: the pending request becomes a follow
        ("mutation($id: ID!) { deletePost(id: $id) }", {"id": post}, bob),  # post, media, outbox
        (BLOCK, {"id": bob.id}, alice),  # the block, and the follows it ends
    ]
    for query, variables, user in cases:
        for nth in range(1, 10):
            await settle(api)  # earlier cases' after-commit work, out of the comparison
            before = await _snapshot(api)
            with _FailNthWrite(api, nth) as failing:
                body = await api.post(query, variables, user.token)
            if not failing.failed:
                # Fewer than `nth` writes: each earlier one was made to fail; this run completes.
                assert not body.get("errors"), (query, body)
                assert nth > 1, query
                break
            assert body.get("errors"), (query, nth)
            assert await _snapshot(api) == before, (query, nth)


# No network call while a transaction is open.


async def test_no_storage_redis_or_pubsub_call_happens_inside_a_transaction(api: Api) -> None:
    violations: list[str] = []
    with _watch_adapters(api, violations):
        alice, bob = await api.sign_up(), await api.sign_up()
        await api.gql(FOLLOW, {"id": bob.id}, alice.token)
        post = await create_post(api, bob, "watched")
        await api.gql(LIKE, {"id": post}, alice.token)
        story = await create_story(api, bob, "PUBLIC")
        await api.gql(REPLY, {"story": story, "body": "nice", "cid": "w-1"}, alice.token)
        await api.gql("mutation($id: ID!) { deletePost(id: $id) }", {"id": post}, bob.token)
        await api.gql(BLOCK, {"id": alice.id}, bob.token)
        api.clock.advance(3 * 86_400)
        from resolvers.media.uploads import sweep_abandoned_uploads
        from resolvers.stories.sweeper import sweep_expired_stories

        assert await sweep_expired_stories(api.services) == 1
        await sweep_abandoned_uploads(api.services)
        await settle(api)
    assert violations == []


async def test_the_adapter_watch_sees_a_call_inside_a_transaction(api: Api) -> None:
    """The instrument of the test above, shown to work."""
    violations: list[str] = []
    with _watch_adapters(api, violations):
        async with api.services.db.write():
            await api.services.storage.head("nothing/here.jpg")
    assert violations == ["storage.head"]


@contextmanager
def _watch_adapters(api: Api, violations: list[str]) -> Iterator[None]:
    services = api.services
    patched: list[tuple[Any, str, Any]] = []

    def watch(target: Any, name: str, label: str) -> None:
        original = getattr(target, name)

        async def watched(*args: Any, **kwargs: Any) -> Any:
            if transaction_open.get():
                violations.append(label)
            return await original(*args, **kwargs)

        patched.append((target, name, original))
        setattr(target, name, watched)

    for name in ("head", "read_prefix", "get", "put", "delete", "copy", "download", "list"):
        if hasattr(services.storage, name):
            watch(services.storage, name, f"storage.{name}")
    watch(services.pubsub, "publish", "pubsub.publish")
    if isinstance(services.redis, Redis):  # the suite's Redis is a single server
        watch(services.redis.connection_pool, "get_connection", "redis")
    try:
        yield
    finally:
        for target, name, original in patched:
            setattr(target, name, original)


# Limits are reserved before the work, and count every mutation field.


async def test_parallel_wrong_passwords_get_at_most_the_limit_of_checks(api: Api) -> None:
    user = await api.sign_up()
    checks = 0
    verify = api.services.passwords.verify

    async def counted(password_hash: str | None, password: str) -> bool:
        nonlocal checks
        checks += 1
        return await verify(password_hash, password)

    api.services.passwords.verify = counted  # type: ignore[method-assign]
    bodies = await asyncio.gather(
        *(api.post(LOG_IN, {"u": user.username, "p": f"wrong {n}"}) for n in range(50))
    )
    limit = api.services.settings.login_attempts_per_window
    codes = [body["errors"][0]["extensions"]["code"] for body in bodies]
    assert checks <= limit
    assert codes.count("UNAUTHENTICATED") == checks and codes.count("RATE_LIMITED") == 50 - checks


async def test_aliased_and_batched_mutations_count_every_field(server: Any) -> None:
    async with server(mutations_per_minute_per_user=20) as api:
        user = await api.sign_up()
        conversation = await _self_conversation(api, user)
        typing = " ".join(
            f'm{n}: setTyping(conversationId: "{conversation}", isTyping: true)' for n in range(15)
        )
        batch = [{"query": f"mutation {{ {typing} }}"}, {"query": f"mutation {{ {typing} }}"}]
        response = await api.http.post(
            "/graphql", json=batch, headers={"Authorization": f"Bearer {user.token}"}
        )
        first, second = response.json()
        assert "errors" not in first and len(first["data"]) == 15
        assert second["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def _self_conversation(api: Api, user: TestUser) -> str:
    other = await api.sign_up()
    data = await api.gql(START, {"ids": [other.id]}, user.token)
    conversation: str = data["startConversation"]["id"]
    return conversation


# A request reads its own writes.


async def test_a_later_operation_of_the_request_sees_the_write(api: Api) -> None:
    fan, author = await api.sign_up(), await api.sign_up()
    count = "query($u: String!) { user(username: $u) { followerCount viewerFollowStatus } }"
    batch = [
        {"query": count, "variables": {"u": author.username}},
        {"query": FOLLOW, "variables": {"id": author.id}},
        {"query": count, "variables": {"u": author.username}},
    ]
    response = await api.http.post("/graphql", json=batch, headers={"Authorization": f"Bearer {fan.token}"})
    before, _, after = response.json()
    before, after = before["data"]["user"], after["data"]["user"]
    assert before == {"followerCount": 0, "viewerFollowStatus": "NONE"}
    assert after == {"followerCount": 1, "viewerFollowStatus": "FOLLOWING"}


async def test_the_writers_position_is_recorded_before_the_live_event_goes_out(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that refetches when the event arrives must read the write, even from a replica: the
    writer's commit position (read-your-writes) is recorded first, then the event published."""
    alice, bob = await api.sign_up(), await api.sign_up()
    conversation = (await api.gql(START, {"ids": [bob.id]}, alice.token))["startConversation"]["id"]
    services = api.services
    happened: list[str] = []
    remember, publish = services.db.remember_write, services.pubsub.publish

    async def remembering(user: int) -> None:
        happened.append(f"remember {user}")
        await remember(user)

    async def publishing(channel: str, event: Any) -> None:
        happened.append("publish")
        await publish(channel, event)

    monkeypatch.setattr(services.db, "remember_write", remembering)
    monkeypatch.setattr(services.pubsub, "publish", publishing)
    await api.gql(SEND, {"c": conversation, "b": "hi", "k": "ryw-1"}, alice.token)

    assert "publish" in happened
    assert happened[0] == f"remember {user_id(alice)}", happened
