"""SQLAlchemy models, one module per domain. Importing this package registers every table."""

from models.base import Base
from models.graph import Block, CloseFriend, Contact, Follow, FollowState, StoryHide
from models.media import Media, MediaStatus
from models.posts import FeedOutbox, Post, PostLike, PostMedia
from models.users import AuthToken, User

__all__ = [
    "AuthToken",
    "Base",
    "Block",
    "CloseFriend",
    "Contact",
    "FeedOutbox",
    "Follow",
    "FollowState",
    "Media",
    "MediaStatus",
    "Post",
    "PostLike",
    "PostMedia",
    "StoryHide",
    "User",
]
