"""Object storage for media: S3 or local disk behind one `Storage` interface, plus checks and variants."""

from media.images import (
    ImageRejected,
    ProcessedImage,
    Variant,
    can_process,
    process_image,
    process_image_off_loop,
)
from media.local import AccessDenied, InvalidKey, LocalStorage
from media.policy import MediaKind, MediaRules, UploadRejected, check_upload, object_key, variant_key
from media.s3 import S3Storage
from media.sniff import PREFIX_BYTES, sniff_content_type
from media.storage import (
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    StorageUnavailable,
    UploadTarget,
)

__all__ = [
    "PREFIX_BYTES",
    "AccessDenied",
    "ImageRejected",
    "InvalidKey",
    "LocalStorage",
    "MediaKind",
    "MediaRules",
    "ObjectInfo",
    "ObjectNotFound",
    "ProcessedImage",
    "S3Storage",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "UploadRejected",
    "UploadTarget",
    "Variant",
    "can_process",
    "check_upload",
    "object_key",
    "process_image",
    "process_image_off_loop",
    "sniff_content_type",
    "variant_key",
]
