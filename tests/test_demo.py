"""`python -m demo`: one believable world, created once, on either backend, usable at once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from demo.run import DemoError, describe, run
from demo.world import PASSWORD
from settings import Settings
from tests.conftest import S3
from tests.harness import Api, running_server, test_settings

WORLD = """
{
  viewer { username postCount followerCount avatar { status url } highlights { title stories { id } } }
  storyArchive(first: 100) { edges { node { id media { url } } } }
  feed(first: 5) { edges { node { author { username } caption media { status url variants { name } } } } }
  storiesTray { edges { node { owner { username } stories { audience expiresAt } hasUnseen } } }
  conversations { edges { node { isGroup title unreadCount lastMessage { seq } } } }
}
"""
ENGAGEMENT = """
{
  activityUnseenCount
  activity(first: 50) { edges { node { kind actorCount } } }
  ranked: feed(first: 10, order: RANKED) { edges { node { id likeCount commentCount } } }
  recent: feed(first: 10) { edges { node { id } } }
}
"""
REQUESTS = "{ followRequests { edges { node { username } } } }"
HIGHLIGHTS = (
    '{ user(username: "alice") { hasActiveStories highlights { title cover { url } stories { id } } } }'
)
FEED_PAGE = """
query($after: String) {
  feed(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } }
}
"""
TRAY = "{ storiesTray { edges { node { owner { username } } } } }"


async def feed_ids(api: Api, token: str) -> set[str]:
    ids: set[str] = set()
    after = None
    while True:
        page = (await api.gql(FEED_PAGE, {"after": after}, token=token))["feed"]
        ids |= {edge["node"]["id"] for edge in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


@pytest.fixture
def settings(database_url: str, app_redis_url: str | None, s3_bucket: S3 | None, tmp_path: Path) -> Settings:
    s3 = {"s3_bucket": s3_bucket.bucket, "s3_endpoint_url": s3_bucket.endpoint} if s3_bucket else {}
    # The tour reads every highlight's stories and a full tray at once: above the default query cost.
    return test_settings(database_url, app_redis_url, tmp_path / "data", max_query_cost=100_000, **s3)


async def test_running_twice_creates_one_world(settings: Settings) -> None:
    first = await run(settings)
    second = await run(settings)

    assert (first.created, second.created) == (True, False)
    assert first.counts == second.counts
    assert first.counts["users"] >= 30 and first.counts["posts"] >= 30
    assert first.counts["stories"] >= 20 and first.counts["messages"] >= 25
    assert [c.username for c in second.credentials] == ["alice", "bob", "carol"]
    assert first.credentials[0].token != second.credentials[0].token  # fresh tokens each run
    printed = describe(second, settings)
    assert (
        PASSWORD in printed and second.credentials[2].token in printed and "nothing was duplicated" in printed
    )

    alice, bob, carol = (c.token for c in second.credentials)
    async with running_server(settings) as api:
        world: dict[str, Any] = await api.gql(WORLD, token=alice)
        requests = await api.gql(REQUESTS, token=carol)
        bobs_view = (await api.gql(HIGHLIGHTS, token=bob))["user"]
        engagement = await api.gql(ENGAGEMENT, token=alice)
        feeds = [await feed_ids(api, token) for token in (alice, bob, carol)]
        trays = [
            len((await api.gql(TRAY, token=token))["storiesTray"]["edges"]) for token in (alice, bob, carol)
        ]

    # The printed accounts have something to scroll: together they reach almost every post.
    assert all(len(feed) >= 20 for feed in feeds) and min(trays) >= 8, (list(map(len, feeds)), trays)
    assert len(set().union(*feeds)) >= 0.9 * second.counts["posts"]

    viewer = world["viewer"]
    assert viewer["username"] == "alice" and viewer["postCount"] == 3 and viewer["followerCount"] > 10
    assert viewer["avatar"]["status"] == "READY" and viewer["avatar"]["url"]
    posts = [edge["node"] for edge in world["feed"]["edges"]]
    assert len(posts) == 5 and all(
        m["status"] == "READY" and m["variants"] for p in posts for m in p["media"]
    )
    tray = [edge["node"] for edge in world["storiesTray"]["edges"]]
    assert tray[0]["owner"]["username"] == "alice"
    assert {s["audience"] for s in tray[0]["stories"]} == {"PUBLIC", "FOLLOWERS", "CLOSE_FRIENDS", "CONTACTS"}
    assert any(item["hasUnseen"] for item in tray[1:])
    conversations = [edge["node"] for edge in world["conversations"]["edges"]]
    assert any(c["isGroup"] and c["title"] for c in conversations)
    assert any(c["unreadCount"] > 0 for c in conversations)
    assert {e["node"]["username"] for e in requests["followRequests"]["edges"]} >= {"bob", "dave"}

    # Kept stories: alice's archive holds last week's, and highlights show them under their audience.
    assert second.counts["highlights"] >= 4
    assert len(world["storyArchive"]["edges"]) >= 5 and all(
        e["node"]["media"]["url"] for e in world["storyArchive"]["edges"]
    )
    assert [(h["title"], len(h["stories"])) for h in viewer["highlights"]] == [
        ("Coffee", 1),
        ("Film days", 3),
    ]
    # bob follows alice and is on her close friends: the whole "Film days" highlight, with covers.
    assert [(h["title"], len(h["stories"])) for h in bobs_view["highlights"]] == [
        ("Coffee", 1),
        ("Film days", 3),
    ]
    assert all(h["cover"]["url"] for h in bobs_view["highlights"])
    # Comments, an inbox with every kind of item (likes grouped), and a ranked feed unlike the recent one.
    assert first.counts["comments"] >= 30
    kinds = {edge["node"]["kind"] for edge in engagement["activity"]["edges"]}
    assert kinds >= {"FOLLOWED", "POST_LIKED", "POST_COMMENTED", "STORY_REACTED", "STORY_REPLIED"}, kinds
    assert any(e["node"]["actorCount"] > 1 for e in engagement["activity"]["edges"])
    assert engagement["activityUnseenCount"] > 0
    ranked = [edge["node"] for edge in engagement["ranked"]["edges"]]
    assert len(ranked) == 10 and any(post["commentCount"] for post in ranked)
    assert [post["id"] for post in ranked] != [edge["node"]["id"] for edge in engagement["recent"]["edges"]]


async def test_a_partial_world_is_reported_not_duplicated(settings: Settings, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the check is one query, the same on both backends")
    async with running_server(settings) as api:
        await api.sign_up("alice")
    with pytest.raises(DemoError, match=r"holds 1 of the demo's accounts \(alice\) .*delete the SQLite file"):
        await run(settings)


async def test_a_database_with_accounts_of_its_own_is_left_alone(settings: Settings, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the check is one query, the same on both backends")
    async with running_server(settings) as api:
        await api.sign_up("a_real_person")
    with pytest.raises(DemoError, match=r"holds 1 account\(s\) that are not the demo's: is it a production"):
        await run(settings)
    with pytest.raises(DemoError, match="ENV=production"):
        await run(replace(settings, env="production"))
