"""Media and uploads: the Media type, and createUpload handing out a direct-to-storage target."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.context import RequestContext, Services
from core.ids import to_global_id
from media import UploadTarget as StorageTarget
from media.images import DEFAULT_WIDTHS
from models import Media as MediaRow
from models import MediaStatus as RowStatus
from resolvers.media import uploads as media_resolvers
from schema.extensions.query_limits import at_most
from schema.node import Node
from schema.planning import Column, Pure, planned

Ctx = Info[RequestContext, None]
# An upload form: S3's pre-signed POST has at most 8 fields (key, type, policy, the signature's
# four, a session token), the embedded store's 4.
MAX_FORM_FIELDS = 10


@strawberry.enum(description="Photo or video.")
class MediaKind(Enum):
    IMAGE = strawberry.enum_value(
        "IMAGE", description="A photo: JPEG, PNG, WebP, or HEIC/HEIF (served as JPEG)."
    )
    VIDEO = strawberry.enum_value(
        "VIDEO", description="A video: MP4 or QuickTime, H.264 or HEVC, served as uploaded."
    )


@strawberry.enum(description="Where an upload stands: checked once, when first attached.")
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


@strawberry.enum(description="What an upload is for; it can be attached there only.")
class MediaPurpose(Enum):
    POST = strawberry.enum_value("POST", description="A photo or video of a post (createPost).")
    STORY = strawberry.enum_value("STORY", description="The photo or video of a story (createStory).")
    MESSAGE = strawberry.enum_value("MESSAGE", description="A photo or video in a message (sendMessage).")
    AVATAR = strawberry.enum_value("AVATAR", description="A profile photo (updateProfile); images only.")


@strawberry.type(description="A resized JPEG rendition of a photo or poster.")
class MediaVariant:
    name: str = strawberry.field(description="The rendition by target width: w150, w640 or w1080.")
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    url: str = strawberry.field(
        description="Download URL; a signed one expires after an hour (with a story, no later than it): "
        "refetch rather than store it."
    )


@strawberry.type(description="A still frame of a video, rendered like a photo.")
class MediaPoster:
    recorded: strawberry.Private[dict[str, Any]]
    not_after: strawberry.Private[datetime | None]

    @strawberry.field(description="Width in pixels, the video's.")
    def width(self) -> int:
        return int(self.recorded["width"])

    @strawberry.field(description="Height in pixels, the video's.")
    def height(self) -> int:
        return int(self.recorded["height"])

    # Signed only when asked for: a query's cost counts the URLs it selects.
    @strawberry.field(description="The frame at the video's size, as JPEG.")
    async def url(self, info: Ctx) -> str:
        return await media_resolvers.download_url(
            info.context.services, str(self.recorded["key"]), self.not_after
        )

    @strawberry.field(
        description="Resized renditions, smallest first.", metadata=at_most(len(DEFAULT_WIDTHS))
    )
    async def variants(self, info: Ctx) -> list[MediaVariant]:
        return await _variants(info.context.services, self.recorded["variants"], self.not_after)


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


def media_url(services: Services, row: Any, urls_end_by: datetime | None) -> str | None:
    """Signed in place (no I/O): strawberry's resolver and the compiled projection call it alike."""
    if row.status is not RowStatus.READY:
        return None
    return media_resolvers.signed_download_url(services, row.storage_key, urls_end_by)


def _planned_url(row: Any, ctx: RequestContext) -> str | None:
    """A compiled source ends its URLs where it says (a live story's media: execution/story_loaders.py
    `MediaUntil`); those of posts and avatars have no end of their own."""
    return media_url(ctx.services, row, getattr(row, "urls_end_by", None))


@strawberry.type(
    name="Media",
    description="An uploaded photo or video. Only its owner gets it by `node(id:)`; others reach it "
    "through a post, story, message or avatar.",
)
class MediaType(Node):
    row: strawberry.Private[MediaRow]
    # URLs expire no later than this (a story's media ends with the story).
    urls_end_by: strawberry.Private[datetime | None] = None

    @classmethod
    def of(cls, row: MediaRow, urls_end_by: datetime | None = None) -> MediaType:
        return cls(id=strawberry.ID(to_global_id("Media", row.id)), row=row, urls_end_by=urls_end_by)

    @strawberry.field(
        description="Photo or video, from the declared content type.",
        metadata=planned(Pure(lambda row, ctx: MediaKind(row.kind))),
    )
    def kind(self) -> MediaKind:
        return MediaKind(self.row.kind)

    @strawberry.field(
        description="MIME type, e.g. image/jpeg; a HEIC/HEIF photo reads image/jpeg once READY.",
        metadata=planned(Column("content_type")),
    )
    def content_type(self) -> str:
        return self.row.content_type

    @strawberry.field(
        description="Size in bytes: as declared until READY, then of the file served.",
        metadata=planned(Column("byte_size")),
    )
    def byte_size(self) -> int:
        return self.row.byte_size

    @strawberry.field(
        description="Whether the upload was checked, and with what outcome.",
        metadata=planned(Pure(lambda row, ctx: MediaStatus[RowStatus(row.status).name])),
    )
    def status(self) -> MediaStatus:
        return MediaStatus[RowStatus(self.row.status).name]

    @strawberry.field(description="Width in pixels; null until READY.", metadata=planned(Column("width")))
    def width(self) -> int | None:
        return self.row.width

    @strawberry.field(description="Height in pixels; null until READY.", metadata=planned(Column("height")))
    def height(self) -> int | None:
        return self.row.height

    @strawberry.field(
        description="The uploader's description for screen readers; null when none.",
        metadata=planned(Column("alt_text")),
    )
    def alt_text(self) -> str | None:
        return self.row.alt_text

    @strawberry.field(
        description="Where a client downloads the original; null until READY. A signed URL expires after "
        "an hour (with a story, no later than it).",
        metadata=planned(Pure(_planned_url)),
    )
    def url(self, info: Ctx) -> str | None:
        return media_url(info.context.services, self.row, self.urls_end_by)

    @strawberry.field(
        description="Resized renditions of an image, smallest first.", metadata=at_most(len(DEFAULT_WIDTHS))
    )
    async def variants(self, info: Ctx) -> list[MediaVariant]:
        if self.row.status is not RowStatus.READY:
            return []
        return await _variants(info.context.services, self.row.variants, self.urls_end_by)

    @strawberry.field(
        description="Seconds of playback of a video (a story of a video lasts this long); null for photos.",
        metadata=planned(Column("duration_seconds")),
    )
    def duration_seconds(self) -> float | None:
        return self.row.duration_seconds

    @strawberry.field(
        description='The codec of a video as FFmpeg names it ("h264", "hevc"); null for photos.',
        metadata=planned(Column("video_codec")),
    )
    def video_codec(self) -> str | None:
        return self.row.video_codec

    @strawberry.field(description="A video's poster frame, to show before it plays; null for photos.")
    async def poster(self, info: Ctx) -> MediaPoster | None:
        poster = self.row.poster
        if self.row.status is not RowStatus.READY or not poster:
            return None
        return MediaPoster(recorded=poster, not_after=self.urls_end_by)

    @strawberry.field(
        description="A BlurHash (blurha.sh) of the image or poster to paint while it loads; null until "
        "READY.",
        metadata=planned(Pure(lambda row, ctx: row.placeholder if row.status is RowStatus.READY else None)),
    )
    def placeholder(self) -> str | None:
        return self.row.placeholder if self.row.status is RowStatus.READY else None

    @strawberry.field(
        description="Why the media is FAILED, in words for the uploader; null otherwise.",
        metadata=planned(Pure(lambda row, ctx: row.failure if row.status is RowStatus.FAILED else None)),
    )
    def failure_reason(self) -> str | None:
        return self.row.failure if self.row.status is RowStatus.FAILED else None


@strawberry.type(description="One field of the upload form.")
class UploadField:
    name: str = strawberry.field(description="The form field's name, e.g. key, policy or Content-Type.")
    value: str = strawberry.field(description="Its value, to send unchanged.")


@strawberry.type(
    description="Where and how the client uploads the bytes: an HTML-form style POST of `fields` plus "
    "the file (as S3 pre-signed POST), straight to object storage."
)
class UploadTarget:
    url: str = strawberry.field(description="Where to POST the form, as multipart/form-data.")
    fields: list[UploadField] = strawberry.field(
        description="The form fields to send, in this order, before the file (sent last, as `file`).",
        metadata=at_most(MAX_FORM_FIELDS),
    )
    expires_at: datetime = strawberry.field(
        description="After this the form is refused (15 minutes after createUpload by default)."
    )

    @classmethod
    def of(cls, target: StorageTarget) -> UploadTarget:
        fields = [UploadField(name=name, value=value) for name, value in target.fields]
        return cls(url=target.url, fields=fields, expires_at=target.expires_at)


@strawberry.type(description="A new upload: the media to attach later, and where to send its bytes.")
class CreateUploadPayload:
    media: MediaType = strawberry.field(
        description="The new media, PENDING; attach it by its id once the file is uploaded."
    )
    upload: UploadTarget = strawberry.field(description="Where and how to upload the file.")


@strawberry.input(description="The file a client is about to upload.")
class CreateUploadInput:
    content_type: str = strawberry.field(
        description="MIME type: image/jpeg, image/png, image/webp, image/heic, image/heif, video/mp4 or "
        "video/quicktime."
    )
    byte_size: int = strawberry.field(
        description="The file's size in bytes, the most storage accepts: images up to 20 MB, videos up to "
        "100 MB (by default)."
    )
    purpose: MediaPurpose = strawberry.field(description="Where the media will be attached.")
    alt_text: str | None = strawberry.field(
        default=None, description="A description for screen readers, at most 1,000 characters, on one line."
    )


@strawberry.type
class MediaMutation:
    @strawberry.mutation(
        description="Starts an upload: a PENDING media and a form to post the file straight to storage. "
        "BAD_USER_INPUT for a type not allowed, an empty or too large file, or a video AVATAR."
    )
    async def create_upload(
        self,
        info: Ctx,
        input: Annotated[CreateUploadInput, strawberry.argument(description="The file to upload.")],
    ) -> CreateUploadPayload:
        row, target = await media_resolvers.create_upload(
            info.context, input.content_type, input.byte_size, input.purpose.name, input.alt_text
        )
        return CreateUploadPayload(media=MediaType.of(row), upload=UploadTarget.of(target))


async def media_node(ctx: RequestContext, media_id: int) -> MediaType | None:
    """Only the owner reaches media by id; others see it through the post, story or message."""
    row = await media_resolvers.own_media(ctx, media_id)
    return MediaType.of(row) if row else None
