"""The contract every object store implements, and the values it exchanges."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class StorageError(Exception):
    """An object store operation failed."""


class StorageUnavailable(StorageError):
    """The store cannot be used at all (missing bucket or directory, unreachable endpoint)."""


class ObjectNotFound(StorageError):
    """`get`, `read_prefix`, `download` or `copy` asked for a key that does not exist."""


@dataclass(frozen=True)
class UploadTarget:
    """An HTML-form-style POST: send `fields` in order, then the bytes as a last field `file`."""

    url: str
    fields: list[tuple[str, str]]
    expires_at: datetime


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str | None


@dataclass(frozen=True)
class ListedObject:
    key: str
    size: int
    modified_at: datetime


class Storage(Protocol):
    async def presign_upload(
        self, key: str, content_type: str, max_size: int, expires_in: int
    ) -> UploadTarget:
        """A POST that only accepts `key`, exactly `content_type`, and 1..max_size bytes."""
        ...

    async def head(self, key: str) -> ObjectInfo | None: ...

    async def read_prefix(self, key: str, n: int) -> bytes:
        """The first `n` bytes (fewer if the object is shorter)."""
        ...

    async def get(self, key: str) -> bytes: ...

    async def download(self, key: str, path: Path) -> int:
        """Write the object to the file `path` (streamed, not held in memory); its size."""
        ...

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def copy(self, source: str, dest: str) -> None:
        """Copy an object inside the store (S3 CopyObject): bytes and content type, never via the app."""
        ...

    def list(self, prefix: str, *, page_size: int = 1000) -> AsyncIterator[Sequence[ListedObject]]:
        """Every object whose key starts with `prefix`, in key order, a page at a time."""
        ...

    async def delete(self, keys: Sequence[str]) -> None:
        """Delete in batches; keys that do not exist are not an error."""
        ...

    async def download_url(self, key: str, expires_in: int) -> str:
        """A signed URL, or `{public_base_url}/{key}` unsigned when a CDN is configured."""
        ...

    def signed_url(self, key: str, expires_in: int) -> str:
        """`download_url`'s URL, computed in place: signing reads no network and no file, so a
        page's URLs are plain function calls (the compiled executor signs in its projection)."""
        ...

    async def check(self) -> None:
        """Raise `StorageUnavailable` with a human message when the store cannot be used."""
        ...

    async def close(self) -> None: ...
