"""Writing the activity inbox: one call inside the unit of work of the action that causes it.

`record` runs in the action's own transaction, so an item exists exactly when its action
committed. It takes the recipient's next seq (their inbox row is the counter: concurrent writers
to one inbox queue on it, so seqs commit in order), adds the item or regroups it (a like of a post
already liked, a follow after an unfollow: the item takes the new seq and moves to the top), and
queues the live event that `activityAdded` subscribers receive after the commit.
Reading the inbox is resolvers/activity/inbox.py.
"""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from core.unit_of_work import UnitOfWork
from models import Activity, ActivityActor, ActivityInbox, FollowState
from subscriptions import activity_added


class ActivityKind(enum.StrEnum):
    FOLLOWED = "FOLLOWED"
    FOLLOW_REQUESTED = "FOLLOW_REQUESTED"
    FOLLOW_ACCEPTED = "FOLLOW_ACCEPTED"
    POST_LIKED = "POST_LIKED"
    POST_COMMENTED = "POST_COMMENTED"
    STORY_REACTED = "STORY_REACTED"
    STORY_REPLIED = "STORY_REPLIED"
    MENTIONED = "MENTIONED"


FOLLOW_KINDS = (ActivityKind.FOLLOWED, ActivityKind.FOLLOW_REQUESTED, ActivityKind.FOLLOW_ACCEPTED)


def followed_kind(state: FollowState) -> ActivityKind:
    return ActivityKind.FOLLOW_REQUESTED if state is FollowState.PENDING else ActivityKind.FOLLOWED


def group_key(
    kind: ActivityKind, actor: int, post_id: int | None, story_id: int | None, comment_id: int | None = None
) -> str | None:
    """Items that one key shares: every like of a post (Instagram's "a, b and 9 others liked your
    post"), one actor's follow events and reactions to a story (a repeat regroups instead of
    piling up), a caption's mention (an edit that mentions again regroups). Comments, replies and
    mentions in comments are items of their own."""
    if kind is ActivityKind.POST_LIKED:
        return f"like:{post_id}"
    if kind is ActivityKind.MENTIONED:
        return None if comment_id is not None else f"mention:{post_id}"
    if kind is ActivityKind.STORY_REACTED:
        return f"react:{story_id}:{actor}"
    if kind in FOLLOW_KINDS:
        return f"{kind.value.lower()}:{actor}"
    return None


def _dialect(work: UnitOfWork) -> Any:
    return postgresql if work.session.get_bind().dialect.name == "postgresql" else sqlite


async def next_seq(work: UnitOfWork, user_id: int) -> int:
    """The user's next activity seq; their inbox row stays locked until this transaction ends."""
    insert = _dialect(work).insert(ActivityInbox).values(user_id=user_id, last_seq=1, seen_seq=0)
    stmt = insert.on_conflict_do_update(
        index_elements=["user_id"], set_={"last_seq": ActivityInbox.last_seq + 1}
    ).returning(ActivityInbox.last_seq)
    seq: int = (await work.session.execute(stmt)).scalar_one()
    return seq


async def record(
    work: UnitOfWork,
    recipient: int,
    kind: ActivityKind,
    actor: int,
    *,
    post_id: int | None = None,
    comment_id: int | None = None,
    story_id: int | None = None,
    message_id: int | None = None,
    emoji: str | None = None,
) -> None:
    """Add (or regroup) the recipient's item for what `actor` just did; nothing for one's own doing."""
    if recipient == actor:
        return
    services = work.services
    now = services.clock.now()
    seq = await next_seq(work, recipient)
    values = {
        "id": services.ids.next_id(),
        "user_id": recipient,
        "kind": kind.value,
        "group_key": group_key(kind, actor, post_id, story_id, comment_id),
        "seq": seq,
        "post_id": post_id,
        "comment_id": comment_id,
        "story_id": story_id,
        "message_id": message_id,
        "emoji": emoji,
        "created_at": now,
        "updated_at": now,
    }
    dialect = _dialect(work)
    insert = dialect.insert(Activity).values(**values)
    if values["group_key"] is not None:
        insert = insert.on_conflict_do_update(
            index_elements=["user_id", "group_key"],
            set_={"seq": seq, "updated_at": now, "emoji": emoji, "message_id": message_id},
        )
    activity_id: int = (await work.session.execute(insert.returning(Activity.id))).scalar_one()
    actor_row = dialect.insert(ActivityActor).values(activity_id=activity_id, actor_id=actor, acted_at=now)
    await work.session.execute(
        actor_row.on_conflict_do_update(index_elements=["activity_id", "actor_id"], set_={"acted_at": now})
    )
    work.publish([recipient], activity_added(seq))
