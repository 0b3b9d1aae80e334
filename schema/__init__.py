"""The GraphQL schema. `strawberry export-schema schema` prints its SDL."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import strawberry
from opentelemetry.trace import Tracer
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from core.context import RequestContext
from schema import conversations
from schema.accounts import users
from schema.accounts.accounts import AccountMutation, AccountQuery
from schema.accounts.security import (
    AccountSecurityMutation,
    AccountSecurityQuery,
    DataExportType,
    SessionType,
    data_export_node,
    session_node,
)
from schema.accounts.users import UserType
from schema.activity import activity
from schema.activity.activity import ActivityMutation, ActivityQuery, ActivitySubscription, ActivityType
from schema.conversations import (
    ConversationMembershipMutation,
    ConversationMutation,
    ConversationQuery,
    ConversationSubscription,
    ConversationType,
    MessageType,
)
from schema.discovery.hashtags import HashtagQuery, HashtagType, hashtag_node
from schema.discovery.search import SearchQuery
from schema.extensions.document_cache import skip_known_valid
from schema.extensions.documents import RequireOperationName, StrictParsing, cached_parsing
from schema.extensions.errors import ErrorPolicy, format_in_place
from schema.extensions.metrics import OperationMetrics
from schema.extensions.mutation_rate_limit import MutationRateLimit
from schema.extensions.query_limits import CostLimiter, DepthLimiter, RefuseUnstorableText
from schema.extensions.tracing import OperationTracing
from schema.graph.graph import GraphMutation, GraphQuery
from schema.media import media
from schema.media.media import MediaMutation, MediaType
from schema.node import Node, NodeResolver, resolve_node
from schema.planning import Root, planned
from schema.posts import comments, posts
from schema.posts.comments import CommentMutation, CommentType
from schema.posts.posts import PostMutation, PostQuery, PostType
from schema.posts.saved import SavedPostMutation, SavedPostQuery
from schema.safety.safety import ReportType, SafetyMutation, SafetyQuery, report_node
from schema.stories import highlights, stories
from schema.stories.archive import StoryArchiveQuery
from schema.stories.highlights import HighlightMutation
from schema.stories.live import StoryActivitySubscription, StoryReplied, StoryReplyMutation
from schema.stories.stories import StoryMutation, StoryQuery, StoryReacted, StoryType
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
    "Session": session_node,
    "DataExport": data_export_node,
    "Hashtag": hashtag_node,
    "Report": report_node,
}


@strawberry.type
class NodeQuery:
    @strawberry.field(
        description="Any object by its global ID; null when it does not exist or the viewer may not see it.",
        metadata=planned(Root("node")),
    )
    async def node(
        self,
        info: Info[RequestContext, None],
        id: Annotated[
            strawberry.ID, strawberry.argument(description="A global ID, as an object's `id` gives it.")
        ],
    ) -> Node | None:
        return await resolve_node(info.context, str(id), NODE_TYPES)


# The root types are each domain's fields together (what strawberry's merge_types builds), declared as
# classes so that they carry a description.
@strawberry.type(
    description="Everything a client reads. `node`, `viewer` and `user` also answer signed out; the other "
    "fields need a signed-in viewer (UNAUTHENTICATED otherwise)."
)
class Query(
    NodeQuery,
    AccountQuery,
    AccountSecurityQuery,
    GraphQuery,
    PostQuery,
    StoryQuery,
    StoryArchiveQuery,
    ConversationQuery,
    ActivityQuery,
    SearchQuery,
    HashtagQuery,
    SavedPostQuery,
    SafetyQuery,
):
    pass


@strawberry.type(
    description="Every change, each all-or-nothing. All but signUp, logIn, requestPasswordReset, "
    "resetPassword and verifyEmail need a signed-in viewer "
    "(UNAUTHENTICATED otherwise); mutations are rate-limited per user and per address (RATE_LIMITED, "
    "with `retryAfter` in seconds)."
)
class Mutation(
    AccountMutation,
    AccountSecurityMutation,
    GraphMutation,
    MediaMutation,
    PostMutation,
    CommentMutation,
    StoryMutation,
    StoryReplyMutation,
    HighlightMutation,
    ConversationMutation,
    ConversationMembershipMutation,
    ActivityMutation,
    SavedPostMutation,
    SafetyMutation,
):
    pass


@strawberry.type(
    description="Live events for a signed-in viewer, over a WebSocket to /graphql (graphql-transport-ws)."
)
class Subscription(ConversationSubscription, StoryActivitySubscription, ActivitySubscription):
    pass


# Strawberry's own DateTime, described for clients: every time the server gives is UTC.
DATE_TIME = strawberry.scalar(
    name="DateTime",
    description="A point in time: ISO 8601 in UTC with its offset, e.g. 2025-05-01T12:00:00.123456+00:00 "
    "(the fraction is left out when zero).",
    serialize=datetime.isoformat,
    parse_value=datetime.fromisoformat,
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
    SessionType,
    DataExportType,
    HashtagType,
    ReportType,
]


class EphemeraSchema(strawberry.Schema):
    hide_schema = False
    # Set by the transport (execution/executor.py): wraps graphql-core's execute function.
    wrap_execute: Callable[[Callable[..., Any]], Callable[..., Any]] | None = None
    # What the schema was built with: the transport answers planned queries ahead of the
    # pipeline (server/ahead.py) with the same limits and spans.
    limits: SchemaSettings | None = None
    tracer: Tracer | None = None

    def _get_execute_function(self) -> Callable[..., Any]:
        execute = super()._get_execute_function()
        return execute if self.wrap_execute is None else self.wrap_execute(execute)

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """Mask and code errors where strawberry reports them, so none escapes the policy (even one
        raised by an extension); unexpected ones are logged with the request id, expected ones not."""
        format_in_place(errors, execution_context, self.hide_schema)


@dataclass(frozen=True)
class SchemaSettings:
    """The settings a schema is built from: everything else reaches resolvers through the context."""

    max_tokens: int
    max_query_depth: int
    max_aliases: int
    max_query_cost: int
    max_request_cost: int
    max_batch_operations: int
    is_production: bool

    @classmethod
    def of(cls, settings: Settings) -> SchemaSettings:
        return cls(
            max_tokens=settings.max_tokens,
            max_query_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_query_cost=settings.max_query_cost,
            max_request_cost=settings.request_cost_limit,
            max_batch_operations=settings.max_batch_operations,
            is_production=settings.is_production,
        )


def build_schema(settings: Settings | None = None, tracer: Tracer | None = None) -> EphemeraSchema:
    """The schema with every limit of `settings`. Without a tracer, one schema per distinct set of
    limits serves the whole process (building one costs about 70 ms: it adds up for every app a
    test suite starts); with a tracer (OpenTelemetry configured), each operation gets a span."""
    limits = SchemaSettings.of(settings or Settings())
    return _build(limits, tracer) if tracer is not None else _shared(limits)


@functools.lru_cache(maxsize=16)
def _shared(limits: SchemaSettings) -> EphemeraSchema:
    return _build(limits, None)


def _build(limits: SchemaSettings, tracer: Tracer | None) -> EphemeraSchema:
    """Extensions are factories, never shared instances."""
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [OperationMetrics]
    if tracer is not None:
        extensions.append(lambda: OperationTracing(tracer))
    extensions += [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        StrictParsing,
        # After the parse options are set: they are part of the cache key.
        cached_parsing(),
        RequireOperationName,
        lambda: DepthLimiter(max_depth=limits.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        lambda: CostLimiter(max_cost=limits.max_query_cost, max_request_cost=limits.max_request_cost),
        RefuseUnstorableText,
        MutationRateLimit,
    ]
    if limits.is_production:
        extensions.append(DisableIntrospection)
    extensions.append(skip_known_valid())
    built = EphemeraSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=TYPES,
        extensions=[*extensions, lambda: ErrorPolicy(hide_schema=limits.is_production)],
        config=StrawberryConfig(
            scalar_map={datetime: DATE_TIME},
            disable_field_suggestions=limits.is_production,
            batching_config={"max_operations": limits.max_batch_operations},
        ),
    )
    built.hide_schema = limits.is_production
    built.limits, built.tracer = limits, tracer
    return built


schema = build_schema()

__all__ = ["build_schema", "schema"]
