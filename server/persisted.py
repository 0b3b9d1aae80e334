"""Which document an operation runs: its text, a trusted document named by `documentId`, or an
automatic persisted query (Apollo's APQ: `extensions.persistedQuery.sha256Hash`, the text sent
once and remembered, in Redis when configured, in process otherwise, bounded either way).

With TRUSTED_DOCUMENTS=required only documents of the manifest run, except, outside production,
what GraphiQL sends from this server's own page (a same-origin request)."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Protocol

from core.redis_client import RedisClient
from server.body import OperationRequest, RequestError
from server.trusted import TrustedDocuments, sha256

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
DOCUMENT_REQUIRED = "PERSISTED_DOCUMENT_REQUIRED"
_HASH = re.compile(r"^[0-9a-f]{64}$")


class QueryStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, text: str) -> None: ...


class MemoryQueryStore:
    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._texts: OrderedDict[str, str] = OrderedDict()

    async def get(self, key: str) -> str | None:
        text = self._texts.get(key)
        if text is not None:
            self._texts.move_to_end(key)
        return text

    async def put(self, key: str, text: str) -> None:
        self._texts[key] = text
        self._texts.move_to_end(key)
        while len(self._texts) > self.maxsize:
            self._texts.popitem(last=False)


class RedisQueryStore:
    """Shared by every process; entries expire unused after `ttl` seconds (bounded by Redis' memory)."""

    def __init__(self, redis: RedisClient, ttl: int) -> None:
        self.redis = redis
        self.ttl = ttl

    async def get(self, key: str) -> str | None:
        value = await self.redis.getex(f"apq:{key}", ex=self.ttl)
        return value.decode() if isinstance(value, bytes) else value

    async def put(self, key: str, text: str) -> None:
        await self.redis.set(f"apq:{key}", text, ex=self.ttl)


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
    ) -> None:
        self.apq = apq
        self.memory = memory
        self.ttl = ttl
        self.trusted = trusted
        self.required = required

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

    async def remember(self, hash_: str, text: str, redis: RedisClient | None) -> None:
        await self.store(redis).put(hash_, text)
