"""The activity inbox's rule, stated once: which actors of an item the viewer may see.

An actor is shown when nothing stops the pair interacting (`can_interact`: no block either way,
no suspension) and what they did still stands. For follows "still stands" is a relationship, so
both forms read it from one table, `STANDING_FOLLOWS`: `actor_shown` on a loaded `Relationship`,
`actor_shown_sql` in the page, count and actor statements. A like stands while its row does and a
caption's mention until an edit drops it: rows a `Relationship` does not carry, so only the SQL
form reads them (the page's actors come from it, resolvers/activity/inbox.py `ActorsOf`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, literal, or_
from sqlalchemy.sql.elements import ColumnElement

from models import Activity, ActivityActor, Follow, FollowState, PostLike, PostMention
from resolvers.activity.recording import ActivityKind
from resolvers.visibility import Relationship, can_interact
from resolvers.visibility_sql import interacts

# kind -> (the actor follows the viewer: True; the viewer follows the actor: False, the state).
STANDING_FOLLOWS: dict[str, tuple[bool, FollowState]] = {
    ActivityKind.FOLLOWED: (True, FollowState.ACCEPTED),
    ActivityKind.FOLLOW_REQUESTED: (True, FollowState.PENDING),
    ActivityKind.FOLLOW_ACCEPTED: (False, FollowState.ACCEPTED),
}
# What was done stands for good once done (a comment, a reaction, a reply: deleting them removes
# the item by its own rule).
LASTING = (ActivityKind.POST_COMMENTED, ActivityKind.STORY_REACTED, ActivityKind.STORY_REPLIED)


def actor_shown(kind: str, rel: Relationship) -> bool:
    """An actor of an item of `kind`, related to the viewer by `rel`, may be shown to them."""
    if not can_interact(rel):
        return False
    standing = STANDING_FOLLOWS.get(kind)
    if standing is None:
        return True
    actor_follows_viewer, state = standing
    return (rel.followed_by if actor_follows_viewer else rel.follow) is state


def actor_shown_sql(
    viewer: Any, kind: Any = Activity.kind, actor: Any = ActivityActor.actor_id
) -> ColumnElement[bool]:
    """`actor_shown` as SQL on an activity row and one of its actor rows, with the like and the
    caption mention standing as long as their rows. `viewer`: an id or a bound parameter."""
    viewer_id = viewer if isinstance(viewer, ColumnElement) else literal(viewer)

    def follows(follower: Any, followee: Any, state: FollowState) -> ColumnElement[bool]:
        return exists().where(
            Follow.follower_id == follower, Follow.followee_id == followee, Follow.state == state
        )

    standing_follows = [
        and_(
            kind == follow_kind,
            follows(actor, viewer_id, state) if to_viewer else follows(viewer_id, actor, state),
        )
        for follow_kind, (to_viewer, state) in STANDING_FOLLOWS.items()
    ]
    still = or_(
        # One comparison each, not `IN` (an expanding parameter): the statement is compiled once.
        *(kind == lasting for lasting in LASTING),
        and_(
            kind == ActivityKind.POST_LIKED,
            exists()
            .where(PostLike.post_id == Activity.post_id, PostLike.user_id == actor)
            .correlate_except(PostLike),
        ),
        *standing_follows,
        # A comment's mention stands as long as the comment; a caption's, until an edit drops it.
        and_(
            kind == ActivityKind.MENTIONED,
            or_(
                Activity.comment_id.is_not(None),
                exists()
                .where(PostMention.post_id == Activity.post_id, PostMention.user_id == viewer_id)
                .correlate_except(PostMention),
            ),
        ),
    )
    return and_(interacts(viewer, actor), still)
