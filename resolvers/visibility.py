"""Who may see what: the one function family every path asks (see ARCHITECTURE.md, Visibility).

Each rule is a pure function of a `Relationship` (the viewer's edges to one other user), so
callers fetch relationships in one batch through `RelationshipTo` and decide without SQL. The SQL
form of each rule is in resolvers/visibility_sql.py (same names in its docstrings); the rules of
stories (liveness, audience) are in resolvers/stories/rules.py, built on these relationships.
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
    muting_posts: bool = False  # viewer muted other's posts (their feed only)
    muting_stories: bool = False  # viewer muted other's stories (their tray only)
    suspended: bool = False  # other's account is suspended by a moderator

    @property
    def blocked_either_way(self) -> bool:
        """A suspended account is, for everyone, as if it blocked them."""
        return self.blocking or self.blocked_by or self.suspended

    @property
    def follows(self) -> bool:
        return self.follow is FollowState.ACCEPTED


SELF = Relationship(is_self=True)
STRANGER = Relationship()
SUSPENDED = Relationship(suspended=True)


def can_find_user(rel: Relationship) -> bool:
    """user(username:) and node(id:): a blocker is invisible to the user they blocked, and a
    suspended account to everyone."""
    return rel.is_self or not (rel.blocked_by or rel.suspended)


def can_see_content(rel: Relationship, *, author_is_private: bool) -> bool:
    """Posts and follower lists: private accounts need an accepted follow; blocks stop everything."""
    if rel.is_self:
        return True
    if rel.blocked_either_way:
        return False
    return not author_is_private or rel.follows


def can_interact(rel: Relationship) -> bool:
    """Messages, reactions, follows: nothing flows between a blocked pair."""
    return rel.is_self or not rel.blocked_either_way


def can_suggest(rel: Relationship) -> bool:
    """suggestedUsers: never the viewer, an account they follow or asked to follow, or a blocked pair."""
    return not rel.is_self and rel.follow is None and not rel.blocked_either_way
