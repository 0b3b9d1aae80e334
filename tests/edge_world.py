"""The world the edge walk (tests/test_edge_visibility.py) resolves edges in: an owner's content, all
visible to a viewer who follows them, and the parent objects whose edges lead to it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core.ids import to_global_id
from models import (
    Activity,
    Comment,
    Conversation,
    Hashtag,
    Highlight,
    Message,
    MessageReaction,
    Post,
    Story,
    User,
)
from resolvers.activity.inbox import ActivityItem
from resolvers.stories.highlights import VisibleHighlight
from schema.accounts.users import UserType
from schema.activity.activity import ActivityType
from schema.conversations.events import (
    ConversationReadType,
    MembersChangedType,
    MessageAddedType,
    MessageChangedType,
    TypingChangedType,
)
from schema.conversations.types import ConversationType, MessageReactionType, MessageType
from schema.discovery.hashtags import HashtagType
from schema.posts.comments import CommentType
from schema.posts.posts import PostType
from schema.stories.highlights import HighlightType
from schema.stories.live import StoryReplied
from schema.stories.stories import StoryReacted, StoryTrayItem, StoryType, StoryViewer
from tests.engagement import GO_PRIVATE, comment
from tests.harness import Api, TestUser
from tests.posting import create_post
from tests.story_helpers import CREATE_HIGHLIGHT, add_edges, create_story, db_id


@dataclass
class World:
    owner: TestUser
    viewer: TestUser
    friend: TestUser
    ids: dict[str, int]  # post, comment, story (live, in no highlight), kept (in a highlight), ...
    rows: dict[str, Any]

    def target(self, name: str) -> str:
        kinds = {
            "owner": "User",
            "post": "Post",
            "comment": "Comment",
            "story": "Story",
            "kept": "Story",
            "highlight": "Highlight",
            "message": "Message",
            "conversation": "Conversation",
        }
        object_id = db_id(self.owner.id) if name == "owner" else self.ids[name]
        return to_global_id(kinds[name], object_id)


async def build_world(api: Api, private: bool) -> World:
    """The owner's post, comment, stories and highlight, a view of the viewer's story, a group of the
    three with the owner's message, and the viewer's reply to the owner's story: all visible to the
    viewer, who follows the owner."""
    owner, viewer, friend = await api.sign_up(), await api.sign_up(), await api.sign_up()
    if private:
        await api.gql(GO_PRIVATE, token=owner.token)
    o, v, f = db_id(owner.id), db_id(viewer.id), db_id(friend.id)
    await add_edges(api, [("follow", v, o), ("follow", f, o), ("follow", o, f)])
    post = await create_post(api, owner, "the owner's caption #edgecase")
    viewer_post = await create_post(api, viewer, f"with @{owner.username}")
    owner_comment = await comment(api, owner, post, "the owner's comment")
    viewer_comment = await comment(api, viewer, post, "the viewer's comment")
    story = await create_story(api, owner, "FOLLOWERS")
    kept = await create_story(api, owner, "FOLLOWERS")
    highlight = await api.gql(CREATE_HIGHLIGHT, {"input": {"title": "kept", "storyIds": [kept]}}, owner.token)
    viewer_story = await create_story(api, viewer, "PUBLIC")
    await api.gql(
        'mutation($s: ID!) { reactToStory(storyId: $s, emoji: "🔥") { id } }',
        {"s": viewer_story},
        owner.token,
    )
    reply = await api.gql(
        'mutation($s: ID!) { replyToStory(storyId: $s, body: "nice", clientId: "r1") { id } }',
        {"s": story},
        viewer.token,
    )
    group = await api.gql(
        'mutation($ids: [ID!]!) { startConversation(input: {memberIds: $ids, title: "g"}) { id } }',
        {"ids": [viewer.id, friend.id]},
        owner.token,
    )
    conversation = group["startConversation"]["id"]
    shares = {}
    for name, shared in (("shared_post", {"sharedPostId": post}), ("shared_story", {"sharedStoryId": story})):
        sent = await api.gql(
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
            {"input": {"conversationId": conversation, "clientId": name, **shared}},
            viewer.token,
        )
        shares[name] = db_id(sent["sendMessage"]["id"])
    message = await api.gql(
        'mutation($c: ID!) { sendMessage(input: {conversationId: $c, body: "hi", clientId: "m1"}) { id } }',
        {"c": conversation},
        owner.token,
    )
    await api.gql(
        'mutation($m: ID!) { reactToMessage(messageId: $m, emoji: "👍") { id } }',
        {"m": message["sendMessage"]["id"]},
        friend.token,
    )
    await api.gql(
        'mutation($m: ID!) { reactToMessage(messageId: $m, emoji: "🔥") { id } }',
        {"m": message["sendMessage"]["id"]},
        owner.token,
    )
    ids = {
        "post": db_id(post),
        "comment": db_id(owner_comment),
        "viewer_comment": db_id(viewer_comment),
        "story": db_id(story),
        "kept": db_id(kept),
        "highlight": db_id(highlight["createHighlight"]["id"]),
        "viewer_story": db_id(viewer_story),
        "reply": db_id(reply["replyToStory"]["id"]),
        "conversation": db_id(conversation),
        "message": db_id(message["sendMessage"]["id"]),
        "viewer_post": db_id(viewer_post),
        **shares,
    }
    models = {
        "post": Post,
        "comment": Comment,
        "viewer_comment": Comment,
        "story": Story,
        "kept": Story,
        "highlight": Highlight,
        "viewer_story": Story,
        "reply": Message,
        "conversation": Conversation,
        "message": Message,
        "viewer_post": Post,
        "shared_post": Message,
        "shared_story": Message,
    }
    rows: dict[str, Any] = {}
    async with api.services.db.read() as session:
        for name, model in models.items():
            rows[name] = await session.get(model, ids[name])
        for name, user_id in (("owner", o), ("friend", f)):
            rows[name] = await session.get(User, user_id)
        rows["hashtag"] = await session.scalar(select(Hashtag).where(Hashtag.name == "edgecase"))
    return World(owner, viewer, friend, ids, rows)


def _activity(world: World) -> ActivityType:
    r = world.rows
    row = Activity(id=1, user_id=db_id(world.viewer.id), kind="POST_COMMENTED", seq=1)
    item = ActivityItem(row, [r["owner"]], 1, r["post"], r["comment"], r["story"], r["message"], False)
    return ActivityType.of(item)


# "Type" -> the parent object whose edges lead to the world's targets.
PARENTS: dict[str, Callable[[World], Any]] = {
    "Comment.post": lambda w: CommentType.of(w.rows["viewer_comment"]),
    "Comment": lambda w: CommentType.of(w.rows["comment"]),
    "Post": lambda w: PostType.of(w.rows["post"]),
    "User.followers": lambda w: UserType.of(w.rows["friend"]),
    "User.following": lambda w: UserType.of(w.rows["friend"]),
    "User": lambda w: UserType.of(w.rows["owner"]),
    "Story.viewers": lambda w: StoryType.of(w.rows["viewer_story"]),
    "Story": lambda w: StoryType.of(w.rows["story"]),
    "StoryViewer": lambda w: StoryViewer(
        user=UserType.of(w.rows["owner"]), viewed_at=w.rows["story"].created_at, reaction="🔥"
    ),
    "StoryTrayItem": lambda w: StoryTrayItem(
        id="tray",  # type: ignore[arg-type]
        owner=UserType.of(w.rows["owner"]),
        stories=[StoryType.of(w.rows["story"])],
        has_unseen=True,
        latest_story_at=w.rows["story"].created_at,
    ),
    "Highlight": lambda w: HighlightType.of(VisibleHighlight(w.rows["highlight"], [w.rows["kept"]])),
    "Activity": _activity,
    "Message.replyToStory": lambda w: MessageType.of(w.rows["reply"]),
    "Message": lambda w: MessageType.of(w.rows["message"]),
    "Conversation": lambda w: ConversationType.of(w.rows["conversation"]),
    "StoryReacted": lambda w: StoryReacted(
        story=StoryType.of(w.rows["story"]),
        user=UserType.of(w.rows["owner"]),
        emoji="🔥",
        reacted_at=w.rows["story"].created_at,
    ),
    "StoryReplied": lambda w: StoryReplied(
        story=StoryType.of(w.rows["story"]), message=MessageType.of(w.rows["message"])
    ),
    "MessageAdded": lambda w: MessageAddedType(message=MessageType.of(w.rows["message"])),
    "ConversationRead": lambda w: ConversationReadType(
        conversation=ConversationType.of(w.rows["conversation"]), reader_id=w.rows["owner"].id, up_to_seq=1
    ),
    "Hashtag": lambda w: HashtagType.of(w.rows["hashtag"]),
    "Post.mentions": lambda w: PostType.of(w.rows["viewer_post"]),
    "Message.sharedPost": lambda w: MessageType.of(w.rows["shared_post"]),
    "Message.sharedStory": lambda w: MessageType.of(w.rows["shared_story"]),
    "MessageReaction": lambda w: MessageReactionType(
        row=MessageReaction(message_id=w.ids["message"], user_id=w.rows["owner"].id, emoji="🔥")
    ),
    "MessageChanged": lambda w: MessageChangedType(message=MessageType.of(w.rows["message"])),
    "MembersChanged": lambda w: MembersChangedType(
        conversation=ConversationType.of(w.rows["conversation"]),
        added_ids=[w.rows["owner"].id],
        removed_ids=[w.rows["owner"].id],
    ),
    "TypingChanged": lambda w: TypingChangedType(
        conversation=ConversationType.of(w.rows["conversation"]), user_id=w.rows["owner"].id, is_typing=True
    ),
}
