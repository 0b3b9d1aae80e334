"""A world for comparing the compiled executor with strawberry: every case a plan must get right.

Public and private authors (followed, requested, not followed), a user who blocked the viewer
and one the viewer blocked, a suspended author, users with and without avatars, posts with
READY, PENDING and FAILED media, an edited caption, comments by users on both sides of a block,
likes and saves, a live story and an expired one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import update

from core.ids import from_global_id
from models import Media, MediaStatus, Post, PostMedia, User
from tests.engagement import APPROVE, BLOCK, FOLLOW, GO_PRIVATE, LIKE, comment
from tests.harness import Api, TestUser
from tests.posting import create_post, ready_media_rows, settle, user_id
from tests.story_helpers import create_story

SAVE = "mutation($id: ID!) { savePost(id: $id, saved: true) { id } }"


@dataclass
class CompiledWorld:
    viewer: TestUser
    users: dict[str, TestUser]
    posts: dict[str, str] = field(default_factory=dict)  # name -> global id
    comments: list[str] = field(default_factory=list)
    stories: list[str] = field(default_factory=list)

    def node_ids(self) -> list[str]:
        users = [user.id for user in self.users.values()]
        return [*users, *self.posts.values(), *self.comments, *self.stories, "bm90LWFuLWlk"]


async def build_compiled_world(api: Api) -> CompiledWorld:
    names = ["viewer", "friend", "private_friend", "private_stranger", "requested", "blocker", "blocked"]
    names += ["suspended", "plain"]
    users = {name: await api.sign_up(f"cw_{name}") for name in names}
    viewer = users["viewer"]
    world = CompiledWorld(viewer, users)
    for name in ("private_friend", "private_stranger", "requested"):
        await api.gql(GO_PRIVATE, token=users[name].token)
    for name in ("friend", "private_friend", "requested", "blocked", "suspended", "plain"):
        await api.gql(FOLLOW, {"id": users[name].id}, token=viewer.token)
    await api.gql(APPROVE, {"id": viewer.id}, token=users["private_friend"].token)
    for name, user in users.items():
        world.posts[name] = await create_post(api, user, f"{name} says #hello @cw_friend")
    await _avatars_and_media(api, world)
    await api.gql(BLOCK, {"id": viewer.id}, token=users["blocker"].token)
    await api.gql(BLOCK, {"id": users["blocked"].id}, token=viewer.token)
    for name in ("friend", "plain", "viewer"):
        post = world.posts[name]
        for commenter in ("friend", "viewer", "plain"):
            world.comments.append(await comment(api, users[commenter], post, f"{commenter} on {name}"))
        await api.gql(LIKE, {"id": post}, token=viewer.token)
    await api.gql(SAVE, {"id": world.posts["friend"]}, token=viewer.token)
    world.stories.append(await create_story(api, users["friend"]))
    expired = await create_story(api, users["plain"])
    world.stories.append(expired)
    api.clock.advance(2 * 86_400)
    world.stories.append(await create_story(api, users["friend"]))
    await _suspend(api, users["suspended"])
    await settle(api)
    return world


async def _avatars_and_media(api: Api, world: CompiledWorld) -> None:
    """Avatars for some users (one of them FAILED), a second post of the friend with a PENDING
    and a FAILED media, and an edited caption."""
    services = api.services
    for name, status in (("friend", MediaStatus.READY), ("plain", MediaStatus.FAILED)):
        owner = user_id(world.users[name])
        [avatar] = await ready_media_rows(services, owner, 1, "AVATAR")
        async with services.db.write() as session:
            await session.execute(update(Media).where(Media.id == avatar).values(status=status))
            await session.execute(update(User).where(User.id == owner).values(avatar_media_id=avatar))
    post = await create_post(api, world.users["friend"], "pending and failed")
    world.posts["friend_second"] = post
    rows = await ready_media_rows(services, user_id(world.users["friend"]), 2)
    async with services.db.write() as session:
        for media_id, status in zip(rows, (MediaStatus.PENDING, MediaStatus.FAILED), strict=True):
            values = {"status": status, "width": None, "height": None, "failure": "not an image"}
            await session.execute(update(Media).where(Media.id == media_id).values(**values))
        # The post's own media are left READY; these two join it in later positions.
        post_db_id = _db_id(post)
        for position, media_id in enumerate(rows, start=1):
            session.add(PostMedia(post_id=post_db_id, position=position, media_id=media_id))
        await session.execute(
            update(Post).where(Post.id == post_db_id).values(edited_at=services.clock.now())
        )


async def _suspend(api: Api, user: TestUser) -> None:
    async with api.services.db.write() as session:
        await session.execute(
            update(User).where(User.id == user_id(user)).values(suspended_at=api.services.clock.now())
        )


def _db_id(global_id: str) -> int:
    parsed = from_global_id(global_id)
    assert parsed is not None
    return parsed[1]
