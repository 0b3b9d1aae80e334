"""What may be uploaded, how big, for what, and under which object keys.

Clients post to `uploads/...` keys; what the server verified and serves lives under `media/...`
keys that only the server writes, so an upload form posted again never reaches served bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MediaKind = Literal["IMAGE", "VIDEO"]
PURPOSES = ("POST", "STORY", "MESSAGE", "AVATAR")
MB = 1024 * 1024

EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
}


class UploadRejected(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class MediaRules:
    image_types: frozenset[str] = frozenset(
        {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"}
    )
    video_types: frozenset[str] = frozenset({"video/mp4", "video/quicktime"})
    max_image_size: int = 20 * MB
    max_video_size: int = 100 * MB
    video_purposes: frozenset[str] = frozenset({"POST", "STORY", "MESSAGE"})  # avatars are images only

    def max_size(self, kind: MediaKind) -> int:
        return self.max_image_size if kind == "IMAGE" else self.max_video_size


def check_upload(rules: MediaRules, content_type: str, byte_size: int, purpose: str) -> MediaKind:
    """The kind of media a requested upload will be, or `UploadRejected` saying why not."""
    if purpose not in PURPOSES:
        raise UploadRejected(f"Unknown upload purpose {purpose!r}.")
    kind: MediaKind
    if content_type in rules.image_types:
        kind = "IMAGE"
    elif content_type in rules.video_types:
        kind = "VIDEO"
    else:
        allowed = ", ".join(sorted(rules.image_types | rules.video_types))
        raise UploadRejected(f"Files of type {content_type!r} cannot be uploaded; allowed: {allowed}.")
    if kind == "VIDEO" and purpose not in rules.video_purposes:
        raise UploadRejected(f"A {purpose.lower()} must be an image.")
    if byte_size < 1:
        raise UploadRejected("The file is empty.")
    if byte_size > rules.max_size(kind):
        raise UploadRejected(f"The file is too large; the limit is {rules.max_size(kind) // MB} MB.")
    return kind


def upload_key(purpose: str, owner_id: int, media_id: int, content_type: str) -> str:
    """`uploads/post/<owner>/<media_id>.jpg`: where the client's upload form puts the bytes."""
    return f"uploads/{_path(purpose, owner_id, media_id)}{_extension(content_type)}"


def served_key(purpose: str, owner_id: int, media_id: int, content_type: str, version: str) -> str:
    """`media/post/<owner>/<media_id>-<version>.jpg`: written once, by the server, after verification.

    Grouped by purpose so lifecycle rules can target stories; `version` is fresh per verification
    (a concurrent one never overwrites what another wrote) and makes CDN URLs unguessable.
    """
    return f"media/{_path(purpose, owner_id, media_id)}-{version}{_extension(content_type)}"


def _path(purpose: str, owner_id: int, media_id: int) -> str:
    if purpose not in PURPOSES:
        raise UploadRejected(f"Unknown upload purpose {purpose!r}.")
    return f"{purpose.lower()}/{owner_id}/{media_id}"


def _extension(content_type: str) -> str:
    extension = EXTENSIONS.get(content_type)
    if extension is None:
        raise UploadRejected(f"Files of type {content_type!r} cannot be uploaded.")
    return extension


def variant_key(key: str, name: str, content_type: str = "image/jpeg") -> str:
    """`media/post/1/2-v.png` + `w150` -> `media/post/1/2-v_w150.jpg` (renditions are JPEG)."""
    stem = key.rsplit(".", 1)[0] if "." in key.rsplit("/", 1)[-1] else key
    return f"{stem}_{name}{EXTENSIONS[content_type]}"
