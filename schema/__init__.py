"""The GraphQL schema. `strawberry export-schema schema` prints its SDL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.tools import merge_types
from strawberry.types import Info

from resolvers.context import RequestContext
from schema.accounts import AccountMutation, AccountQuery
from schema.errors import ErrorPolicy
from schema.graph import GraphMutation, GraphQuery
from schema.media import MediaMutation, MediaType
from schema.node import Node, resolve_node
from schema.posts import PostMutation, PostQuery, PostType
from schema.users import UserType


@strawberry.type
class NodeQuery:
    @strawberry.field
    async def node(self, info: Info[RequestContext, None], id: strawberry.ID) -> Node | None:
        return await resolve_node(info.context, str(id))


Query = merge_types("Query", (NodeQuery, AccountQuery, GraphQuery, PostQuery))
Mutation = merge_types("Mutation", (AccountMutation, GraphMutation, MediaMutation, PostMutation))


class EphemeraSchema(strawberry.Schema):
    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        """ErrorPolicy logs what is unexpected (with the request id); expected errors are not logged."""


def build_schema(
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] | None = None,
) -> EphemeraSchema:
    return EphemeraSchema(
        query=Query,
        mutation=Mutation,
        types=[UserType, MediaType, PostType],
        extensions=[*(extensions or []), ErrorPolicy],
    )


schema = build_schema()

__all__ = ["build_schema", "schema"]
