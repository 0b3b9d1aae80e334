"""S3 (or any S3-compatible store) through one long-lived aioboto3 client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import aioboto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

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

DELETE_BATCH = 1000  # the most keys S3 accepts in one DeleteObjects call
CHUNK = 1024 * 1024


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Storage:
    """Build with `await S3Storage.open(...)`; `close()` releases the client."""

    def __init__(
        self,
        *,
        client: Any,
        stack: AsyncExitStack,
        bucket: str,
        endpoint_url: str | None,
        public_base_url: str | None,
        clock: Clock,
        presigner: Any,
    ) -> None:
        self._client = client
        self._presigner = presigner
        self._stack = stack
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self._clock = clock

    @classmethod
    async def open(
        cls,
        *,
        bucket: str,
        region: str,
        endpoint_url: str | None = None,
        public_base_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        max_attempts: int = 3,
        clock: Clock = utc_now,
    ) -> S3Storage:
        """Without explicit credentials, botocore's usual chain (AWS_* env vars, profile, role) applies."""
        config = Config(
            signature_version="s3v4",
            # Path style works with every S3-compatible server and with bucket names containing dots.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=5,
            read_timeout=30,
        )
        session = aioboto3.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        stack = AsyncExitStack()
        client = await stack.enter_async_context(
            session.client("s3", endpoint_url=endpoint_url, config=config)
        )
        # Download URLs are signed synchronously (`signed_url`) by a plain botocore client of the
        # same region, endpoint, credentials and addressing: built once here (it loads S3's model).
        presigner = await asyncio.to_thread(
            botocore.session.get_session().create_client,
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )
        return cls(
            client=client,
            stack=stack,
            bucket=bucket,
            endpoint_url=endpoint_url,
            public_base_url=public_base_url,
            clock=clock,
            presigner=presigner,
        )

    async def presign_upload(
        self, key: str, content_type: str, max_size: int, expires_in: int
    ) -> UploadTarget:
        # botocore signs the expiration with its own clock; expires_at reports ours (the app's).
        expires_at = self._clock() + timedelta(seconds=expires_in)
        post = await self._client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_size]],
            ExpiresIn=expires_in,
        )
        return UploadTarget(url=post["url"], fields=list(post["fields"].items()), expires_at=expires_at)

    async def head(self, key: str) -> ObjectInfo | None:
        try:
            resp = await self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageError(f"HEAD {key} failed: {exc}") from exc
        return ObjectInfo(size=int(resp["ContentLength"]), content_type=resp.get("ContentType"))

    async def read_prefix(self, key: str, n: int) -> bytes:
        if n <= 0:
            return b""
        return await self._get(key, Range=f"bytes=0-{n - 1}")

    async def get(self, key: str) -> bytes:
        return await self._get(key)

    async def _get(self, key: str, **extra: str) -> bytes:
        try:
            resp = await self._get_object(key, **extra)
        except ClientError as exc:
            if _error_code(exc) == "InvalidRange":  # a ranged read of an empty object
                return b""
            raise StorageError(f"GET {key} failed: {exc}") from exc
        async with resp["Body"] as body:
            data: bytes = await body.read()
        return data

    async def _get_object(self, key: str, **extra: str) -> Any:
        try:
            return await self._client.get_object(Bucket=self.bucket, Key=key, **extra)
        except ClientError as exc:
            if _error_code(exc) in ("404", "NoSuchKey"):
                raise ObjectNotFound(key) from exc
            raise

    async def download(self, key: str, path: Path) -> int:
        try:
            resp = await self._get_object(key)
        except ClientError as exc:
            raise StorageError(f"GET {key} failed: {exc}") from exc
        size = 0
        out = await asyncio.to_thread(path.open, "wb")
        try:
            body = resp["Body"]
            async with body:
                async for chunk in body.iter_chunks(CHUNK):
                    await asyncio.to_thread(out.write, chunk)
                    size += len(chunk)
        finally:
            await asyncio.to_thread(out.close)
        return size

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    async def copy(self, source: str, dest: str) -> None:
        try:
            # CopyObject keeps the source's Content-Type (MetadataDirective COPY, the default).
            await self._client.copy_object(
                Bucket=self.bucket, Key=dest, CopySource={"Bucket": self.bucket, "Key": source}
            )
        except ClientError as exc:
            if _error_code(exc) in ("404", "NoSuchKey"):
                raise ObjectNotFound(source) from exc
            raise StorageError(f"COPY {source} to {dest} failed: {exc}") from exc

    async def list(self, prefix: str, *, page_size: int = 1000) -> AsyncIterator[Sequence[ListedObject]]:
        extra: dict[str, str] = {}
        while True:
            try:
                resp = await self._client.list_objects_v2(
                    Bucket=self.bucket, Prefix=prefix, MaxKeys=page_size, **extra
                )
            except ClientError as exc:
                raise StorageError(f"LIST {prefix} failed: {exc}") from exc
            page = [
                ListedObject(item["Key"], int(item["Size"]), item["LastModified"])
                for item in resp.get("Contents", [])
            ]
            if page:
                yield page
            if not resp.get("IsTruncated"):
                return
            extra = {"ContinuationToken": resp["NextContinuationToken"]}

    async def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
            resp = await self._client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            if errors := resp.get("Errors"):
                raise StorageError(f"could not delete {len(errors)} objects, first: {errors[0]}")

    async def download_url(self, key: str, expires_in: int) -> str:
        return self.signed_url(key, expires_in)

    def signed_url(self, key: str, expires_in: int) -> str:
        """Pre-signed by botocore's synchronous signer (`_presigner`): a SigV4 query signature is
        computed locally, with no request. (Temporary credentials are refreshed by botocore when
        they near their end, as any synchronous client does.)"""
        if self.public_base_url:
            return f"{self.public_base_url}/{key}"
        url: str = self._presigner.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

    async def check(self) -> None:
        where = f"bucket {self.bucket!r} at {self.endpoint_url or 'AWS S3'}"
        try:
            await self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = _error_code(exc)
            if code in ("404", "NoSuchBucket", "NotFound"):
                raise StorageUnavailable(f"S3 {where} does not exist") from exc
            if code in ("403", "AccessDenied", "Forbidden"):
                raise StorageUnavailable(f"S3 {where} refused access (check credentials)") from exc
            raise StorageUnavailable(f"S3 {where} is not usable: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"S3 {where} is unreachable: {exc}") from exc

    async def close(self) -> None:
        self._presigner.close()
        await self._stack.aclose()
