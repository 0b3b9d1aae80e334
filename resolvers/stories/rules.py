"""The rules of stories, each stated once, as a Python predicate next to its SQL form.

- Liveness: a story is live while it is not deleted, not purged, and now < expiresAt (it is gone at
  its expiry instant). `is_live` / `live`; past it, `has_expired` / `expired` (the archive, the
  sweeper's retention cutoff).
- Kept past expiry: in a highlight, or archived by its author (`kept_past_expiry`).
- Audience: who may see a live story (`can_see_story` / `story_visible_sql`); past expiry, who may
  still reach a kept one (`can_see_expired_story`).
- Its views: only the author, and only while it is live (`shows_views_to`).

Every path that decides one of these calls these functions, in SQL (pages chosen in the database,
and the query planner) or in Python (rows already loaded). tests/test_rules.py fails when a
comparison of a story's expiry appears anywhere else. The relationships they read come from
resolvers/visibility.py; block symmetry is `blocked_either_way` there and
`blocked_between` in resolvers/visibility_sql.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, or_

from models import CloseFriend, Contact, Follow, FollowState, HighlightStory, Story, StoryHide, User
from resolvers.visibility import Relationship
from resolvers.visibility_sql import blocked_between

# Who a story may be for (`can_see_story` decides each).
AUDIENCES = ("PUBLIC", "FOLLOWERS", "CLOSE_FRIENDS", "CONTACTS")


def is_live(story: Story, now: datetime) -> bool:
    """Not deleted, not purged, and now < expiresAt (a story is gone at its expiry instant)."""
    return story.deleted_at is None and story.media_id is not None and now < story.expires_at


def live(now: Any, story: Any = Story) -> ColumnElement[bool]:
    """`is_live` as SQL on a story row (`now`: a time or a bound parameter)."""
    return and_(story.expires_at > now, story.deleted_at.is_(None), story.media_id.is_not(None))


def has_expired(story: Story, now: datetime) -> bool:
    """Past its expiry instant, whether or not it was deleted or purged since."""
    return now >= story.expires_at


def expired(at: Any, story: Any = Story) -> ColumnElement[bool]:
    """`has_expired` as SQL: the story's expiry is at or before `at` (now, or the sweeper's cutoff)."""
    return story.expires_at <= at  # type: ignore[no-any-return]


def kept_past_expiry(story: Any = Story) -> ColumnElement[bool]:
    """SQL: the story is one its author keeps past expiry: not deleted, and in a highlight or
    archived by its author. The sweeper leaves these alone; the archive lists the archived ones."""
    return and_(
        story.deleted_at.is_(None),
        or_(
            exists().where(HighlightStory.story_id == story.id),
            exists().where(User.id == story.author_id, User.archive_stories.is_(True)),
        ),
    )


def can_see_story(rel: Relationship, *, audience: str, author_is_private: bool) -> bool:
    """Audience rules for a live story (callers filter liveness with `is_live` first)."""
    if rel.is_self:
        return True
    if rel.blocked_either_way or rel.stories_hidden_by_them:
        return False
    if audience == "PUBLIC":
        return not author_is_private or rel.follows
    if audience == "FOLLOWERS":
        return rel.follows
    if audience == "CLOSE_FRIENDS":
        return rel.in_their_close_friends
    if audience == "CONTACTS":
        return rel.contact and rel.their_contact
    return False


def story_visible_sql(viewer: Any, story: Any = Story, author: Any = User) -> ColumnElement[bool]:
    """`can_see_story` as a SQL condition on a story row and its author's user row, for choosing a
    page of stories in the database (the tray) instead of loading every candidate. The same rule,
    line for line: the audience matrix tests run on the tray too, so the two cannot drift apart."""
    follows = exists().where(
        Follow.follower_id == viewer,
        Follow.followee_id == story.author_id,
        Follow.state == FollowState.ACCEPTED,
    )
    hidden = exists().where(StoryHide.user_id == story.author_id, StoryHide.other_id == viewer)
    in_their_close_friends = exists().where(
        CloseFriend.user_id == story.author_id, CloseFriend.other_id == viewer
    )
    mutual_contacts = and_(
        exists().where(Contact.user_id == story.author_id, Contact.other_id == viewer),
        exists().where(Contact.user_id == viewer, Contact.other_id == story.author_id),
    )
    audience = case(
        (story.audience == "PUBLIC", or_(author.is_private.is_(False), follows)),
        (story.audience == "FOLLOWERS", follows),
        (story.audience == "CLOSE_FRIENDS", in_their_close_friends),
        (story.audience == "CONTACTS", mutual_contacts),
        else_=false(),
    )
    return or_(
        story.author_id == viewer,
        and_(~blocked_between(viewer, story.author_id, b_row=author), ~hidden, audience),
    )


def can_see_expired_story(
    rel: Relationship, *, audience: str, author_is_private: bool, highlighted: bool, archived: bool
) -> bool:
    """A story past its expiry that its author kept (ARCHITECTURE.md, Lifetimes of a story): in a
    highlight, by its audience evaluated now; archived only, by the author alone. Callers pass
    neither flag for a story nobody kept, and deleted or purged stories never come here."""
    if highlighted:
        return can_see_story(rel, audience=audience, author_is_private=author_is_private)
    return archived and rel.is_self


def shows_views_to(viewer: int | None, story: Story, now: datetime) -> bool:
    """Who watched a story (its count and its viewers) is for its author while it is live: past
    expiry (in a highlight or the archive) nobody, the author included, sees who watched it."""
    return viewer == story.author_id and is_live(story, now)


def urls_end_with_story(story: Story, now: datetime, *, kept: bool) -> bool:
    """A live story's media URLs end with it; one shown past expiry (kept) need not."""
    return not kept and is_live(story, now)
