"""Running a subscription over a WebSocket without keeping strawberry's per-operation machinery for
the life of the stream.

strawberry's `Schema.stream` runs a subscription inside its extensions' hooks: each of the
schema's extensions (limits, metrics, error policy...) is an object per operation, with a context
manager per hook, and all of them stay suspended around the stream for as long as it lives: a few
hundred objects and ~20 KiB per idle subscription, walked by every full collection.

Here the operation goes through the same extensions and the same checks, in the same order, but
only up to the start of the stream: parsing (cached per text), the operation name and token
limits, validation (skipped for a text already validated), depth, aliases, cost and the text
checks, then graphql-core's `subscribe` creates the source stream. The hooks then exit (the
operation is counted and traced as it starts) and the extension objects are dropped; what stays
is graphql-core's stream and one strawberry `ExecutionContext` for formatting errors. Each result
is formatted by the schema's error policy, as before, and sent with the extension results the
start produced (the cost). A refusal is answered exactly as strawberry answers it.
"""

from __future__ import annotations

from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from strawberry.exceptions import MissingQueryError
from strawberry.schema._graphql_core import execution_context_class_kwargs, subscribe
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.schema.schema import _coerce_error, _coerce_pre_execution_error
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation
from strawberry.subscriptions.protocols.graphql_transport_ws.types import NextMessage, NextMessagePayload
from strawberry.types.execution import ExecutionContext, PreExecutionError
from strawberry.types.graphql import OperationType as StrawberryOperationType
from strawberry.utils.aio import aclosing
from strawberry.utils.await_maybe import await_maybe

from core.text_cache import TextLRU

KINDS_CACHED = 512
MAX_TEXT_BYTES = 64 * 1024
_kinds: TextLRU[tuple[str, str | None], bool] = TextLRU(KINDS_CACHED, 4 * 1024 * 1024, MAX_TEXT_BYTES)


def is_subscription(query: str, operation_name: str | None) -> bool:
    """Whether the text's operation is a subscription; False for anything that does not parse or is
    too long to remember (strawberry's whole pipeline then runs it, and reports what is wrong)."""
    if len(query) > MAX_TEXT_BYTES:
        return False
    key = (query, operation_name)
    known = _kinds.get(key)
    if known is not None:
        return known
    try:
        document = parse(query, no_location=True)
    except Exception:
        return False
    operations = [node for node in document.definitions if isinstance(node, OperationDefinitionNode)]
    chosen = [
        node
        for node in operations
        if operation_name is None or (node.name is not None and node.name.value == operation_name)
    ]
    kind = len(chosen) == 1 and chosen[0].operation is OperationType.SUBSCRIPTION
    _kinds.put(key, kind, len(query.encode(errors="replace")))
    return kind


async def run_subscription(handler: Any, operation: Operation[Any, Any]) -> None:
    """The operation task of a subscription: started through the extensions, streamed without."""
    schema = handler.schema
    ec: ExecutionContext = schema._create_execution_context(
        query=operation.query,
        allowed_operation_types=(StrawberryOperationType.SUBSCRIPTION,),
        variable_values=operation.variables,
        context_value=handler.context,
        root_value=handler.root_value,
        operation_name=operation.operation_name,
    )
    source = await _start(handler, operation, schema, ec)
    if source is None:
        return
    try:
        async with aclosing(source):
            async for result in source:
                await _send(operation, schema, ec, result)
    except Exception as exc:  # graphql-core does not handle what the stream raises
        await _send(operation, schema, ec, GraphQLExecutionResult(None, [_coerce_error(exc)]))
    await operation.send_operation_message({"id": operation.id, "type": "complete"})


async def _start(handler: Any, operation: Operation[Any, Any], schema: Any, ec: ExecutionContext) -> Any:
    """Checks and starts the stream inside the extensions' hooks; None once answered otherwise."""
    extensions = schema.get_extensions()
    for extension in extensions:
        extension.execution_context = ec
    runner = schema.create_extensions_runner(ec, extensions)
    middleware = schema._get_middleware_manager(extensions)
    async with runner.operation():
        try:
            initial = await schema._prepare_operation_async(context=ec, extensions_runner=runner)
        except (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError) as error:
            initial = PreExecutionError(data=None, errors=[_coerce_pre_execution_error(error)])
        if initial is not None:
            initial.extensions = await runner.get_extensions_results(ec)
            result = await schema._handle_execution_result(ec, initial, runner)
            async with runner.on_stream_result(result):
                await handler._handle_pre_execution_error(operation, result)
            return None
        assert ec.graphql_document is not None
        try:
            async with runner.executing():
                source = await await_maybe(
                    subscribe(
                        schema._schema,
                        ec.graphql_document,
                        root_value=ec.root_value,
                        variable_values=ec.variables,
                        operation_name=ec.operation_name,
                        context_value=ec.context,
                        middleware=middleware if middleware.middlewares else None,
                        **execution_context_class_kwargs(schema.execution_context_class),
                    )
                )
        except Exception as exc:  # raised by an `on_execute` hook (a limit)
            result = await schema._handle_execution_result(
                ec, GraphQLExecutionResult(None, [_coerce_error(exc)]), runner
            )
            async with runner.on_stream_result(result):
                await operation.send_next(result)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
            return None
        if isinstance(source, GraphQLExecutionResult):
            result = await schema._handle_execution_result(
                ec, PreExecutionError(data=None, errors=source.errors), runner
            )
            async with runner.on_stream_result(result):
                await handler._handle_pre_execution_error(operation, result)
            return None
        ec.extensions_results = await runner.get_extensions_results(ec)
    return source


async def _send(
    operation: Operation[Any, Any], schema: Any, ec: ExecutionContext, result: GraphQLExecutionResult
) -> None:
    payload: NextMessagePayload = {"data": result.data}
    if result.errors:
        errors: list[GraphQLError] = list(result.errors)
        schema.process_errors(errors, ec)
        payload["errors"] = [error.formatted for error in errors]
    if ec.extensions_results:
        payload["extensions"] = ec.extensions_results
    message: NextMessage = {"id": operation.id, "type": "next", "payload": payload}
    await operation.send_operation_message(message)
