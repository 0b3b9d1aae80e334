"""Shared steps of the story tests: stories through the API, graph rows straight in the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from core.ids import from_global_id, to_global_id
from models import (
    Block,
    CloseFriend,
    Contact,
    Follow,
    FollowState,
    Highlight,
    HighlightStory,
    Media,
    MediaStatus,
    Story,
    StoryHide,
    User,
)
from tests.harness import Api, TestUser

CREATE_STORY = """
mutation($input: CreateStoryInput!) {
  createStory(input: $input) { id audience createdAt expiresAt author { id } media { id status } }
}
"""


CREATE_HIGHLIGHT = """
mutation($input: CreateHighlightInput!) { createHighlight(input: $input) { id title stories { id } } }
"""
ARCHIVE = "mutation($on: Boolean!) { updateProfile(input: {archiveStories: $on}) { archiveStories } }"


def db_id(global_id: str) -> int:
    parsed = from_global_id(global_id)
    assert parsed is not None, global_id
    return parsed[1]


async def create_story(api: Api, user: TestUser, audience: str = "FOLLOWERS") -> str:
    media_id = await api.upload(user, "STORY")
    data = await api.gql(CREATE_STORY, {"input": {"mediaId": media_id, "audience": audience}}, user.token)
    story_id: str = data["createStory"]["id"]
    return story_id


async def add_edges(api: Api, edges: list[tuple[str, int, int]]) -> None:
    """Graph rows written directly: ("follow"|"pending"|"close_friend"|"contact"|"block"|"hide", a, b)."""
    now = api.clock.now()
    ids = api.services.ids
    rows: list[Any] = []
    for kind, a, b in edges:
        if kind in ("follow", "pending"):
            state = FollowState.ACCEPTED if kind == "follow" else FollowState.PENDING
            rows.append(Follow(id=ids.next_id(), follower_id=a, followee_id=b, state=state, created_at=now))
        else:
            model = {"close_friend": CloseFriend, "contact": Contact, "block": Block, "hide": StoryHide}[kind]
            rows.append(model(user_id=a, other_id=b, created_at=now))
    async with api.services.db.write() as session:
        session.add_all(rows)


async def bulk_users(api: Api, n: int, *, prefix: str, private: bool = False) -> list[int]:
    now = api.clock.now()
    users = [
        User(
            id=api.services.ids.next_id(),
            username=f"{prefix}{i}",
            password_hash="x",
            is_private=private,
            created_at=now,
            last_active_at=now,
        )
        for i in range(n)
    ]
    async with api.services.db.write() as session:
        session.add_all(users)
    return [user.id for user in users]


async def bulk_stories(
    api: Api, authors: list[int], *, audience: str = "FOLLOWERS", created_at: datetime | None = None
) -> list[int]:
    """One story per author, with a READY media row whose object is really in storage."""
    services = api.services
    now = created_at or api.clock.now()
    media: list[Media] = []
    stories: list[Story] = []
    for author in authors:
        media_id = services.ids.next_id()
        key = f"story/{author}/{media_id}.jpg"
        await services.storage.put(key, b"\xff\xd8\xff bytes", "image/jpeg")
        media.append(
            Media(
                id=media_id,
                owner_id=author,
                purpose="STORY",
                kind="IMAGE",
                content_type="image/jpeg",
                byte_size=10,
                status=MediaStatus.READY,
                storage_key=key,
                variants=[],
                created_at=now,
            )
        )
        stories.append(
            Story(
                id=services.ids.next_id(),
                author_id=author,
                media_id=media_id,
                audience=audience,
                created_at=now,
                expires_at=now + timedelta(seconds=services.settings.story_ttl_seconds),
            )
        )
    async with services.db.write() as session:
        session.add_all(media)
        await session.flush()
        session.add_all(stories)
    return [story.id for story in stories]


async def create_highlight(api: Api, user: TestUser, story_ids: list[str], title: str = "Trips") -> str:
    data = await api.gql(CREATE_HIGHLIGHT, {"input": {"title": title, "storyIds": story_ids}}, user.token)
    highlight_id: str = data["createHighlight"]["id"]
    return highlight_id


async def set_archive(api: Api, user: TestUser, on: bool) -> None:
    data = await api.gql(ARCHIVE, {"on": on}, user.token)
    assert data["updateProfile"]["archiveStories"] is on


async def bulk_highlight(api: Api, owner: int, story_ids: list[int]) -> int:
    """A highlight of `owner` holding `story_ids`, written directly."""
    now = api.clock.now()
    highlight = Highlight(id=api.services.ids.next_id(), owner_id=owner, title="Kept", created_at=now)
    async with api.services.db.write() as session:
        session.add(highlight)
        await session.flush()
        rows = [HighlightStory(highlight_id=highlight.id, story_id=i, added_at=now) for i in story_ids]
        session.add_all(rows)
    return highlight.id


async def bulk_archive(api: Api, user_ids: list[int]) -> None:
    async with api.services.db.write() as session:
        await session.execute(update(User).where(User.id.in_(user_ids)).values(archive_stories=True))


def story_gid(story_id: int) -> str:
    return to_global_id("Story", story_id)
