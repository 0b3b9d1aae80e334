"""HTTP endpoints for `LocalStorage`: the signed upload POST and signed downloads, answering like S3."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from xml.sax.saxutils import escape

from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from media.local import FILES_PATH, UPLOAD_PATH, AccessDenied, LocalStorage

FORM_SLACK = 64 * 1024  # room for the policy fields and multipart framing around the file
MAX_FIELD_SIZE = 16 * 1024
TOO_LARGE = "Your proposed upload exceeds the maximum allowed size"
TOO_SMALL = "Your proposed upload is smaller than the minimum allowed size"
# User bytes are served from the app's origin: never let a browser run them as a page.
DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}


class _BodyTooLarge(MultiPartException):
    pass


def s3_error(status: int, code: str, message: str) -> Response:
    body = f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>"
    return Response(body, status_code=status, media_type="application/xml")


async def _capped(stream: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes]:
    """The body as sent, failing as soon as it grows beyond `limit` (covers chunked bodies too)."""
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > limit:
            raise _BodyTooLarge(TOO_LARGE)
        yield chunk


def local_media_routes(storage: LocalStorage) -> list[Route]:
    async def upload(request: Request) -> Response:
        limit = storage.max_upload_size + FORM_SLACK
        declared = request.headers.get("content-length")
        if declared is None:
            return s3_error(411, "MissingContentLength", "You must provide the Content-Length HTTP header")
        if not declared.isdigit() or int(declared) > limit:
            return s3_error(400, "EntityTooLarge", TOO_LARGE)
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return s3_error(400, "MalformedPOSTRequest", "The body must be multipart/form-data")
        try:
            async with aclosing(request.stream()) as body:
                parser = MultiPartParser(
                    request.headers,
                    _capped(body, limit),
                    max_files=1,
                    max_fields=20,
                    max_part_size=MAX_FIELD_SIZE,
                )
                form = await parser.parse()
        except _BodyTooLarge as exc:
            return s3_error(400, "EntityTooLarge", exc.message)
        except MultiPartException as exc:
            return s3_error(400, "MalformedPOSTRequest", exc.message)
        try:
            return await _accept(storage, form)
        finally:
            await form.close()

    async def download(request: Request) -> Response:
        key: str = request.path_params["key"]
        query = request.query_params
        try:
            storage.verify_download(key, query.get("expires", ""), query.get("signature", ""))
        except AccessDenied as exc:
            return s3_error(403, "AccessDenied", str(exc))
        info = await storage.head(key)
        if info is None:
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        media_type = info.content_type or "application/octet-stream"
        return FileResponse(storage.path(key), media_type=media_type, headers=DOWNLOAD_HEADERS)

    return [
        Route(UPLOAD_PATH, upload, methods=["POST"]),
        Route(FILES_PATH + "/{key:path}", download, methods=["GET", "HEAD"]),
    ]


async def _accept(storage: LocalStorage, form: FormData) -> Response:
    """Check the parsed form against its signed policy, then store the file."""
    items = form.multi_items()
    if not items or items[-1][0] != "file" or not isinstance(items[-1][1], UploadFile):
        return s3_error(400, "InvalidArgument", "POST requires one file upload, in the last field 'file'")
    upload = items[-1][1]
    fields = {name: value for name, value in items[:-1] if isinstance(value, str)}
    try:
        policy = storage.verify_policy(fields.get("policy", ""), fields.get("signature", ""))
        if fields.get("key") != policy.key or fields.get("Content-Type") != policy.content_type:
            raise AccessDenied("Invalid according to Policy: Policy Condition failed")
    except AccessDenied as exc:
        return s3_error(403, "AccessDenied", str(exc))
    size = upload.size or 0
    if size < policy.min_size:
        return s3_error(400, "EntityTooSmall", TOO_SMALL)
    if size > policy.max_size:
        return s3_error(400, "EntityTooLarge", TOO_LARGE)
    await upload.seek(0)
    await storage.save_upload(policy.key, upload.file, policy.content_type)
    return Response(status_code=204)
