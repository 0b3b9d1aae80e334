"""The GraphQL schema. `strawberry export-schema schema` prints its SDL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from opentelemetry.trace import Tracer
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import Info

from core.context import RequestContext
from schema import activity, comments, conversations, highlights, media, posts, stories, users
from schema.accounts import AccountMutation, AccountQuery
from schema.activity import ActivityMutation, ActivityQuery, ActivitySubscription, ActivityType
from schema.comments import CommentMutation, CommentType
from schema.conversations import (
    ConversationMutation,
    ConversationQuery,
    ConversationSubscription,
    ConversationType,
    MessageType,
)
from schema.document_cache import skip_known_valid
from schema.documents import CachedParsing, RequireOperationName, StrictParsing
from schema.errors import ErrorPolicy, format_in_place
from schema.graph import GraphMutation, GraphQuery
from schema.highlights import HighlightMutation
from schema.media import MediaMutation, MediaType
from schema.metrics import OperationMetrics
from schema.mutation_rate_limit import MutationRateLimit
from schema.node import Node, NodeResolver, resolve_node
from schema.posts import PostMutation, PostQuery, PostType
from schema.query_limits import CostLimiter, RefuseUnstorableText
from schema.stories import StoryMutation, StoryQuery, StoryReacted, StoryType
from schema.story_activity import StoryActivitySubscription, StoryReplied, StoryReplyMutation
from schema.story_archive import StoryArchiveQuery
from schema.tracing import OperationTracing
from schema.users import UserType
from settings import Settings

# Every type `node(id:)` can return, by the type name inside its global id.
NODE_TYPES: dict[str, NodeResolver] = {
    "User": users.user_node,
    "Post": posts.post_node,
    "Comment": comments.comment_node,
    "Media": media.media_node,
    "Story": stories.story_node,
    "StoryTrayItem": stories.tray_item_node,
    "Highlight": highlights.highlight_node,
    "Conversation": conversations.conversation_node,
    "Message": conversations.message_node,
    "Activity": activity.activity_node,
}


@strawberry.type
class NodeQuery:
    @strawberry.field
    async def node(self, info: Info[RequestContext, None], id: strawberry.ID) -> Node | None:
        return await resolve_node(info.context, str(id), NODE_TYPES)


Query = merge_types(
    "Query",
    (
        NodeQuery,
        AccountQuery,
        GraphQuery,
        PostQuery,
        StoryQuery,
        StoryArchiveQuery,
        ConversationQuery,
        ActivityQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        AccountMutation,
        GraphMutation,
        MediaMutation,
        PostMutation,
        CommentMutation,
        StoryMutation,
        StoryReplyMutation,
        HighlightMutation,
        ConversationMutation,
        ActivityMutation,
    ),
)
Subscription = merge_types(
    "Subscription", (ConversationSubscription, StoryActivitySubscription, ActivitySubscription)
)
TYPES = [
    UserType,
    MediaType,
    PostType,
    CommentType,
    StoryType,
    StoryReacted,
    StoryReplied,
    ConversationType,
    MessageType,
    ActivityType,
]


class EphemeraSchema(strawberry.Schema):
    hide_schema = False

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Mask and code errors where strawberry reports them, so none escapes the policy (even one
        raised by an extension); unexpected ones are logged with the request id, expected ones not."""
        format_in_place(errors, execution_context, self.hide_schema)


def build_schema(settings: Settings | None = None, tracer: Tracer | None = None) -> EphemeraSchema:
    """The schema with every limit of `settings`; extensions are factories, never shared instances.
    With a tracer (OpenTelemetry configured), each operation gets a span."""
    settings = settings or Settings()
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [OperationMetrics]
    if tracer is not None:
        extensions.append(lambda: OperationTracing(tracer))
    extensions += [
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        StrictParsing,
        # After the parse options are set: they are part of the cache key.
        lambda: CachedParsing(maxsize=256),
        RequireOperationName,
        lambda: QueryDepthLimiter(max_depth=settings.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=settings.max_aliases),
        lambda: CostLimiter(max_cost=settings.max_query_cost),
        RefuseUnstorableText,
        MutationRateLimit,
    ]
    if settings.is_production:
        extensions.append(DisableIntrospection)
    extensions.append(skip_known_valid())
    built = EphemeraSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=TYPES,
        extensions=[*extensions, lambda: ErrorPolicy(hide_schema=settings.is_production)],
        config=StrawberryConfig(
            disable_field_suggestions=settings.is_production,
            batching_config={"max_operations": settings.max_batch_operations},
        ),
    )
    built.hide_schema = settings.is_production
    return built


schema = build_schema()

__all__ = ["build_schema", "schema"]
