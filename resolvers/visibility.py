"""Who may see what: the one function family every path asks (see ARCHITECTURE.md, Visibility).

Each rule is a pure function of a `Relationship` (the viewer's edges to one other user), so
callers fetch relationships in one batch through `RelationshipTo` and decide without SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.graph import FollowState


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
