"""Who is in a conversation, and how: membership rows, admins, message requests.

A member row's `state` says where the conversation sits for that member: ACCEPTED (the inbox),
PENDING (a message request: started by someone they did not follow) or DECLINED (gone for them
alone, so the others are not told). A PENDING member who follows another member now is in the
inbox too: the rule is evaluated at read time, here and in SQL (`is_request_sql`), the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.context import RequestContext
from models import ConversationMember, Follow, FollowState
from resolvers.loader import RequestLoader, unique

ACCEPTED = "accepted"
PENDING = "pending"
DECLINED = "declined"


@dataclass(frozen=True)
class MemberInfo:
    user_id: int
    is_admin: bool
    state: str


class Membership(RequestLoader[int, ConversationMember | None]):
    """The viewer's membership row (read mark, state, mute) in each conversation, or None; a
    declined conversation is not the viewer's any more."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, ConversationMember | None]:
        viewer = self.ctx.viewer_id
        if viewer is None:
            return {}
        stmt = select(ConversationMember).where(
            ConversationMember.user_id == viewer,
            ConversationMember.conversation_id.in_(unique(keys)),
            ConversationMember.state != DECLINED,
        )
        async with self.ctx.read() as session:
            return {row.conversation_id: row for row in await session.scalars(stmt)}

    def default(self, key: int) -> ConversationMember | None:
        return None


class Members(RequestLoader[int, list[MemberInfo]]):
    """Every member of each conversation, longest-standing first, in one statement."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, list[MemberInfo]]:
        member = ConversationMember
        stmt = (
            select(member.conversation_id, member.user_id, member.is_admin, member.state)
            .where(member.conversation_id.in_(unique(keys)))
            .order_by(member.joined_at, member.user_id)
        )
        found: dict[int, list[MemberInfo]] = {}
        async with self.ctx.read() as session:
            for conversation_id, user_id, is_admin, state in (await session.execute(stmt)).all():
                found.setdefault(conversation_id, []).append(MemberInfo(user_id, is_admin, state))
        return found

    def default(self, key: int) -> list[MemberInfo]:
        return []


class MemberIds(RequestLoader[int, list[int]]):
    """The members' user ids (a declined member included: declining is silent)."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, list[int]]:
        lists = await Members(self.ctx).load_many(list(keys))
        return {key: [m.user_id for m in members] for key, members in zip(keys, lists, strict=True)}

    def default(self, key: int) -> list[int]:
        return []


def _follows_another_member(member: Any, viewer: Any) -> ColumnElement[bool]:
    other = aliased(ConversationMember)
    return (
        select(literal(1))
        .select_from(other)
        .join(
            Follow,
            and_(
                Follow.followee_id == other.user_id,
                Follow.follower_id == viewer,
                Follow.state == FollowState.ACCEPTED,
            ),
        )
        .where(other.conversation_id == member.conversation_id, other.user_id != viewer)
        .exists()
    )


def is_request_sql(member: Any, viewer: int) -> ColumnElement[bool]:
    """The member row `member` of `viewer` is a message request: not accepted, and the viewer
    follows none of the other members."""
    return and_(member.state == PENDING, ~_follows_another_member(member, viewer))


class FollowsAMember(RequestLoader[int, bool]):
    """Does the viewer follow (accepted) another member of each conversation."""

    async def fetch(self, keys: Sequence[int]) -> Mapping[int, bool]:
        viewer = self.ctx.viewer_id
        if viewer is None:
            return {}
        other = aliased(ConversationMember)
        stmt = (
            select(other.conversation_id)
            .join(
                Follow,
                and_(
                    Follow.followee_id == other.user_id,
                    Follow.follower_id == viewer,
                    Follow.state == FollowState.ACCEPTED,
                ),
            )
            .where(other.conversation_id.in_(unique(keys)), other.user_id != viewer)
            .distinct()
        )
        async with self.ctx.read() as session:
            return {cid: True for cid in await session.scalars(stmt)}

    def default(self, key: int) -> bool:
        return False


async def is_request(ctx: RequestContext, membership: ConversationMember) -> bool:
    """The same rule as `is_request_sql`, for a loaded membership row of the viewer."""
    if membership.state != PENDING:
        return False
    return not await FollowsAMember(ctx).load(membership.conversation_id)


async def followers_among(session: AsyncSession, user_ids: Sequence[int], others: Sequence[int]) -> set[int]:
    """Which of `user_ids` follow (accepted) at least one of `others` other than themselves."""
    if not user_ids or not others:
        return set()
    stmt = (
        select(Follow.follower_id)
        .where(
            Follow.follower_id.in_(list(user_ids)),
            Follow.followee_id.in_(list(others)),
            Follow.follower_id != Follow.followee_id,
            Follow.state == FollowState.ACCEPTED,
        )
        .distinct()
    )
    return set(await session.scalars(stmt))
