"""Media and uploads: the Media type, and createUpload handing out a direct-to-storage target."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from core.context import RequestContext, Services
from core.ids import to_global_id
from media import UploadTarget as StorageTarget
from models import Media as MediaRow
from models import MediaStatus as RowStatus
from resolvers import media as media_resolvers
from schema.node import Node

Ctx = Info[RequestContext, None]


@strawberry.enum
class MediaKind(Enum):
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"


@strawberry.enum
class MediaStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Upload URL issued; nothing verified yet.")
    READY = strawberry.enum_value(
        "READY", description="Uploaded and verified; usable in posts, stories and messages."
    )
    FAILED = strawberry.enum_value(
        "FAILED",
        description="Upload missing, too large, not the declared type, or not decodable; "
        "`failureReason` says which.",
    )


@strawberry.enum
class MediaPurpose(Enum):
    POST = "POST"
    STORY = "STORY"
    MESSAGE = "MESSAGE"
    AVATAR = "AVATAR"


@strawberry.type
class MediaVariant:
    name: str
    width: int
    height: int
    url: str


@strawberry.type(description="A still frame of a video, rendered like a photo.")
class MediaPoster:
    width: int
    height: int
    url: str = strawberry.field(description="The frame at the video's size, as JPEG.")
    variants: list[MediaVariant] = strawberry.field(description="Resized renditions, smallest first.")


async def _variants(
    services: Services, recorded: list[dict[str, Any]], not_after: datetime | None
) -> list[MediaVariant]:
    return [
        MediaVariant(
            name=str(v["name"]),
            width=int(v["width"]),
            height=int(v["height"]),
            url=await media_resolvers.download_url(services, str(v["key"]), not_after),
        )
        for v in recorded
    ]


@strawberry.type(name="Media")
class MediaType(Node):
    row: strawberry.Private[MediaRow]
    # URLs expire no later than this (a story's media ends with the story).
    urls_end_by: strawberry.Private[datetime | None] = None

    @classmethod
    def of(cls, row: MediaRow, urls_end_by: datetime | None = None) -> MediaType:
        return cls(id=strawberry.ID(to_global_id("Media", row.id)), row=row, urls_end_by=urls_end_by)

    @strawberry.field
    def kind(self) -> MediaKind:
        return MediaKind(self.row.kind)

    @strawberry.field
    def content_type(self) -> str:
        return self.row.content_type

    @strawberry.field
    def byte_size(self) -> int:
        return self.row.byte_size

    @strawberry.field
    def status(self) -> MediaStatus:
        return MediaStatus[RowStatus(self.row.status).name]

    @strawberry.field
    def width(self) -> int | None:
        return self.row.width

    @strawberry.field
    def height(self) -> int | None:
        return self.row.height

    @strawberry.field
    def alt_text(self) -> str | None:
        return self.row.alt_text

    @strawberry.field(description="Where a client downloads the original; null until READY.")
    async def url(self, info: Ctx) -> str | None:
        if self.row.status is not RowStatus.READY:
            return None
        return await media_resolvers.download_url(
            info.context.services, self.row.storage_key, self.urls_end_by
        )

    @strawberry.field(description="Resized renditions of an image, smallest first.")
    async def variants(self, info: Ctx) -> list[MediaVariant]:
        if self.row.status is not RowStatus.READY:
            return []
        return await _variants(info.context.services, self.row.variants, self.urls_end_by)

    @strawberry.field(
        description="Seconds of playback of a video (a story of a video lasts this long); null for photos."
    )
    def duration_seconds(self) -> float | None:
        return self.row.duration_seconds

    @strawberry.field(
        description='The codec of a video as FFmpeg names it ("h264", "hevc"); null for photos.'
    )
    def video_codec(self) -> str | None:
        return self.row.video_codec

    @strawberry.field(description="A video's poster frame, to show before it plays; null for photos.")
    async def poster(self, info: Ctx) -> MediaPoster | None:
        poster = self.row.poster
        if self.row.status is not RowStatus.READY or not poster:
            return None
        services = info.context.services
        return MediaPoster(
            width=int(poster["width"]),
            height=int(poster["height"]),
            url=await media_resolvers.download_url(services, str(poster["key"]), self.urls_end_by),
            variants=await _variants(services, poster["variants"], self.urls_end_by),
        )

    @strawberry.field(
        description="A BlurHash (blurha.sh) of the image or poster to paint while it loads; null until READY."
    )
    def placeholder(self) -> str | None:
        return self.row.placeholder if self.row.status is RowStatus.READY else None

    @strawberry.field(description="Why the media is FAILED, in words for the uploader; null otherwise.")
    def failure_reason(self) -> str | None:
        return self.row.failure if self.row.status is RowStatus.FAILED else None


@strawberry.type
class UploadField:
    name: str
    value: str


@strawberry.type(
    description="Where and how the client uploads the bytes: an HTML-form style POST of `fields` plus "
    "the file (as S3 pre-signed POST), straight to object storage."
)
class UploadTarget:
    url: str
    fields: list[UploadField]
    expires_at: datetime

    @classmethod
    def of(cls, target: StorageTarget) -> UploadTarget:
        fields = [UploadField(name=name, value=value) for name, value in target.fields]
        return cls(url=target.url, fields=fields, expires_at=target.expires_at)


@strawberry.type
class CreateUploadPayload:
    media: MediaType
    upload: UploadTarget


@strawberry.input
class CreateUploadInput:
    content_type: str
    byte_size: int
    purpose: MediaPurpose
    alt_text: str | None = None


@strawberry.type
class MediaMutation:
    @strawberry.mutation
    async def create_upload(self, info: Ctx, input: CreateUploadInput) -> CreateUploadPayload:
        row, target = await media_resolvers.create_upload(
            info.context, input.content_type, input.byte_size, input.purpose.value, input.alt_text
        )
        return CreateUploadPayload(media=MediaType.of(row), upload=UploadTarget.of(target))


async def media_node(ctx: RequestContext, media_id: int) -> MediaType | None:
    """Only the owner reaches media by id; others see it through the post, story or message."""
    row = await media_resolvers.MediaById(ctx).load(media_id)
    if row is None or row.owner_id != ctx.viewer_id:
        return None
    return MediaType.of(row)
