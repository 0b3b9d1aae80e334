"""feed(order: RANKED): the exact order of a hand-built world, pages that stay put while scores move,
expired snapshots, cursors, and the settings behind it. On [postgresql] the candidates come from the
hybrid store and the snapshots live in Redis; on [sqlite], the pull store and the database."""

from __future__ import annotations

from typing import Any

import pytest

from core.ids import to_global_id
from models import Media, MediaStatus
from resolvers.paging import encode_cursor
from settings import Settings, SettingsError
from tests.engagement import DELETE_POST, FOLLOW, LIKE, comment
from tests.harness import Api, ServerFactory, TestUser
from tests.posting import CREATE_POST, create_post, ready_media, settle, user_id

RANKED = """
query($first: Int, $after: String, $order: FeedOrder) {
  feed(first: $first, after: $after, order: $order) {
    edges { cursor node { id caption } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""
CLOSE_FRIEND = "mutation($id: ID!) { setCloseFriend(userId: $id, isCloseFriend: true) { id } }"
HOUR = 3600


async def ranked(api: Api, user: TestUser, first: int = 20, after: str | None = None) -> dict[str, Any]:
    variables = {"first": first, "after": after, "order": "RANKED"}
    feed: dict[str, Any] = (await api.gql(RANKED, variables, user.token))["feed"]
    return feed


def captions(feed: dict[str, Any]) -> list[str]:
    return [edge["node"]["caption"] for edge in feed["edges"]]


async def all_pages(api: Api, user: TestUser, first: int, after: str | None = None) -> list[str]:
    found: list[str] = []
    while True:
        feed = await ranked(api, user, first, after)
        found += [edge["node"]["id"] for edge in feed["edges"]]
        if not feed["pageInfo"]["hasNextPage"]:
            return found
        after = feed["pageInfo"]["endCursor"]


async def video_post(api: Api, user: TestUser, caption: str) -> str:
    services = api.services
    media = Media(
        id=services.ids.next_id(),
        owner_id=user_id(user),
        purpose="POST",
        kind="VIDEO",
        content_type="video/mp4",
        byte_size=1000,
        status=MediaStatus.READY,
        storage_key=f"post/{user_id(user)}/clip.mp4",
        variants=[],
        created_at=services.clock.now(),
    )
    async with services.db.write() as session:
        session.add(media)
    variables = {"input": {"caption": caption, "mediaIds": [to_global_id("Media", media.id)]}}
    post_id: str = (await api.gql(CREATE_POST, variables, user.token))["createPost"]["id"]
    return post_id


async def test_the_order_of_a_hand_built_world(api: Api) -> None:
    """The world of the worked example in docs/feed.md, with the default weights (recency 2,
    engagement 1, relationship 1, content 0.5) and a 72-hour window. Ages are at reading time."""
    viewer, ana, ben, cleo = [await api.sign_up(name) for name in ("viewer", "ana", "ben", "cleo")]
    likers = [await api.sign_up(f"liker{n}") for n in range(3)]
    for author in (ana, ben, cleo):
        await api.gql(FOLLOW, {"id": author.id}, viewer.token)
    await api.gql(CLOSE_FRIEND, {"id": ana.id}, viewer.token)

    await create_post(api, cleo, "cleo_ancient")  # 80 h old: outside the window
    api.clock.advance(32 * HOUR)
    ana_photo = await create_post(api, ana, "ana_photo")  # 48 h
    await api.gql(LIKE, {"id": ana_photo}, viewer.token)
    api.clock.advance(12 * HOUR)
    await video_post(api, ben, "ben_video")  # 36 h
    api.clock.advance(12 * HOUR)
    popular = await create_post(api, cleo, "cleo_popular")  # 24 h
    for liker in likers:
        await api.gql(LIKE, {"id": popular}, liker.token)
    await comment(api, likers[0], popular)
    api.clock.advance(12 * HOUR)
    await create_post(api, viewer, "viewer_own")  # 12 h
    api.clock.advance(6 * HOUR)
    media = await ready_media(api, ben, 2)
    await api.gql(CREATE_POST, {"input": {"caption": "ben_carousel", "mediaIds": media}}, ben.token)  # 6 h
    api.clock.advance(5 * HOUR)
    await create_post(api, cleo, "cleo_fresh")  # 1 h
    api.clock.advance(1 * HOUR)
    await settle(api)

    # ana_photo     2*(1-48/72) + ln(1+1)     + (ln(1+1) + 1) + 0      = 3.053  (close friend, liked)
    # cleo_popular  2*(1-24/72) + ln(1+3+1)   + 0             + 0      = 2.943
    # ben_carousel  2*(1-6/72)  + 0           + 0             + 0.5*.5 = 2.083
    # cleo_fresh    2*(1-1/72)  + 0           + 0             + 0      = 1.972
    # viewer_own    2*(1-12/72) + 0           + 0             + 0      = 1.667
    # ben_video     2*(1-36/72) + 0           + 0             + 0.5*1  = 1.500
    expected = ["ana_photo", "cleo_popular", "ben_carousel", "cleo_fresh", "viewer_own", "ben_video"]
    feed = await ranked(api, viewer)
    assert captions(feed) == expected
    assert feed["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "endCursor": feed["edges"][-1]["cursor"],
    }
    recent = (await api.gql(RANKED, {"first": 20}, viewer.token))["feed"]
    assert captions(recent)[-1] == "cleo_ancient" and len(recent["edges"]) == 7


async def _world(api: Api, posts: int) -> tuple[TestUser, list[TestUser], list[str]]:
    """A viewer following three authors who posted `posts` times over the last two days."""
    viewer = await api.sign_up()
    authors = [await api.sign_up() for _ in range(3)]
    for author in authors:
        await api.gql(FOLLOW, {"id": author.id}, viewer.token)
    ids = []
    for n in range(posts):
        ids.append(await create_post(api, authors[n % 3], f"p{n}"))
        api.clock.advance(48 * HOUR / posts)
    await settle(api)
    return viewer, authors, ids


async def test_ranked_pages_stay_put_while_scores_change(api: Api) -> None:
    viewer, authors, ids = await _world(api, 12)
    fans = [await api.sign_up() for _ in range(4)]
    snapshot = await all_pages(api, viewer, 100)  # a ranking fixed at the same moment as page one
    page_one = await ranked(api, viewer, 4)
    assert [edge["node"]["id"] for edge in page_one["edges"]] == snapshot[:4]

    # The three lowest-ranked posts gain many likes and comments, a post is deleted further down,
    # and a new post appears: later pages neither repeat nor skip anything, nor show the new post.
    for post_id in snapshot[-3:]:
        for fan in fans:
            await api.gql(LIKE, {"id": post_id}, fan.token)
            await comment(api, fan, post_id)
    deleted = snapshot[6]
    await api.gql(DELETE_POST, {"id": deleted}, authors[ids.index(deleted) % 3].token)
    await create_post(api, authors[0], "brand new")
    await settle(api)

    rest = await all_pages(api, viewer, 4, page_one["pageInfo"]["endCursor"])
    assert snapshot[:4] + rest == [post_id for post_id in snapshot if post_id != deleted]
    assert len(rest) == 7
    refreshed = await all_pages(api, viewer, 100)
    assert refreshed[:3] != snapshot[:3] and set(snapshot[-3:]) <= set(refreshed[:4])


async def all_recent_ids(api: Api, user: TestUser) -> set[str]:
    data = await api.gql(
        "query { feed(first: 100) { edges { node { id author { id } } } } }", token=user.token
    )
    return {edge["node"]["id"] for edge in data["feed"]["edges"] if edge["node"]["author"]["id"] == user.id}


async def test_an_expired_snapshot_asks_for_the_first_page_again(api: Api) -> None:
    viewer, _, _ = await _world(api, 5)
    other = await api.sign_up()
    page = await ranked(api, viewer, 2)
    cursor = page["pageInfo"]["endCursor"]
    variables = {"first": 2, "after": cursor, "order": "RANKED"}
    assert len((await api.gql(RANKED, variables, viewer.token))["feed"]["edges"]) == 2

    for token in (other.token,):  # someone else's cursor reveals nothing
        errors = await api.gql_error(RANKED, variables, token)
        assert errors.errors[0]["extensions"] == {
            "code": "BAD_USER_INPUT",
            "field": "after",
            "reason": "SNAPSHOT_EXPIRED",
        }
    api.clock.advance(1801)  # FEED_RANKED_SNAPSHOT_SECONDS
    errors = await api.gql_error(RANKED, variables, viewer.token)
    assert errors.errors[0]["extensions"]["reason"] == "SNAPSHOT_EXPIRED"
    assert "first page again" in errors.errors[0]["message"]
    assert len((await ranked(api, viewer, 2))["edges"]) == 2  # a new first page works


async def test_cursors_of_one_order_are_refused_by_the_other(api: Api) -> None:
    viewer, _, _ = await _world(api, 3)
    ranked_cursor = (await ranked(api, viewer, 1))["pageInfo"]["endCursor"]
    recent = (await api.gql(RANKED, {"first": 1}, viewer.token))["feed"]["pageInfo"]["endCursor"]
    cases = [
        {"first": 1, "after": recent, "order": "RANKED"},
        {"first": 1, "after": ranked_cursor, "order": "RECENT"},
        {"first": 1, "after": "bm90IGEgY3Vyc29y", "order": "RANKED"},
        {"first": 1, "after": encode_cursor("ranked.d.9999999999999999999.1"), "order": "RANKED"},
        {"first": 1, "after": encode_cursor("ranked.d.١٢٣.1"), "order": "RANKED"},
        {"first": 0, "order": "RANKED"},
        {"first": 101, "order": "RANKED"},
    ]
    for variables in cases:
        errors = await api.gql_error(RANKED, variables, viewer.token)
        assert errors.codes == ["BAD_USER_INPUT"], variables
    assert (await api.gql_error(RANKED, {"order": "RANKED"})).codes == ["UNAUTHENTICATED"]
    loner = await api.sign_up()
    assert await ranked(api, loner) == {
        "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "endCursor": None},
    }


async def test_candidates_are_capped(server: ServerFactory, api: Api) -> None:
    viewer, _, ids = await _world(api, 6)
    async with server(feed_ranked_candidates=3) as capped:
        assert set(await all_pages(capped, viewer, 2)) == set(ids[-3:])


def test_ranking_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "FEED_RANKED_WINDOW_HOURS": "24",
            "FEED_RANKED_CANDIDATES": "100",
            "FEED_RANKED_SNAPSHOT_SECONDS": "60",
            "FEED_RANKED_WEIGHT_RECENCY": "1.5",
            "FEED_RANKED_WEIGHT_ENGAGEMENT": "0",
            "FEED_RANKED_WEIGHT_RELATIONSHIP": "2",
            "FEED_RANKED_WEIGHT_CONTENT": "0.25",
        }
    )
    assert (settings.feed_ranked_window_hours, settings.feed_ranked_candidates) == (24, 100)
    assert settings.feed_ranked_snapshot_seconds == 60
    assert (
        settings.feed_ranked_weight_recency,
        settings.feed_ranked_weight_engagement,
        settings.feed_ranked_weight_relationship,
        settings.feed_ranked_weight_content,
    ) == (1.5, 0.0, 2.0, 0.25)
    settings.validate()


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("FEED_RANKED_WINDOW_HOURS", "0"),
        ("FEED_RANKED_CANDIDATES", "5001"),
        ("FEED_RANKED_SNAPSHOT_SECONDS", "0"),
        ("FEED_RANKED_WEIGHT_RECENCY", "-1"),
        ("FEED_RANKED_WEIGHT_CONTENT", "nan"),
        ("FEED_RANKED_WEIGHT_ENGAGEMENT", "many"),
    ],
)
def test_bad_ranking_settings_are_refused(name: str, raw: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: raw}).validate()
