"""Who may see what: the one function family every path asks (see ARCHITECTURE.md, Visibility).

Each rule is a pure function of a `Relationship` (the viewer's edges to one other user), so
callers fetch relationships in one batch through `RelationshipTo` and decide without SQL. Where a
page must be chosen in the database, `story_visible_sql` states the story rule as SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, or_

from models.graph import Block, CloseFriend, Contact, Follow, FollowState, StoryHide


@dataclass(frozen=True)
class Relationship:
    """The viewer's relationship to one other user, both directions."""

    is_self: bool = False
    follow: FollowState | None = None  # viewer -> other
    followed_by: FollowState | None = None  # other -> viewer
    close_friend: bool = False  # other is on the viewer's close-friends list
    in_their_close_friends: bool = False  # viewer is on the other's list
    contact: bool = False  # other is in the viewer's contacts
    their_contact: bool = False  # viewer is in the other's contacts
    blocking: bool = False  # viewer blocks other
    blocked_by: bool = False  # other blocks viewer
    hiding_stories: bool = False  # viewer hides own stories from other
    stories_hidden_by_them: bool = False  # other hides their stories from viewer

    @property
    def blocked_either_way(self) -> bool:
        return self.blocking or self.blocked_by

    @property
    def follows(self) -> bool:
        return self.follow is FollowState.ACCEPTED


SELF = Relationship(is_self=True)
STRANGER = Relationship()


def can_find_user(rel: Relationship) -> bool:
    """user(username:) and node(id:): a blocker is invisible to the user they blocked."""
    return rel.is_self or not rel.blocked_by


def can_see_content(rel: Relationship, *, author_is_private: bool) -> bool:
    """Posts and follower lists: private accounts need an accepted follow; blocks stop everything."""
    if rel.is_self:
        return True
    if rel.blocked_either_way:
        return False
    return not author_is_private or rel.follows


def can_see_story(rel: Relationship, *, audience: str, author_is_private: bool) -> bool:
    """Audience rules for a live story (callers filter expiry and deletion by time first)."""
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


def story_visible_sql(viewer: Any, story: Any, author: Any) -> ColumnElement[bool]:
    """`can_see_story` as a SQL condition on a story row and its author's user row, for choosing a
    page of stories in the database (the tray) instead of loading every candidate. The same rule,
    line for line: the audience matrix tests run on the tray too, so the two cannot drift apart."""
    follows = exists().where(
        Follow.follower_id == viewer,
        Follow.followee_id == story.author_id,
        Follow.state == FollowState.ACCEPTED,
    )
    blocked = exists().where(
        or_(
            and_(Block.user_id == viewer, Block.other_id == story.author_id),
            and_(Block.user_id == story.author_id, Block.other_id == viewer),
        )
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
    return or_(story.author_id == viewer, and_(~blocked, ~hidden, audience))


def can_see_expired_story(
    rel: Relationship, *, audience: str, author_is_private: bool, highlighted: bool, archived: bool
) -> bool:
    """A story past its expiry that its author kept (ARCHITECTURE.md, Lifetimes of a story): in a
    highlight, by its audience evaluated now; archived only, by the author alone. Callers pass
    neither flag for a story nobody kept, and deleted or purged stories never come here."""
    if highlighted:
        return can_see_story(rel, audience=audience, author_is_private=author_is_private)
    return archived and rel.is_self


def can_interact(rel: Relationship) -> bool:
    """Messages, reactions, follows: nothing flows between a blocked pair."""
    return rel.is_self or not rel.blocked_either_way


def can_suggest(rel: Relationship) -> bool:
    """suggestedUsers: never the viewer, an account they follow or asked to follow, or a blocked pair."""
    return not rel.is_self and rel.follow is None and not rel.blocked_either_way
