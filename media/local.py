"""Objects as files under one directory, with S3-shaped signed uploads served by the app.

Layout: `<root>/<key>` holds the bytes and `<root>/.meta/<key>.json` the content type.
Key segments may not start with a dot, so no key can reach `.meta` or a temp file.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from media.storage import (
    Clock,
    ListedObject,
    ObjectInfo,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    UploadTarget,
    utc_now,
)

UPLOAD_PATH = "/media/upload"
FILES_PATH = "/media/files"
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


class InvalidKey(StorageError):
    """The key is not a safe relative path of `[A-Za-z0-9/_.-]` segments."""


class AccessDenied(StorageError):
    """A signature is wrong, or what it signed has expired or does not match."""


@dataclass(frozen=True)
class UploadPolicy:
    key: str
    content_type: str
    min_size: int
    max_size: int
    expires: int  # unix seconds


def validate_key(key: str) -> str:
    if len(key) > 512 or not all(_SEGMENT.fullmatch(part) for part in key.split("/")):
        raise InvalidKey(f"invalid object key {key!r}")
    return key


def _write_atomic(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Readers see the old file or the whole new one, never a partial write."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


class LocalStorage:
    def __init__(
        self,
        root: Path,
        *,
        secret: bytes,
        base_url: str,
        public_base_url: str | None = None,
        clock: Clock = utc_now,
        max_upload_size: int = 100 * 1024 * 1024,
    ) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.clock = clock
        self.max_upload_size = max_upload_size  # the upload route refuses bodies beyond this early
        self._secret = secret

    def path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def _meta_path(self, key: str) -> Path:
        return self.root / ".meta" / f"{validate_key(key)}.json"

    def _sign(self, message: str) -> str:
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()

    def _now_ts(self) -> int:
        return int(self.clock().timestamp())

    async def presign_upload(
        self, key: str, content_type: str, max_size: int, expires_in: int
    ) -> UploadTarget:
        if max_size > self.max_upload_size:
            raise ValueError(f"max_size {max_size} is above this store's upload cap {self.max_upload_size}")
        expires_at = self.clock() + timedelta(seconds=expires_in)
        policy = UploadPolicy(validate_key(key), content_type, 1, max_size, int(expires_at.timestamp()))
        encoded = base64.b64encode(json.dumps(asdict(policy)).encode()).decode()
        fields = [
            ("key", key),
            ("Content-Type", content_type),
            ("policy", encoded),
            ("signature", self._sign(encoded)),
        ]
        return UploadTarget(url=f"{self.base_url}{UPLOAD_PATH}", fields=fields, expires_at=expires_at)

    def verify_policy(self, encoded: str, signature: str) -> UploadPolicy:
        """The signed policy of an upload form; `AccessDenied` if forged or expired."""
        if not hmac.compare_digest(self._sign(encoded), signature):
            raise AccessDenied("Invalid according to Policy: signature does not match")
        try:
            policy = UploadPolicy(**json.loads(base64.b64decode(encoded)))
        except (ValueError, TypeError) as exc:  # cannot happen for a policy we signed, but be strict
            raise AccessDenied("Invalid according to Policy: malformed policy") from exc
        if policy.expires < self._now_ts():
            raise AccessDenied("Invalid according to Policy: Policy expired")
        return policy

    def verify_download(self, key: str, expires: str, signature: str) -> None:
        if not hmac.compare_digest(self._sign(f"GET\n{key}\n{expires}"), signature):
            raise AccessDenied("Request signature does not match")
        if not expires.isdigit() or int(expires) < self._now_ts():
            raise AccessDenied("Request has expired")

    async def save_upload(self, key: str, source: BinaryIO, content_type: str) -> None:
        await asyncio.to_thread(self._store, key, lambda out: shutil.copyfileobj(source, out), content_type)

    def _store(self, key: str, write: Callable[[BinaryIO], object], content_type: str) -> None:
        # The sidecar goes first so that whenever the bytes are visible their type is too.
        meta = json.dumps({"content_type": content_type}).encode()
        _write_atomic(self._meta_path(key), lambda out: out.write(meta))
        _write_atomic(self.path(key), write)

    async def head(self, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self._head, key)

    def _head(self, key: str) -> ObjectInfo | None:
        try:
            size = self.path(key).stat().st_size
        except FileNotFoundError:
            return None
        try:
            content_type = json.loads(self._meta_path(key).read_bytes()).get("content_type")
        except FileNotFoundError:  # a file put there by hand
            content_type = None
        return ObjectInfo(size=size, content_type=content_type)

    async def read_prefix(self, key: str, n: int) -> bytes:
        return await asyncio.to_thread(self._read, key, max(n, 0))

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._read, key, -1)

    def _read(self, key: str, n: int) -> bytes:
        try:
            with self.path(key).open("rb") as f:
                return f.read(n)
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc

    async def download(self, key: str, path: Path) -> int:
        return await asyncio.to_thread(self._download, key, path)

    def _download(self, key: str, path: Path) -> int:
        try:
            with self.path(key).open("rb") as source, path.open("wb") as out:
                shutil.copyfileobj(source, out)
                return out.tell()
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._store, key, lambda out: out.write(data), content_type)

    async def copy(self, source: str, dest: str) -> None:
        await asyncio.to_thread(self._copy, source, dest)

    def _copy(self, source: str, dest: str) -> None:
        # One open file: a concurrent upload replacing `source` cannot mix two versions in the copy.
        info = self._head(source)
        try:
            with self.path(source).open("rb") as opened:
                content_type = (info and info.content_type) or "application/octet-stream"
                self._store(dest, lambda out: shutil.copyfileobj(opened, out), content_type)
        except FileNotFoundError as exc:
            raise ObjectNotFound(source) from exc

    async def list(self, prefix: str, *, page_size: int = 1000) -> AsyncIterator[Sequence[ListedObject]]:
        found = await asyncio.to_thread(self._list, prefix)
        for start in range(0, len(found), page_size):
            yield found[start : start + page_size]

    def _list(self, prefix: str) -> Sequence[ListedObject]:
        # Walk only the folder the prefix names; `.meta` and temp files start with a dot.
        top = self.path(prefix.rsplit("/", 1)[0]) if "/" in prefix else self.root
        found: list[ListedObject] = []
        for folder, dirs, files in os.walk(top):
            dirs[:] = [name for name in dirs if not name.startswith(".")]
            for name in files:
                path = Path(folder, name)
                key = path.relative_to(self.root).as_posix()
                if name.startswith(".") or not key.startswith(prefix):
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:  # deleted while walking
                    continue
                found.append(ListedObject(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)))
        return sorted(found, key=lambda listed: listed.key)

    async def delete(self, keys: Sequence[str]) -> None:
        await asyncio.to_thread(self._delete, keys)

    def _delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.path(key).unlink(missing_ok=True)
            self._meta_path(key).unlink(missing_ok=True)

    async def download_url(self, key: str, expires_in: int) -> str:
        return self.signed_url(key, expires_in)

    def signed_url(self, key: str, expires_in: int) -> str:
        if self.public_base_url:
            return f"{self.public_base_url}/{validate_key(key)}"
        expires = str(self._now_ts() + expires_in)
        signature = self._sign(f"GET\n{validate_key(key)}\n{expires}")
        return f"{self.base_url}{FILES_PATH}/{key}?expires={expires}&signature={signature}"

    async def check(self) -> None:
        root = self.root
        if not await asyncio.to_thread(root.is_dir):
            raise StorageUnavailable(f"media directory {root} does not exist (create it, or configure S3)")
        if not await asyncio.to_thread(os.access, root, os.W_OK | os.X_OK):
            raise StorageUnavailable(f"media directory {root} is not writable by this process")

    async def close(self) -> None:
        """Nothing to release: every call opens and closes its own files."""
