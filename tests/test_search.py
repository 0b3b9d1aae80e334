"""searchUsers: what matches, the exact order on a hand-built world, blocks, pages and statements."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from core.trigrams import similarity
from demo.world import EVERYONE, MARKER
from tests.discovery_world import add_edges, add_users
from tests.harness import Api, TestUser
from tests.posting import user_id

SEARCH = """
query($q: String!, $first: Int, $after: String) {
  searchUsers(query: $q, first: $first, after: $after) {
    edges { cursor node { username displayName isPrivate followerCount viewerFollowStatus isCloseFriend } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def search(api: Api, viewer: TestUser, query: str, first: int = 100) -> list[str]:
    data = await api.gql(SEARCH, {"q": query, "first": first}, token=viewer.token)
    return [edge["node"]["username"] for edge in data["searchUsers"]["edges"]]


async def all_pages(api: Api, viewer: TestUser, query: str, first: int) -> list[str]:
    names: list[str] = []
    after = None
    while True:
        data = await api.gql(SEARCH, {"q": query, "first": first, "after": after}, token=viewer.token)
        page = data["searchUsers"]
        assert len(page["edges"]) <= first
        names += [edge["node"]["username"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return names
        after = page["pageInfo"]["endCursor"]


async def sam_world(api: Api) -> tuple[TestUser, dict[str, int]]:
    """Everyone here but `nomatch` and `friend` matches "sam"; see the expected order below."""
    viewer = await api.sign_up("viewer")
    ids = await add_users(
        api,
        [
            ("sam.close", "Close Sam"),
            ("samuel", "Samuel Followed"),
            ("sam.fof", "Friend Of Friend"),
            ("sam.popular", "Popular"),
            ("samantha", "Samantha Two"),
            ("xavier", "Sam Xavier"),
            ("bobby", "Robert Samson"),
            ("sam.private", "Private Sam"),
            ("sam.blocked", "Blocked By Viewer"),
            ("sam.blocker", "Blocks The Viewer"),
            ("nomatch", "Someone Else"),
            ("friend", "A Friend"),
            *((f"fan{n}", f"Fan {n}") for n in range(5)),
        ],
        private=frozenset({"sam.private"}),
    )
    me = user_id(viewer)
    fans = [ids[f"fan{n}"] for n in range(5)]
    await add_edges(
        api,
        follows=[
            (me, ids["samuel"]),
            (me, ids["friend"]),
            (ids["friend"], ids["sam.fof"]),
            *((fan, ids["sam.popular"]) for fan in fans),
            *((fan, ids["sam.close"]) for fan in fans[:3]),
            *((fan, ids["samantha"]) for fan in fans[:2]),
            (fans[0], ids["xavier"]),
            *((fan, ids["sam.blocked"]) for fan in fans),
            *((fan, ids["sam.blocker"]) for fan in fans),
        ],
        close_friends=[(me, ids["sam.close"])],
        blocks=[(me, ids["sam.blocked"]), (ids["sam.blocker"], me)],
    )
    return viewer, ids


# Followed or close friends (most followers first), then followed by a followee, then by followers;
# ties (0 followers) by the older account first.
EXPECTED_SAM = [
    "sam.close",  # close friend, 3 followers
    "samuel",  # followed by the viewer, 1 follower
    "sam.fof",  # followed by `friend`, whom the viewer follows
    "sam.popular",  # 5 followers
    "samantha",  # 2
    "xavier",  # 1: "Sam Xavier" starts with the query
    "bobby",  # 0: "Robert Samson" has a word starting with the query
    "sam.private",  # 0: private accounts are found (their posts stay hidden)
]


async def test_results_come_in_relationship_then_popularity_order(api: Api) -> None:
    viewer, _ = await sam_world(api)
    assert await search(api, viewer, "sam") == EXPECTED_SAM
    # Case and a leading @ do not matter; blocked pairs never appear, either way.
    assert await search(api, viewer, "  @SAM ") == EXPECTED_SAM


async def test_pages_walk_the_same_order_without_repeats(api: Api) -> None:
    viewer, _ = await sam_world(api)
    for first in (1, 3, 5):
        assert await all_pages(api, viewer, "sam", first) == EXPECTED_SAM


async def test_near_misses_match_and_unrelated_names_do_not(api: Api) -> None:
    viewer, _ = await sam_world(api)
    assert await search(api, viewer, "samanta") == ["samantha"]  # one letter missing
    assert await search(api, viewer, "popluar") == ["sam.popular"]  # two letters swapped, in "Popular"
    assert await search(api, viewer, "plr") == []  # too far from anything
    assert await search(api, viewer, "robert samsn") == ["bobby"]  # display name, one letter missing
    assert await search(api, viewer, "zzz") == []
    assert await search(api, viewer, "   ") == []
    assert await search(api, viewer, "s_m") == []  # "_" is a character here, not a LIKE wildcard


async def test_the_blocked_side_cannot_find_the_blocker_and_the_blocker_cannot_find_them(api: Api) -> None:
    viewer, _ = await sam_world(api)
    blocked = await api.sign_up("sam.outsider")
    await add_edges(api, blocks=[(user_id(viewer), user_id(blocked))])
    assert "viewer" not in await search(api, blocked, "view")
    assert "sam.outsider" not in await search(api, viewer, "sam.out")
    other = await api.sign_up("other")  # no block: finds all three ("... Viewer" display names too)
    assert await search(api, other, "viewer") == ["sam.blocked", "sam.blocker", "viewer"]


async def test_bad_arguments_are_coded(api: Api) -> None:
    viewer = await api.sign_up()
    errors = await api.gql_error(SEARCH, {"q": "x" * 65}, token=viewer.token)
    assert errors.codes == ["BAD_USER_INPUT"]
    errors = await api.gql_error(SEARCH, {"q": "sam", "after": "bm9wZQ"}, token=viewer.token)
    assert errors.codes == ["BAD_USER_INPUT"]
    errors = await api.gql_error(SEARCH, {"q": "sam"})
    assert errors.codes == ["UNAUTHENTICATED"]


async def test_a_page_costs_the_same_statements_at_any_size(api: Api) -> None:
    viewer, _ = await sam_world(api)
    counts = []
    for first in (2, 8):
        with api.count_statements() as statements:
            names = await search(api, viewer, "sam", first)
        assert len(names) == first
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    # The page with its follower counts and relationships: the page, the relationships, the counts.
    assert counts[1] <= 4, counts


DEMO_QUERIES: dict[str, list[str]] = {
    # No follows here: by age. Alice and Chloe Martin by a display-name word, marco by the username.
    "mar": ["alice", "marco.cooks", "chloe.paints"],
    "alise": ["alice"],
    "kenji eat": ["kenji_eats"],
    "sofia": ["sofia.travels"],
    "o": ["bob", "omar.films", "amara.sings", "oscar.birds"],  # Okafor, omar, Obi, oscar
}


async def test_the_demo_world_gives_the_same_results_on_every_backend(api: Api) -> None:
    viewer = await api.sign_up("viewer")
    await add_users(api, [(p.username, p.display_name) for p in (*EVERYONE, MARKER)])
    found = {query: await search(api, viewer, query) for query in DEMO_QUERIES}
    assert found == DEMO_QUERIES


PAIRS = [
    ("alise", "alice"),
    ("samanta", "samantha"),
    ("robert samsn", "Robert Samson"),
    ("kenji_eats", "kenji eats"),
    ("mira.photos", "Mira Haddad"),
    ("ab", "abc"),
    ("", "abc"),
    ("Ünïcode", "ünicode"),
    ("x1y2", "X1Y2 z"),
]


async def test_sqlite_similarity_is_postgresqls(api: Api, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("compares with pg_trgm, which only PostgreSQL has")
    async with api.services.db.read() as session:
        for a, b in PAIRS:
            expected: Any = await session.scalar(text("SELECT similarity(:a, :b)"), {"a": a, "b": b})
            assert similarity(a, b) == pytest.approx(expected, abs=1e-6), (a, b)
