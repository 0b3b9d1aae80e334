"""Documents and steps shared by the tests of message requests, message changes and group admin."""

from __future__ import annotations

from typing import Any

from tests.harness import Api, TestUser

FOLDER = """
query($folder: ConversationFolder) {
  conversations(folder: $folder) { edges { node { id isRequest isMuted unreadCount } } }
  unreadConversationCount
  messageRequestCount
}
"""
ACCEPT = "mutation($cid: ID!) { acceptMessageRequest(conversationId: $cid) { id isRequest } }"
DECLINE = "mutation($cid: ID!) { declineMessageRequest(conversationId: $cid) }"
MUTE = """
mutation($cid: ID!, $on: Boolean!) { setConversationMuted(conversationId: $cid, muted: $on) { isMuted } }
"""
SEND_TEXT = """
mutation($cid: ID!, $body: String = "hi", $clientId: String = "text-1") {
  sendMessage(input: {conversationId: $cid, body: $body, clientId: $clientId}) { id }
}
"""
MESSAGE_FIELDS = """
  id seq body editedAt unsentAt media { id } sharedPost { id } sharedStory { id }
  reactions { user { username } emoji reactedAt }
"""
EDIT = "mutation($id: ID!, $body: String!) { editMessage(id: $id, body: $body) {" + MESSAGE_FIELDS + "} }"
UNSEND = "mutation($id: ID!) { unsendMessage(id: $id) {" + MESSAGE_FIELDS + "} }"
REACT = (
    "mutation($id: ID!, $emoji: String) { reactToMessage(messageId: $id, emoji: $emoji) {"
    + MESSAGE_FIELDS
    + "} }"
)
SHARE = (
    """
mutation($cid: ID!, $clientId: String!, $post: ID, $story: ID, $body: String) {
  sendMessage(input: {conversationId: $cid, clientId: $clientId, sharedPostId: $post, sharedStoryId: $story,
                      body: $body}) {"""
    + MESSAGE_FIELDS
    + "} }"
)
HISTORY = (
    """
query($id: ID!, $last: Int) {
  node(id: $id) { ... on Conversation { messages(last: $last) { edges { node {"""
    + MESSAGE_FIELDS
    + "} } } } } }"
)
MESSAGE = "query($id: ID!) { node(id: $id) { ... on Message {" + MESSAGE_FIELDS + "} } }"
GROUP_FIELDS = "id title members { username } admins { username }"
ADD = (
    "mutation($cid: ID!, $ids: [ID!]!) { addConversationMembers(conversationId: $cid, userIds: $ids) {"
    + GROUP_FIELDS
    + "} }"
)
REMOVE = (
    "mutation($cid: ID!, $id: ID!) { removeConversationMember(conversationId: $cid, userId: $id) {"
    + GROUP_FIELDS
    + "} }"
)
LEAVE = "mutation($cid: ID!) { leaveConversation(conversationId: $cid) }"
RENAME = (
    "mutation($cid: ID!, $title: String) { renameConversation(conversationId: $cid, title: $title) {"
    + GROUP_FIELDS
    + "} }"
)
GROUP = "query($id: ID!) { node(id: $id) { ... on Conversation {" + GROUP_FIELDS + "} } }"


async def folders(api: Api, user: TestUser) -> dict[str, Any]:
    """The user's INBOX and REQUESTS ids, and both badge counts."""
    inbox = await api.gql(FOLDER, {"folder": "INBOX"}, token=user.token)
    requests = await api.gql(FOLDER, {"folder": "REQUESTS"}, token=user.token)
    return {
        "inbox": [e["node"]["id"] for e in inbox["conversations"]["edges"]],
        "requests": [e["node"]["id"] for e in requests["conversations"]["edges"]],
        "unread": inbox["unreadConversationCount"],
        "request_count": inbox["messageRequestCount"],
    }
