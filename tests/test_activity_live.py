"""activityAdded over real WebSockets: replay from afterSeq, then live, regrouped items again, on
one process and across two (a subscriber on one process gets what the other one commits)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.engagement import BLOCK, FOLLOW, LIKE, comment
from tests.harness import Api
from tests.posting import CREATE_POST, create_post
from tests.test_scale_out import client, postgres_only, server_process  # noqa: F401
from tests.ws_client import graphql_socket

pytestmark = pytest.mark.served  # WebSockets or a real connection: uvicorn on loopback

ADDED = """
subscription($after: Int) {
  activityAdded(afterSeq: $after) { id kind seq actorCount actors { username } comment { body } }
}
"""


def added(data: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = data["activityAdded"]
    return item


async def test_replay_then_live_with_regrouped_likes(api: Api) -> None:
    owner = await api.sign_up("owner")
    fans = [await api.sign_up(f"fan{n}") for n in range(6)]
    post = await create_post(api, owner)
    await api.gql(FOLLOW, {"id": owner.id}, fans[0].token)  # seq 1

    async with graphql_socket(api.ws_url, owner.token) as socket:
        op = await socket.subscribe(ADDED, {"after": 0})
        # The replay arrives once the server listens, so nothing live below can be missed.
        first = added(await socket.next(op))
        assert (first["kind"], first["seq"], first["actors"]) == ("FOLLOWED", 1, [{"username": "fan0"}])
        await api.gql(LIKE, {"id": post}, fans[1].token)
        liked = added(await socket.next(op))
        assert (liked["kind"], liked["seq"], liked["actorCount"]) == ("POST_LIKED", 2, 1)
        await api.gql(LIKE, {"id": post}, fans[2].token)
        regrouped = added(await socket.next(op))
        assert (regrouped["id"], regrouped["seq"], regrouped["actorCount"]) == (liked["id"], 3, 2)
        assert [a["username"] for a in regrouped["actors"]] == ["fan2", "fan1"]
        await api.gql(LIKE, {"id": post}, owner.token)  # one's own doing is not news
        await socket.nothing(op)

    # Away: two items arrive, and one that vanishes (its actor is blocked) before the reconnect.
    await api.gql(FOLLOW, {"id": owner.id}, fans[3].token)
    await api.gql(FOLLOW, {"id": owner.id}, fans[4].token)
    await api.gql(BLOCK, {"id": fans[4].id}, owner.token)
    await comment(api, fans[1], post, "missed you")
    async with graphql_socket(api.ws_url, owner.token) as socket:
        op = await socket.subscribe(ADDED, {"after": 3})
        replayed = [added(await socket.next(op)) for _ in range(2)]
        assert [(item["kind"], item["seq"]) for item in replayed] == [("FOLLOWED", 4), ("POST_COMMENTED", 6)]
        assert replayed[1]["comment"] == {"body": "missed you"}
        await api.gql(FOLLOW, {"id": owner.id}, fans[5].token)
        assert (added(await socket.next(op))["seq"], "live") == (7, "live")
        await socket.nothing(op)


async def test_without_after_seq_only_new_items_come(api: Api) -> None:
    owner, fan, other = await api.sign_up(), await api.sign_up(), await api.sign_up()
    await api.gql(FOLLOW, {"id": owner.id}, fan.token)
    async with graphql_socket(api.ws_url, owner.token) as socket:
        op = await socket.subscribe(ADDED)
        await api.subscribed(owner)
        await api.gql(FOLLOW, {"id": owner.id}, other.token)
        item = added(await socket.next(op))
        assert (item["seq"], item["actors"]) == (2, [{"username": other.username}])
        await socket.nothing(op)


async def test_subscription_arguments_are_checked(api: Api) -> None:
    owner = await api.sign_up()
    for token, variables, code in (
        (owner.token, {"after": -1}, "BAD_USER_INPUT"),
        (None, {}, "UNAUTHENTICATED"),
    ):
        async with graphql_socket(api.ws_url, token) as socket:
            op = await socket.subscribe(ADDED, variables)
            message = await socket.message(op)
            errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
            assert errors[0]["extensions"]["code"] == code


async def test_a_subscriber_on_one_process_gets_what_the_other_commits(
    postgres_only: None,  # noqa: F811
    database_url: str,
    app_redis_url: str | None,
    tmp_path: Path,
) -> None:
    if app_redis_url is None:
        pytest.skip("no Redis: two processes share pub/sub through Redis only")
    async with (
        server_process(database_url, app_redis_url, tmp_path / "a") as url_a,
        server_process(database_url, app_redis_url, tmp_path / "b") as url_b,
        client(url_a) as a,
        client(url_b) as b,
    ):
        owner = await a.sign_up("owner")
        media = await a.upload(owner)
        post = (await a.gql(CREATE_POST, {"input": {"mediaIds": [media]}}, owner.token))["createPost"]["id"]
        fans = [await b.sign_up(f"fan{n}") for n in range(10)]
        await b.gql(FOLLOW, {"id": owner.id}, fans[0].token)
        async with graphql_socket(a.ws_url, owner.token) as socket:
            op = await socket.subscribe(ADDED, {"after": 0})
            assert added(await socket.next(op))["seq"] == 1  # replayed: the subscription is live
            await asyncio.gather(
                *(b.gql(FOLLOW, {"id": owner.id}, fan.token) for fan in fans[1:]),
                *(b.gql(LIKE, {"id": post}, fan.token) for fan in fans),
                *(comment(b, fan, post, f"from {fan.username}") for fan in fans),
            )
            top = (await a.gql("{ activity(first: 1) { edges { node { seq } } } }", token=owner.token))[
                "activity"
            ]["edges"][0]["node"]["seq"]
            received = [added(await socket.next(op, wait=10))]
            while received[-1]["seq"] < top:
                received.append(added(await socket.next(op, wait=10)))
            await socket.nothing(op)
    seqs = [item["seq"] for item in received]
    assert seqs == sorted(set(seqs)), seqs  # in order, none twice
    kinds = {item["id"]: item["kind"] for item in received}
    assert (
        sorted(kinds.values()).count("FOLLOWED") == 9 and list(kinds.values()).count("POST_COMMENTED") == 10
    )
    likes = [item for item in received if item["kind"] == "POST_LIKED"]
    assert len({item["id"] for item in likes}) == 1 and likes[-1]["actorCount"] == 10
