"""Hand-built worlds for the discovery tests: users, follows, close friends and blocks written as
rows (signing up hashes passwords, which is slow), beside a signed-up viewer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from models import Block, CloseFriend, Follow, FollowState, User
from tests.harness import Api


async def add_users(
    api: Api, people: list[tuple[str, str]], private: frozenset[str] = frozenset()
) -> dict[str, int]:
    """(username, display name) rows in this order (ids ascend with it); name -> id."""
    services = api.services
    now = services.clock.now()
    rows: list[dict[str, Any]] = [
        {"id": services.ids.next_id(), "username": name, "display_name": display, "bio": "",
         "is_private": name in private, "password_hash": "-", "created_at": now, "last_active_at": now}
        for name, display in people
    ]  # fmt: skip
    async with services.db.write() as session:
        await session.execute(insert(User), rows)
    return {row["username"]: row["id"] for row in rows}


async def add_edges(
    api: Api,
    follows: list[tuple[int, int]] = [],  # noqa: B006
    close_friends: list[tuple[int, int]] = [],  # noqa: B006
    blocks: list[tuple[int, int]] = [],  # noqa: B006
    pending: list[tuple[int, int]] = [],  # noqa: B006
) -> None:
    services = api.services
    now = services.clock.now()

    def follow_rows(pairs: list[tuple[int, int]], state: FollowState) -> list[dict[str, Any]]:
        return [
            {"id": services.ids.next_id(), "follower_id": a, "followee_id": b, "state": state,
             "created_at": now}
            for a, b in pairs
        ]  # fmt: skip

    async with services.db.write() as session:
        for rows in (follow_rows(follows, FollowState.ACCEPTED), follow_rows(pending, FollowState.PENDING)):
            if rows:
                await session.execute(insert(Follow), rows)
        for model, pairs in ((CloseFriend, close_friends), (Block, blocks)):
            if pairs:
                await session.execute(
                    insert(model), [{"user_id": a, "other_id": b, "created_at": now} for a, b in pairs]
                )
