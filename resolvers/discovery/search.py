"""searchUsers: prefix and typo-tolerant matching on username and display name, best first.

A user matches when the username or a word of the display name starts with the query, or when
either is similar to it (pg_trgm `similarity` >= 0.3: PostgreSQL's `%` operator over GIN trigram
indexes; SQLite runs the same function, core/trigrams.py, over its users). The order:
1. accounts the viewer follows (accepted) or has on their close-friends list,
2. then accounts followed by an account the viewer follows,
3. then everyone else;
within each, most followers first, then the oldest account. Blocked pairs (either way) never
appear, in SQL (`interacts`) and again in Python (`can_interact`), nor deleted accounts; private
accounts do.
Pages are keyset pages over that order (the cursor holds the last row's rank, follower count and
id), chosen and counted in one statement.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Subquery, and_, case, func, or_, select
from sqlalchemy.orm import aliased

from core.context import RequestContext
from core.errors import BadInput
from core.trigrams import SIMILARITY_THRESHOLD
from models import CloseFriend, Follow, FollowState, User
from resolvers.accounts.users import UserById, relationships
from resolvers.paging import Page, check_size, decode_cursor, encode_cursor
from resolvers.visibility import can_interact
from resolvers.visibility_sql import interacts

MAX_QUERY = 64
FOLLOWED, FRIEND_OF_FRIEND, OTHER = 0, 1, 2


@dataclass(frozen=True)
class SearchPosition:
    """Where a row sits in the order: the keyset cursor."""

    tier: int
    followers: int
    user_id: int

    def encode(self) -> str:
        return encode_cursor(f"{self.tier}.{self.followers}.{self.user_id}")

    @classmethod
    def decode(cls, cursor: str) -> SearchPosition:
        parts = decode_cursor(cursor).split(".")
        if len(parts) != 3 or not all(part.isdigit() and len(part) <= 19 for part in parts):
            raise BadInput("Malformed cursor.", field="after")
        return cls(*map(int, parts))


def normalize_query(raw: str) -> str:
    query = raw.strip().removeprefix("@").strip().lower()
    if len(query) > MAX_QUERY:
        raise BadInput(f"`query` is at most {MAX_QUERY} characters.", field="query")
    return query


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matches(query: str, *, postgres: bool) -> ColumnElement[bool]:
    escaped = _escape_like(query)
    prefix = or_(
        User.username.like(escaped + "%", escape="\\"),
        User.display_name.ilike(escaped + "%", escape="\\"),
        User.display_name.ilike("% " + escaped + "%", escape="\\"),
    )
    if postgres:
        fuzzy = or_(User.username.op("%")(query), User.display_name.op("%")(query))
    else:
        fuzzy = or_(
            func.trgm_similarity(User.username, query) >= SIMILARITY_THRESHOLD,
            func.trgm_similarity(User.display_name, query) >= SIMILARITY_THRESHOLD,
        )
    return or_(prefix, fuzzy)


def ranked_matches(viewer: int, query: str, *, postgres: bool) -> Subquery:
    """The matching users with their tier and follower count (a subquery `m`)."""
    mine, theirs, counted = aliased(Follow), aliased(Follow), aliased(Follow)
    followed = select(mine.followee_id).where(mine.follower_id == viewer, mine.state == FollowState.ACCEPTED)
    close = select(CloseFriend.other_id).where(CloseFriend.user_id == viewer)
    second = (
        select(theirs.followee_id)
        .join(mine, mine.followee_id == theirs.follower_id)
        .where(mine.follower_id == viewer, mine.state == FollowState.ACCEPTED)
        .where(theirs.state == FollowState.ACCEPTED)
    )
    tier = case(
        (or_(User.id.in_(followed), User.id.in_(close)), FOLLOWED),
        (and_(User.id != viewer, User.id.in_(second)), FRIEND_OF_FRIEND),
        else_=OTHER,
    )
    followers = (
        select(func.count())
        .where(counted.followee_id == User.id, counted.state == FollowState.ACCEPTED)
        .scalar_subquery()
    )
    # Whole user rows in the subquery: the page needs no second pass over users.
    return (
        select(User, tier.label("tier"), followers.label("followers"))
        .where(matches(query, postgres=postgres), User.deleted_at.is_(None), interacts(viewer, User.id))
        .subquery("m")
    )


async def search_users(
    ctx: RequestContext, raw_query: str, first: int | None, after: str | None
) -> Page[User]:
    viewer = ctx.require_viewer()
    size = check_size(first, "first", default=20)
    position = SearchPosition.decode(after) if after else None
    query = normalize_query(raw_query)
    if not query:
        return Page([], False)
    m = ranked_matches(viewer, query, postgres=not ctx.services.db.is_sqlite)
    tier, followers, user_id = m.c.tier, m.c.followers, m.c.id
    stmt = select(aliased(User, m), tier, followers).order_by(tier, followers.desc(), user_id).limit(size + 1)
    if position is not None:
        stmt = stmt.where(
            or_(
                tier > position.tier,
                and_(tier == position.tier, followers < position.followers),
                and_(tier == position.tier, followers == position.followers, user_id > position.user_id),
            )
        )
    async with ctx.read() as session:
        rows = list((await session.execute(stmt)).all())
    for user, _, _ in rows:
        UserById(ctx).prime(user.id, user)
    shown = rows[:size]
    rels = await relationships(ctx, [user.id for user, _, _ in shown])
    items = [
        (SearchPosition(row_tier, count, user.id).encode(), user)
        for (user, row_tier, count), rel in zip(shown, rels, strict=True)
        if user.deleted_at is None and can_interact(rel)
    ]
    return Page(items, len(rows) > size, position is not None)
