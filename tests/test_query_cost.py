"""Query cost is honest: every list counts at the most items it can hold, so the worst document the
limit admits reads a bounded number of rows and signs a bounded number of URLs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from graphql import parse
from sqlalchemy import event
from sqlalchemy.orm import Session

from media.images import DEFAULT_WIDTHS
from models import Media, MediaStatus, Story
from resolvers.activity.inbox import MAX_ACTORS
from resolvers.conversations.conversations import MAX_MEMBERS
from resolvers.posts.posts import MAX_MEDIA
from resolvers.stories.highlights import MAX_HIGHLIGHTS_PER_USER, MAX_STORIES_PER_HIGHLIGHT
from resolvers.stories.stories import MAX_LIVE_STORIES
from resolvers.stories.views import MAX_SEEN_IDS
from schema import schema
from schema.extensions.query_limits import is_list, is_page, list_bound, operation_cost
from tests.harness import Api
from tests.story_helpers import CREATE_STORY, db_id

# The document: 15 aliases of a profile's highlights with every story's media and variants.
HIGHLIGHT_MEDIA = 'user(username: "someone") { highlights { stories { media { url variants { url } } } } }'
ALIASED = "{ " + " ".join(f"a{i}: {HIGHLIGHT_MEDIA}" for i in range(15)) + " }"
STORY_MEDIA = "user(username: $u) { stories { media { url variants { url } } } }"

EXPECTED_BOUNDS = {
    ("User", "highlights"): MAX_HIGHLIGHTS_PER_USER,
    ("User", "stories"): MAX_LIVE_STORIES,
    ("Highlight", "stories"): MAX_STORIES_PER_HIGHLIGHT,
    ("StoryTrayItem", "stories"): MAX_LIVE_STORIES,
    ("Post", "media"): MAX_MEDIA,
    ("Media", "variants"): len(DEFAULT_WIDTHS),
    ("MediaPoster", "variants"): len(DEFAULT_WIDTHS),
    ("Conversation", "members"): MAX_MEMBERS,
    ("Activity", "actors"): MAX_ACTORS,
    ("Mutation", "markStoriesSeen"): MAX_SEEN_IDS,
}


def unpaged_lists() -> dict[tuple[str, str], int | None]:
    found = {}
    for name, kind in schema._schema.type_map.items():
        fields = getattr(kind, "fields", None)
        if name.startswith("__") or fields is None or hasattr(kind, "parse_value"):
            continue
        for field_name, definition in fields.items():
            paged = "first" in getattr(definition, "args", {}) or "last" in getattr(definition, "args", {})
            if hasattr(definition, "args") and is_list(definition.type) and not paged and not is_page(kind):
                found[name, field_name] = list_bound(definition)
    return found


def test_every_list_without_paging_declares_the_bound_its_rule_enforces() -> None:
    declared = unpaged_lists()
    assert [field for field, bound in declared.items() if bound is None] == []
    assert {field: declared[field] for field in EXPECTED_BOUNDS} == EXPECTED_BOUNDS


async def test_highlights_with_every_story_cost_what_they_can_read(api: Api) -> None:
    # user, highlights, then per highlight: stories, then per story: media, url, variants, 3 urls
    per_alias = 1 + 1 + MAX_HIGHLIGHTS_PER_USER * (1 + MAX_STORIES_PER_HIGHLIGHT * (1 + 1 + 1 + 3))
    errors = await api.gql_error(ALIASED)
    extensions = errors.errors[0]["extensions"]
    assert (extensions["reason"], extensions["cost"]) == ("QUERY_TOO_COSTLY", 15 * per_alias)


def worst_story_document(limit: int) -> tuple[str, int]:
    """The most aliases of a profile's stories with every URL that stay under `limit`, and their cost."""
    best = ("", 0)
    for aliases in range(1, 16):
        fields = " ".join(f"a{i}: {STORY_MEDIA}" for i in range(aliases))
        text = f"query Worst($u: String!) {{ {fields} }}"
        cost = operation_cost(schema._schema, parse(text), "Worst", {})
        if cost > limit:
            break
        best = (text, cost)
    return best


async def seed_live_stories(api: Api, owner: int, count: int) -> None:
    """`count` live stories, each a READY photo with its three renditions, as uploads leave them."""
    services = api.services
    now = api.clock.now()
    media, stories = [], []
    for n in range(count):
        media_id = services.ids.next_id()
        key = f"story/{owner}/{media_id}.jpg"
        variants = [
            {"name": f"w{width}", "width": width, "height": width, "key": f"{key}.w{width}.jpg"}
            for width in DEFAULT_WIDTHS
        ]
        media.append(
            Media(
                id=media_id,
                owner_id=owner,
                purpose="STORY",
                kind="IMAGE",
                content_type="image/jpeg",
                byte_size=10,
                status=MediaStatus.READY,
                storage_key=key,
                variants=variants,
                created_at=now,
            )
        )
        stories.append(
            Story(
                id=services.ids.next_id(),
                author_id=owner,
                media_id=media_id,
                audience="PUBLIC",
                created_at=now - timedelta(seconds=count - n),
                expires_at=now + timedelta(hours=1),
            )
        )
    async with services.db.write() as session:
        session.add_all(media)
        await session.flush()
        session.add_all(stories)


@contextmanager
def rows_loaded() -> Iterator[list[object]]:
    """Every row the ORM turns into an object inside the block."""
    loaded: list[object] = []

    def record(session: Any, instance: object) -> None:
        loaded.append(instance)

    event.listen(Session, "loaded_as_persistent", record)
    try:
        yield loaded
    finally:
        event.remove(Session, "loaded_as_persistent", record)


async def test_the_worst_document_under_the_limit_does_bounded_work(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await api.sign_up()
    viewer = await api.sign_up()
    await seed_live_stories(api, db_id(owner.id), MAX_LIVE_STORIES)
    limit = api.services.settings.max_query_cost
    text, cost = worst_story_document(limit)
    storage = api.services.storage
    signed: list[str] = []
    sign = storage.signed_url

    def counting(key: str, expires_in: int) -> str:
        signed.append(key)
        return sign(key, expires_in)

    monkeypatch.setattr(storage, "signed_url", counting)
    with api.count_statements() as statements, rows_loaded() as rows:
        body = await api.post(text, {"u": owner.username}, viewer.token)
    assert "errors" not in body, body
    assert body["extensions"]["cost"]["requested"] == cost <= limit
    aliases = len(body["data"])
    # Every story of every alias, with its photo and three renditions: all of it counted in the cost.
    assert len(signed) == aliases * MAX_LIVE_STORIES * (1 + len(DEFAULT_WIDTHS)) <= cost
    # Rows: the profile once per alias, the stories and their media once (loaders share them).
    assert len(rows) <= aliases + 2 * MAX_LIVE_STORIES <= cost
    assert len(statements) <= aliases + 4, statements


async def test_an_author_has_at_most_100_live_stories(api: Api) -> None:
    author = await api.sign_up()
    await seed_live_stories(api, db_id(author.id), MAX_LIVE_STORIES)
    media_id = await api.upload(author, "STORY")
    errors = await api.gql_error(
        CREATE_STORY, {"input": {"mediaId": media_id, "audience": "PUBLIC"}}, author.token
    )
    assert errors.codes == ["BAD_USER_INPUT"] and "100 stories" in errors.errors[0]["message"]
    api.clock.advance(3601)  # the seeded ones expire: a new one fits again
    created = await api.gql(
        CREATE_STORY, {"input": {"mediaId": media_id, "audience": "PUBLIC"}}, author.token
    )
    assert created["createStory"]["media"]["status"] == "READY"
