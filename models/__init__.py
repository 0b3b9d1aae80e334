"""SQLAlchemy models, one module per domain. Importing this package registers every table."""

from models.accounts import DataExport, EmailLink, ExportStatus, LinkPurpose, UsernameHold
from models.activity import Activity, ActivityActor, ActivityInbox
from models.base import Base
from models.comments import Comment
from models.conversations import Conversation, ConversationMember, Message, MessageReaction
from models.discovery import Hashtag, PostHashtag, PostMention, SavedPost
from models.graph import Block, CloseFriend, Contact, Follow, FollowState, StoryHide
from models.highlights import Highlight, HighlightStory
from models.media import Media, MediaReconciliation, MediaStatus
from models.outbox import IdNodeLease, Outbox
from models.posts import Post, PostLike, PostMedia
from models.safety import ModerationLog, Mute, Report, ReportObject
from models.stories import Story, StoryEvent, StoryReaction, StoryView
from models.users import AuthToken, User

__all__ = [
    "Activity",
    "ActivityActor",
    "ActivityInbox",
    "AuthToken",
    "Base",
    "Block",
    "CloseFriend",
    "Comment",
    "Contact",
    "Conversation",
    "ConversationMember",
    "DataExport",
    "EmailLink",
    "ExportStatus",
    "Follow",
    "FollowState",
    "Hashtag",
    "Highlight",
    "HighlightStory",
    "IdNodeLease",
    "LinkPurpose",
    "Media",
    "MediaReconciliation",
    "MediaStatus",
    "Message",
    "MessageReaction",
    "ModerationLog",
    "Mute",
    "Outbox",
    "Post",
    "PostHashtag",
    "PostLike",
    "PostMedia",
    "PostMention",
    "Report",
    "ReportObject",
    "SavedPost",
    "Story",
    "StoryEvent",
    "StoryHide",
    "StoryReaction",
    "StoryView",
    "User",
    "UsernameHold",
]
