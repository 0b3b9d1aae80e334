"""Helpers for post and feed tests: ready media without an upload, posts, settled fan-out."""

from __future__ import annotations

from core.context import Services
from core.ids import from_global_id, to_global_id
from models import Media, MediaStatus
from tests.harness import Api, TestUser

CREATE_POST = """
mutation($input: CreatePostInput!) {
  createPost(input: $input) { id caption likeCount viewerHasLiked author { username } media { id status } }
}
"""


def user_id(user: TestUser) -> int:
    parsed = from_global_id(user.id)
    assert parsed is not None
    return parsed[1]


async def ready_media(api: Api, user: TestUser, count: int = 1, purpose: str = "POST") -> list[str]:
    """READY media rows as an upload would leave them (the upload path has its own tests)."""
    ids = await ready_media_rows(api.services, user_id(user), count, purpose)
    return [to_global_id("Media", media_id) for media_id in ids]


async def ready_media_rows(services: Services, owner: int, count: int, purpose: str = "POST") -> list[int]:
    rows = [
        Media(
            id=services.ids.next_id(),
            owner_id=owner,
            purpose=purpose,
            kind="IMAGE",
            content_type="image/jpeg",
            byte_size=1000,
            status=MediaStatus.READY,
            storage_key=f"post/{owner}/{n}.jpg",
            variants=[],
            created_at=services.clock.now(),
        )
        for n in range(count)
    ]
    async with services.db.write() as session:
        session.add_all(rows)
    return [row.id for row in rows]


async def create_post(api: Api, user: TestUser, caption: str = "") -> str:
    media = await ready_media(api, user)
    data = await api.gql(CREATE_POST, {"input": {"caption": caption, "mediaIds": media}}, token=user.token)
    post_id: str = data["createPost"]["id"]
    return post_id


async def settle(api: Api) -> None:
    """Let the feed fan-out finish (hybrid mode), instead of sleeping."""
    await api.services.outbox.settle(api.services)
