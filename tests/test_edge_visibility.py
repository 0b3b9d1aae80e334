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

from typing import Any

import pytest
from graphql import GraphQLObjectType, GraphQLSchema, get_named_type, graphql

from core.context import RequestContext, Viewer
from core.ids import to_global_id
from schema import build_schema
from schema.edges import Edge
from tests.edge_world import PARENTS, World, build_world
from tests.harness import Api
from tests.story_helpers import add_edges, db_id

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
