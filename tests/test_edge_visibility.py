"""Every edge from one object to another passes the visibility rule for the viewer at hand.

The walk introspects the served schema: each object-typed field of every object type (those of the
Node types, of pages, of mutation answers and of subscription events; the root types aside) is either
an edge (listed in EDGES with the relations that must hide its target, and carrying schema/edges.py's
`Edge`) or a part of its parent (PARTS, or a connection's plumbing). A new field that is neither fails
`test_every_object_field_is_an_edge_or_a_part` until someone says which it is.

Then, for each relation that may hide something (a block either way, an unfollowed private account,
an expired story, a conversation left), every edge is resolved by the served schema's own resolvers
from a parent that points at the target: first while the viewer may see it (the target is there, so
the check cannot pass by accident), then after the relation changed (null, left out, or NOT_FOUND).
The parents are built directly, as a resolver bug or a replay could hand them out, so the edge
itself is what is tested, not the path that usually leads to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLObjectType, GraphQLSchema, get_named_type, graphql
from sqlalchemy import select

from core.context import RequestContext, Viewer
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
from resolvers.activity_inbox import ActivityItem
from resolvers.highlights import VisibleHighlight
from schema import build_schema
from schema.activity import ActivityType
from schema.comments import CommentType
from schema.conversations.events import (
    ConversationReadType,
    MembersChangedType,
    MessageAddedType,
    MessageChangedType,
    TypingChangedType,
)
from schema.conversations.types import ConversationType, MessageReactionType, MessageType
from schema.edges import Edge
from schema.hashtags import HashtagType
from schema.highlights import HighlightType
from schema.posts import PostType
from schema.stories import StoryReacted, StoryTrayItem, StoryType, StoryViewer
from schema.story_activity import StoryReplied
from schema.users import UserType
from tests.engagement import GO_PRIVATE, comment
from tests.harness import Api, TestUser
from tests.posting import create_post
from tests.story_helpers import CREATE_HIGHLIGHT, add_edges, create_story, db_id

BLOCKED_BY = "blocked by the owner"
BLOCKING = "blocking the owner"
PRIVATE = "unfollowed private owner"
EXPIRED = "expired story"
LEFT = "no longer a member"
CONTENT = {BLOCKED_BY, BLOCKING, PRIVATE}
STORY = CONTENT | {EXPIRED}
BLOCKS = {BLOCKED_BY, BLOCKING}
MESSAGE = BLOCKS | {LEFT}

# "Type.field" -> (the target in the world, the relations that must hide it from the viewer). A user
# is hidden only from someone they blocked (the blocker still finds them), except where the edge is
# what that user did (a view, an activity): that crosses no block in either direction.
EDGES: dict[str, tuple[str, set[str]]] = {
    "Comment.post": ("post", CONTENT),
    "Comment.author": ("owner", {BLOCKED_BY}),
    "Post.author": ("owner", {BLOCKED_BY}),
    "Post.comments": ("comment", CONTENT),
    "User.stories": ("story", STORY),
    "User.highlights": ("highlight", CONTENT),
    "User.posts": ("post", CONTENT),
    "User.followers": ("owner", {BLOCKED_BY}),
    "User.following": ("owner", {BLOCKED_BY}),
    "Story.author": ("owner", {BLOCKED_BY}),
    "Story.viewers": ("owner", BLOCKS),
    "StoryViewer.user": ("owner", BLOCKS),
    "StoryTrayItem.owner": ("owner", {BLOCKED_BY}),
    "StoryTrayItem.stories": ("story", STORY),
    "Highlight.owner": ("owner", {BLOCKED_BY}),
    "Highlight.stories": ("kept", CONTENT),
    "Activity.actors": ("owner", BLOCKS),
    "Activity.post": ("post", CONTENT),
    "Activity.comment": ("comment", CONTENT),
    "Activity.story": ("story", STORY),
    "Activity.message": ("message", MESSAGE),
    "Message.conversation": ("conversation", {LEFT}),
    "Message.sender": ("owner", {BLOCKED_BY}),
    "Message.replyToStory": ("story", STORY),
    "Conversation.members": ("owner", {BLOCKED_BY}),
    "Conversation.lastMessage": ("message", MESSAGE),
    "Conversation.messages": ("message", MESSAGE),
    "StoryReacted.story": ("story", STORY),
    "StoryReacted.user": ("owner", BLOCKS),
    "StoryReplied.story": ("story", STORY),
    "StoryReplied.message": ("message", MESSAGE),
    "MessageAdded.message": ("message", MESSAGE),
    "ConversationRead.conversation": ("conversation", {LEFT}),
    "ConversationRead.reader": ("owner", BLOCKS),
    "TypingChanged.conversation": ("conversation", {LEFT}),
    "TypingChanged.user": ("owner", BLOCKS),
    "Conversation.admins": ("owner", {BLOCKED_BY}),
    "Hashtag.posts": ("post", CONTENT),
    "Post.mentions": ("owner", BLOCKS),
    "Message.sharedPost": ("post", CONTENT),
    "Message.sharedStory": ("story", STORY),
    "Message.reactions": ("owner", BLOCKS),
    "MessageReaction.user": ("owner", BLOCKS),
    "MessageChanged.message": ("message", MESSAGE),
    "MembersChanged.conversation": ("conversation", {LEFT}),
    "MembersChanged.added": ("owner", {BLOCKED_BY}),
    "MembersChanged.removed": ("owner", {BLOCKED_BY}),
}
MEDIA = "its parent's media: shown with it (node(id:) gives a media to its owner alone)"
PARTS = {
    "User.avatar": MEDIA,
    "Post.media": MEDIA,
    "Story.media": MEDIA,
    "Message.media": MEDIA,
    "Highlight.cover": MEDIA + "; the cover is one of the highlight's visible stories",
    "Media.variants": "renditions of the media",
    "Media.poster": "a video's poster frame",
    "MediaPoster.variants": "renditions of the poster",
    "AuthPayload.user": "the viewer who just signed in",
    "CreateUploadPayload.media": "the viewer's own new upload",
    "CreateUploadPayload.upload": "the form that uploads it",
    "UploadTarget.fields": "the form's fields",
}

TYPE_REF = "kind name ofType { kind name ofType { kind name ofType { kind name } } }"
INTROSPECTION = f"""
{{ __schema {{ types {{ name kind fields {{ name type {{ {TYPE_REF} }} }} }} }} }}
"""
OBJECT_KINDS = ("OBJECT", "INTERFACE", "UNION")
ROOTS = ("Query", "Mutation", "Subscription")


def _named(ref: dict[str, Any]) -> dict[str, Any]:
    while ref.get("ofType"):
        ref = ref["ofType"]
    return ref


def _plumbing(type_name: str, field: str) -> bool:
    """A connection's edges and pageInfo, an edge's node: the connection field is the edge."""
    return (type_name.endswith("Connection") and field in ("edges", "pageInfo")) or (
        type_name.endswith("Edge") and field == "node"
    )


async def object_fields(api: Api) -> set[str]:
    """Every object-typed field of every object type but the roots, as the server introspects itself."""
    types = (await api.gql(INTROSPECTION))["__schema"]["types"]
    found: set[str] = set()
    for kind in types:
        if kind["kind"] != "OBJECT" or kind["name"] in ROOTS or kind["name"].startswith("__"):
            continue
        for field in kind["fields"]:
            if _named(field["type"])["kind"] in OBJECT_KINDS and not _plumbing(kind["name"], field["name"]):
                found.add(f"{kind['name']}.{field['name']}")
    return found


def _served_field(served: GraphQLSchema, edge: str) -> Any:
    type_name, field = edge.split(".")
    return served.get_type(type_name).fields[field]  # type: ignore[union-attr]


async def test_every_object_field_is_an_edge_or_a_part(api: Api) -> None:
    fields = await object_fields(api)
    unclassified = fields - EDGES.keys() - PARTS.keys()
    assert not unclassified, f"say whether these are edges (EDGES) or parts (PARTS): {sorted(unclassified)}"
    assert not (EDGES.keys() | PARTS.keys()) - fields, "classified fields the schema no longer has"
    served = build_schema()._schema
    for edge in EDGES:
        definition = _served_field(served, edge).extensions["strawberry-definition"]
        assert any(isinstance(ext, Edge) for ext in definition.extensions), f"{edge} lacks Edge()"
    for part in PARTS:
        definition = _served_field(served, part).extensions["strawberry-definition"]
        assert not any(isinstance(ext, Edge) for ext in definition.extensions), part


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


def _object(served: GraphQLSchema, name: str) -> GraphQLObjectType:
    kind = served.get_type(name)
    assert isinstance(kind, GraphQLObjectType), name
    return kind


def _target(served: GraphQLSchema, type_name: str, field: str) -> GraphQLObjectType:
    return _object(served, get_named_type(_object(served, type_name).fields[field].type).name)


def _selection(served: GraphQLSchema, kind: GraphQLObjectType) -> str:
    """What identifies a target: its id, a story viewer's user, a page's nodes."""
    if "edges" in kind.fields:
        node = _target(served, _target(served, kind.name, "edges").name, "node")
        return f"edges {{ node {{ {_selection(served, node)} }} }}"
    return "id" if "id" in kind.fields else "user { id }"


def _ids(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {v for k, v in value.items() if k == "id"} | {i for v in value.values() for i in _ids(v)}
    if isinstance(value, list):
        return {i for v in value for i in _ids(v)}
    return set()


async def resolve_edge(
    api: Api, served: GraphQLSchema, world: World, edge: str
) -> tuple[set[str], list[str]]:
    """The ids the edge shows the viewer, and the codes of any errors, through the served resolvers."""
    type_name, field = edge.split(".")
    parent = (PARENTS.get(edge) or PARENTS[type_name])(world)
    selection = _selection(served, _target(served, type_name, field))
    rooted = GraphQLSchema(query=_object(served, type_name))
    ctx = RequestContext(api.services, Viewer(db_id(world.viewer.id), 0))
    result = await graphql(rooted, f"{{ {field} {{ {selection} }} }}", root_value=parent, context_value=ctx)
    codes = [getattr(error.original_error, "code", repr(error)) for error in result.errors or []]
    return _ids(result.data), codes


async def restrict(api: Api, world: World, relation: str) -> None:
    o, v = db_id(world.owner.id), db_id(world.viewer.id)
    if relation == BLOCKED_BY:
        await add_edges(api, [("block", o, v)])
    elif relation == BLOCKING:
        await add_edges(api, [("block", v, o)])
    elif relation == PRIVATE:
        await api.gql(
            "mutation($u: ID!) { unfollow(userId: $u) { id } }", {"u": world.owner.id}, world.viewer.token
        )
    elif relation == EXPIRED:
        api.clock.advance(api.services.settings.story_ttl_seconds + 1)
    else:
        await api.gql(
            "mutation($c: ID!) { leaveConversation(conversationId: $c) }",
            {"c": to_global_id("Conversation", world.ids["conversation"])},
            world.viewer.token,
        )


@pytest.mark.parametrize("relation", [BLOCKED_BY, BLOCKING, PRIVATE, EXPIRED, LEFT])
async def test_no_edge_shows_what_the_viewer_may_not_see(api: Api, relation: str) -> None:
    world = await build_world(api, private=relation == PRIVATE)
    served = build_schema(api.services.settings)._schema
    edges = [edge for edge, (_, hidden) in EDGES.items() if relation in hidden]
    assert edges
    for edge in edges:
        shown, codes = await resolve_edge(api, served, world, edge)
        assert world.target(EDGES[edge][0]) in shown and not codes, f"{edge} before: {shown} {codes}"
    await restrict(api, world, relation)
    for edge in edges:
        shown, codes = await resolve_edge(api, served, world, edge)
        assert world.target(EDGES[edge][0]) not in shown, f"{edge} shows it after: {relation}"
        assert set(codes) <= {"NOT_FOUND"}, (edge, codes)
