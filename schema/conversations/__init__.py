"""Conversations and messages: types, the conversations query, the mutations and conversationEvents."""

from schema.conversations.events import ConversationSubscription
from schema.conversations.groups import ConversationMembershipMutation
from schema.conversations.mutations import ConversationMutation
from schema.conversations.queries import (
    ConversationFolder,
    ConversationQuery,
    conversation_node,
    message_node,
)
from schema.conversations.types import ConversationType, MessageReactionType, MessageType

__all__ = [
    "ConversationFolder",
    "ConversationMembershipMutation",
    "ConversationMutation",
    "ConversationQuery",
    "ConversationSubscription",
    "ConversationType",
    "MessageReactionType",
    "MessageType",
    "conversation_node",
    "message_node",
]
