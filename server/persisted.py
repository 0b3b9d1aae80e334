"""Which document an operation runs: its text, a trusted document named by `documentId`, or an
automatic persisted query (Apollo's APQ: `extensions.persistedQuery.sha256Hash`, the text sent
once and remembered, in Redis when configured, in process otherwise, bounded either way).

What is remembered is the text a client registered once it validated, normalised (comments and
ignored characters stripped, so padding costs nothing), at most PERSISTED_QUERIES_MAX_BYTES,
and at most PERSISTED_QUERIES_REGISTRATIONS_PER_MINUTE new texts per client address. In process
the texts share a byte budget (PERSISTED_QUERIES_CACHE_BYTES). A store that cannot answer (Redis
down) is a miss on read, so Apollo's link sends the text again, and a skipped write: a request
never fails because its text could not be remembered, least of all after its mutation committed.

With TRUSTED_DOCUMENTS=required only documents of the manifest run, except, outside production,
what GraphiQL sends from this server's own page (a same-origin request)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any, Protocol

from graphql import GraphQLError, GraphQLSchema, parse, validate
from graphql.utilities import strip_ignored_characters
from redis.exceptions import RedisError

from core.context import RequestContext
from core.rate_limiter import Reservation
from core.redis_client import RedisClient
from core.text_cache import TextLRU
from server.body import OperationRequest, RequestError
from server.trusted import TrustedDocuments, sha256

log = logging.getLogger("ephemera.persisted")

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
DOCUMENT_REQUIRED = "PERSISTED_DOCUMENT_REQUIRED"
_HASH = re.compile(r"^[0-9a-f]{64}$")


class QueryStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, text: str) -> None: ...


class MemoryQueryStore:
    """At most `maxsize` texts and `max_bytes` bytes of them, least recently used out first."""

    def __init__(self, maxsize: int, max_bytes: int) -> None:
        self._texts: TextLRU[str, str] = TextLRU(maxsize, max_bytes, max_bytes)

    @property
    def bytes(self) -> int:
        return self._texts.bytes

    async def get(self, key: str) -> str | None:
        return self._texts.get(key)

    async def put(self, key: str, text: str) -> None:
        self._texts.put(key, text, len(text.encode()))


class RedisQueryStore:
    """Shared by every process; entries expire unused after `ttl` seconds. While Redis cannot
    answer, every hash is unknown and nothing is stored."""

    def __init__(self, redis: RedisClient, ttl: int) -> None:
        self.redis = redis
        self.ttl = ttl

    async def get(self, key: str) -> str | None:
        try:
            value = await self.redis.getex(f"apq:{key}", ex=self.ttl)
        except RedisError as exc:
            log.warning("persisted queries unavailable (%s); answering PERSISTED_QUERY_NOT_FOUND", exc)
            return None
        return value.decode() if isinstance(value, bytes) else value

    async def put(self, key: str, text: str) -> None:
        try:
            await self.redis.set(f"apq:{key}", text, ex=self.ttl)
        except RedisError as exc:
            log.warning("persisted queries unavailable (%s); text not remembered", exc)


@dataclass(frozen=True)
class Registration:
    """What a registered text must be: at most `max_bytes` once normalised, and at most `per_minute`
    new ones per client address."""

    max_bytes: int = 64 * 1024
    per_minute: int = 60


@dataclass(frozen=True)
class Resolved:
    operation: OperationRequest
    remember: str | None = None  # the APQ hash to store the text under once it validated


def _refused(code: str, message: str) -> RequestError:
    # Apollo's PersistedQueryLink reads the code; the message is the one Apollo Server sends.
    return RequestError(400, message, code)


def _apq_hash(extensions: dict[str, Any] | None) -> str | None:
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if (
        not isinstance(persisted, dict)
        or persisted.get("version") != 1
        or not isinstance(persisted.get("sha256Hash"), str)
        or not _HASH.fullmatch(persisted["sha256Hash"])
    ):
        raise RequestError(400, "`extensions.persistedQuery` needs version 1 and a sha256Hash in hex.")
    hash_: str = persisted["sha256Hash"]
    return hash_


class Documents:
    def __init__(
        self,
        *,
        apq: bool,
        memory: MemoryQueryStore,
        ttl: int,
        trusted: TrustedDocuments | None,
        required: bool,
        registration: Registration | None = None,
    ) -> None:
        self.apq = apq
        self.memory = memory
        self.ttl = ttl
        self.trusted = trusted
        self.required = required
        self.registration = registration or Registration()

    def store(self, redis: RedisClient | None) -> QueryStore:
        return RedisQueryStore(redis, self.ttl) if redis is not None else self.memory

    async def resolve(self, operation: OperationRequest, redis: RedisClient | None, exempt: bool) -> Resolved:
        """The operation with the text it runs; RequestError with a code when it may not run."""
        hash_ = _apq_hash(operation.extensions)
        remember = None
        text = operation.query
        if operation.document_id is not None:
            text = self.trusted.text_of(operation.document_id) if self.trusted else None
            if text is None:
                raise _refused(DOCUMENT_NOT_FOUND, "No trusted document has this documentId.")
        elif hash_ is not None:
            if not self.apq:
                raise _refused(NOT_SUPPORTED, "PersistedQueryNotSupported")
            if text is None:
                text = await self.store(redis).get(hash_)
                if text is None and self.trusted is not None:
                    text = self.trusted.text_of(hash_)
                if text is None:
                    raise _refused(NOT_FOUND, "PersistedQueryNotFound")
            elif sha256(text) != hash_:
                raise RequestError(400, "provided sha does not match query")
            else:
                remember = hash_
        trusted = self.trusted is not None and text is not None and self.trusted.allows(text)
        if self.required and text is not None and not exempt and not trusted:
            raise _refused(DOCUMENT_REQUIRED, "Only trusted documents may run on this server.")
        return Resolved(replace(operation, query=text), remember)

    async def remember(self, hash_: str, text: str, schema: GraphQLSchema, ctx: RequestContext) -> bool:
        """Keep the text under its hash if it is valid, small enough once normalised and within the
        client's registrations; True when kept. Never raises: a text not kept is sent again."""
        try:
            normalised = strip_ignored_characters(text)
        except GraphQLError:
            return False
        if len(normalised.encode()) > self.registration.max_bytes:
            log.info("persisted query %s not remembered: over %d bytes", hash_, self.registration.max_bytes)
            return False
        if validate(schema, parse(normalised)):
            return False
        limiter = ctx.services.limiter
        reserved = await limiter.reserve(f"apq:addr:{ctx.client_addr}", self.registration.per_minute, 60)
        if not isinstance(reserved, Reservation):
            log.info("persisted query %s not remembered: %s registers too many", hash_, ctx.client_addr)
            return False
        await self.store(ctx.services.redis).put(hash_, normalised)
        return True
