"""What a ranked first page may keep: one snapshot per viewer (a new ranking replaces the last), and
a per-user budget of first pages. [postgresql] keeps snapshots in Redis, [sqlite] in the process."""

from __future__ import annotations

from resolvers.feed.snapshots import ProcessSnapshots, Snapshot, process_snapshots
from tests.harness import Api, ServerFactory, TestUser
from tests.test_ranked_feed import RANKED, _world, ranked


async def stored_snapshots(api: Api, viewer: TestUser) -> int:
    redis = api.services.redis
    in_redis = len([key async for key in redis.scan_iter("ranked:*")]) if redis is not None else 0
    return in_redis + len(process_snapshots(api.services))


async def test_a_new_ranking_replaces_the_last_one(api: Api) -> None:
    viewer, _, _ = await _world(api, 5)
    cursors = []
    for _ in range(5):
        cursors.append((await ranked(api, viewer, 2))["pageInfo"]["endCursor"])
    assert await stored_snapshots(api, viewer) == 1
    older = {"first": 2, "after": cursors[0], "order": "RANKED"}
    errors = await api.gql_error(RANKED, older, viewer.token)
    assert errors.errors[0]["extensions"]["reason"] == "SNAPSHOT_EXPIRED"
    latest = {"first": 2, "after": cursors[-1], "order": "RANKED"}
    assert len((await api.gql(RANKED, latest, viewer.token))["feed"]["edges"]) == 2


async def test_first_pages_are_counted_per_user_and_later_pages_are_not(asgi: ServerFactory) -> None:
    async with asgi(feed_ranked_first_pages_per_minute=3) as api:
        viewer, _, _ = await _world(api, 5)
        other = await api.sign_up()
        cursor = None
        for _ in range(3):
            cursor = (await ranked(api, viewer, 1))["pageInfo"]["endCursor"]
        refused = await api.gql_error(RANKED, {"first": 1, "order": "RANKED"}, viewer.token)
        assert refused.codes == ["RATE_LIMITED"] and refused.errors[0]["extensions"]["retryAfter"] > 0
        for _ in range(4):  # paging on is free
            page = await ranked(api, viewer, 1, cursor)
            cursor = page["pageInfo"]["endCursor"]
        assert len(page["edges"]) == 1
        assert (await ranked(api, other, 1))["edges"] == []  # another user's budget is their own
        api.clock.advance(61)
        assert len((await ranked(api, viewer, 1))["edges"]) == 1


async def test_a_cursor_of_the_other_order_says_which_order_it_is(api: Api) -> None:
    viewer, _, _ = await _world(api, 3)
    ranked_cursor = (await ranked(api, viewer, 1))["pageInfo"]["endCursor"]
    recent_cursor = (await api.gql(RANKED, {"first": 1}, viewer.token))["feed"]["pageInfo"]["endCursor"]
    to_recent = await api.gql_error(RANKED, {"first": 1, "after": ranked_cursor}, viewer.token)
    assert "from feed(order: RANKED)" in to_recent.errors[0]["message"]
    to_ranked = await api.gql_error(
        RANKED, {"first": 1, "after": recent_cursor, "order": "RANKED"}, viewer.token
    )
    assert "feed(order: RECENT)" in to_ranked.errors[0]["message"]
    assert (
        to_recent.errors[0]["extensions"]
        == to_ranked.errors[0]["extensions"]
        == {
            "code": "BAD_USER_INPUT",
            "field": "after",
        }
    )


def test_the_process_keeps_one_snapshot_per_viewer_and_sweeps_the_expired_and_the_oldest() -> None:
    """Without Redis the snapshots live in the process: bounded, and swept at every save."""
    kept = ProcessSnapshots(limit=2)
    kept.save(1, Snapshot(10, expires=100.0, post_ids=[1]), now=0.0)
    kept.save(1, Snapshot(11, expires=101.0, post_ids=[2]), now=1.0)  # a new ranking replaces the last
    assert len(kept) == 1 and kept.get(1) == Snapshot(11, 101.0, [2])
    kept.save(2, Snapshot(12, expires=102.0, post_ids=[3]), now=2.0)
    kept.save(3, Snapshot(13, expires=103.0, post_ids=[4]), now=3.0)  # over the limit: the oldest goes
    assert (kept.get(1), len(kept)) == (None, 2)
    kept.save(4, Snapshot(14, expires=300.0, post_ids=[5]), now=102.5)  # 2 expired at 102: swept
    assert [kept.get(viewer) is not None for viewer in (2, 3, 4)] == [False, True, True]
