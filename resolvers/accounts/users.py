"""Users and the viewer's relationships to them, loaded in batches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, String, any_, bindparam, func, literal, select, type_coerce, union_all
from sqlalchemy.dialects import postgresql

from core.context import RequestContext
from core.sql import id_in
from models import Block, CloseFriend, Contact, Follow, FollowState, Mute, StoryHide, User
from resolvers.loader import RequestLoader, unique
from resolvers.visibility import SELF, STRANGER, SUSPENDED, Relationship, can_find_user, can_interact


class UserById(RequestLoader[int, User | None]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, User | None]:
        # A global id may carry any 19-digit number; past 64 bits the database would fail, not miss.
        ids = [key for key in unique(keys) if 0 <= key < 1 << 63]
        if not ids:
            return {}
        postgres = not self.ctx.services.db.is_sqlite
        async with self.ctx.read() as session:
            rows = await session.scalars(select(User).where(id_in(User.id, ids, postgres=postgres)))
            return {user.id: user for user in rows}

    def default(self, key: int) -> User | None:
        return None


class RelationshipTo(RequestLoader[int, Relationship]):
    """The viewer's edges to many users in one statement (every edge table, both directions)."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Relationship]:
        viewer = self.ctx.viewer_id
        others = [key for key in unique(keys) if key != viewer]
        postgres = not self.ctx.services.db.is_sqlite
        result: dict[int, Relationship] = {viewer: SELF} if viewer is not None and viewer in keys else {}
        if not others:
            return result
        if viewer is None:  # signed out: only suspensions apply
            suspended = select(User.id).where(
                id_in(User.id, others, postgres=postgres), User.suspended_at.is_not(None)
            )
            async with self.ctx.read() as session:
                gone = set(await session.scalars(suspended))
            return {other: SUSPENDED if other in gone else STRANGER for other in others}
        edges: dict[int, dict[str, object]] = {}
        async with self.ctx.read() as session:
            rows = await session.execute(_edges(postgres), {"viewer": viewer, "others": others})
            for kind, other, state in rows.all():
                edges.setdefault(other, {})[kind] = FollowState(state) if state else True
        BlocksOf(self.ctx).prime(
            viewer,
            Blocks(
                frozenset(other for other, kinds in edges.items() if "blocking" in kinds),
                frozenset(other for other, kinds in edges.items() if "blocked_by" in kinds),
            ),
        )
        for other in others:
            result[other] = Relationship(**edges[other]) if other in edges else STRANGER  # type: ignore[arg-type]
        return result

    def default(self, key: int) -> Relationship:
        return STRANGER


def _among(column: Any, postgres: bool) -> Any:
    """`column IN :others` (one array parameter on PostgreSQL, see `id_in`)."""
    if postgres:
        return column == any_(bindparam("others", type_=postgresql.ARRAY(BigInteger)))
    return column.in_(bindparam("others", expanding=True))


def _build_edges(postgres: bool) -> Any:
    """Every edge between :viewer and :others, as (kind, other, follow state) rows."""
    viewer = bindparam("viewer", type_=BigInteger)
    # Plain strings: the union takes its column types from the first branch, and the edge
    # branches put "" in this column, which the FollowState enum type would refuse.
    state_text = type_coerce(Follow.state, String(16))
    branches: list[Any] = [
        select(literal("follow"), Follow.followee_id, state_text).where(
            Follow.follower_id == viewer, _among(Follow.followee_id, postgres)
        ),
        select(literal("followed_by"), Follow.follower_id, state_text).where(
            Follow.followee_id == viewer, _among(Follow.follower_id, postgres)
        ),
        select(literal("suspended"), User.id, literal("")).where(
            _among(User.id, postgres), User.suspended_at.is_not(None)
        ),
        *(
            select(literal(name), Mute.other_id, literal("")).where(
                Mute.user_id == viewer, flag.is_(True), _among(Mute.other_id, postgres)
            )
            for name, flag in (("muting_posts", Mute.posts), ("muting_stories", Mute.stories))
        ),
    ]
    # Each table both ways: the viewer's own rows (`user_id`), then theirs naming the viewer.
    for name, table, mine in (
        ("blocking", Block, True),
        ("close_friend", CloseFriend, True),
        ("contact", Contact, True),
        ("hiding_stories", StoryHide, True),
        ("blocked_by", Block, False),
        ("in_their_close_friends", CloseFriend, False),
        ("their_contact", Contact, False),
        ("stories_hidden_by_them", StoryHide, False),
    ):
        own, other = (table.user_id, table.other_id) if mine else (table.other_id, table.user_id)
        # Every block either way, not only those with `others` (a viewer is in few): the same
        # statement then answers BlocksOf, which the user rules of edges ask.
        among = [] if table is Block else [_among(other, postgres)]
        branches.append(select(literal(name), other, literal("")).where(own == viewer, *among))
    return union_all(*branches)


# The statement is built once per dialect and run with parameters: building its thirteen
# branches (and their cache key) took longer than PostgreSQL takes to run it (bench/dm_send.py).
_EDGES: dict[bool, Any] = {}


def _edges(postgres: bool) -> Any:
    if postgres not in _EDGES:
        _EDGES[postgres] = _build_edges(postgres)
    return _EDGES[postgres]


class FollowerCount(RequestLoader[int, int]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, int]:
        stmt = (
            select(Follow.followee_id, func.count())
            .where(Follow.followee_id.in_(unique(keys)), Follow.state == FollowState.ACCEPTED)
            .group_by(Follow.followee_id)
        )
        async with self.ctx.read() as session:
            return {user_id: count for user_id, count in (await session.execute(stmt)).all()}

    def default(self, key: int) -> int:
        return 0


class FollowingCount(RequestLoader[int, int]):
    async def fetch(self, keys: Sequence[int]) -> Mapping[int, int]:
        stmt = (
            select(Follow.follower_id, func.count())
            .where(Follow.follower_id.in_(unique(keys)), Follow.state == FollowState.ACCEPTED)
            .group_by(Follow.follower_id)
        )
        async with self.ctx.read() as session:
            return {user_id: count for user_id, count in (await session.execute(stmt)).all()}

    def default(self, key: int) -> int:
        return 0


async def relationship(ctx: RequestContext, user_id: int) -> Relationship:
    return await RelationshipTo(ctx).load(user_id)


async def relationships(ctx: RequestContext, user_ids: Sequence[int]) -> list[Relationship]:
    return await RelationshipTo(ctx).load_many(user_ids)


async def findable_user(ctx: RequestContext, user_id: int) -> User | None:
    """The user if the viewer may find them at all (not when they blocked the viewer)."""
    return (await findable_users(ctx, [user_id]))[0]


async def findable_users(ctx: RequestContext, user_ids: Sequence[int]) -> list[User | None]:
    """The users the viewer may find, position by position (None where gone or hidden): the one
    rule behind every list of users (members, viewers, followers), in two batched loads."""
    users = await UserById(ctx).load_many(user_ids)
    rels = await relationships(ctx, user_ids)
    return [
        user if user is not None and user.deleted_at is None and can_find_user(rel) else None
        for user, rel in zip(users, rels, strict=True)
    ]


@dataclass(frozen=True)
class Blocks:
    blocking: frozenset[int]  # users the viewer blocks
    blocked_by: frozenset[int]  # users who block the viewer


class BlocksOf(RequestLoader[int, Blocks]):
    """The viewer's blocked pairs, both ways, in one statement per request (a viewer is in few), or
    none when `RelationshipTo` ran first (it reads every block of the viewer's and primes this): the
    block rules asked of users met anywhere in a response cost at most one statement, whenever and
    in whatever order the fields that meet them resolve."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, Blocks]:
        found: dict[int, Blocks] = {}
        async with self.ctx.read() as session:
            for viewer in unique(keys):
                stmt = union_all(
                    select(literal("blocking"), Block.other_id).where(Block.user_id == viewer),
                    select(literal("blocked_by"), Block.user_id).where(Block.other_id == viewer),
                )
                rows = (await session.execute(stmt)).all()
                found[viewer] = Blocks(
                    frozenset(other for kind, other in rows if kind == "blocking"),
                    frozenset(other for kind, other in rows if kind == "blocked_by"),
                )
        return found


async def block_relationships(ctx: RequestContext, user_ids: Sequence[int]) -> list[Relationship]:
    """The block edges of the viewer's relationships, and suspensions (every other field left
    unset): enough for `can_find_user` and `can_interact`, which read nothing else. The users' rows
    are usually loaded already (the edge leads to them), so suspensions cost no statement."""
    viewer = ctx.viewer_id
    users = await UserById(ctx).load_many(user_ids)
    suspended = {user.id for user in users if user is not None and user.suspended_at is not None}
    if viewer is None:
        return [SUSPENDED if user_id in suspended else STRANGER for user_id in user_ids]
    blocks = await BlocksOf(ctx).load(viewer)
    return [
        SELF
        if user_id == viewer
        else Relationship(
            blocking=user_id in blocks.blocking,
            blocked_by=user_id in blocks.blocked_by,
            suspended=user_id in suspended,
        )
        for user_id in user_ids
    ]


async def findable(ctx: RequestContext, users: Sequence[User]) -> list[bool]:
    """Which of `users` the viewer may find (`can_find_user`)."""
    return [can_find_user(rel) for rel in await block_relationships(ctx, [user.id for user in users])]


async def interacting(ctx: RequestContext, user_ids: Sequence[int]) -> list[bool]:
    """Which of the users the viewer is in no blocked pair with (`can_interact`): where what a user
    did (a view, a reaction) is shown, nothing crosses a block in either direction."""
    return [can_interact(rel) for rel in await block_relationships(ctx, user_ids)]


def username_key(username: str) -> str | None:
    """The stored form of a username asked for (None: no account can have it)."""
    name = username.strip().lower()
    return name if name and len(name) <= 30 else None


async def user_by_username(ctx: RequestContext, username: str) -> User | None:
    name = username_key(username)
    if name is None:
        return None
    async with ctx.read() as session:
        user = await session.scalar(select(User).where(User.username == name))
    if user is None:
        return None
    UserById(ctx).prime(user.id, user)
    return await findable_user(ctx, user.id)


def is_own(ctx: RequestContext, user_id: int) -> bool:
    """The account is the viewer's: what only its owner sees (email, settings) is shown."""
    return ctx.viewer_id is not None and ctx.viewer_id == user_id


async def signed_in_user(ctx: RequestContext) -> User | None:
    """`viewer`: the signed-in user's account, None when signed out."""
    return await UserById(ctx).load(ctx.viewer_id) if ctx.viewer_id is not None else None
