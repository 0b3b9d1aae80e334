"""Object storage for media (S3 or local disk behind one `Storage` interface), checks and renditions.

`S3Storage` is imported from `media.s3`: botocore is slow to import, and the decoding workers
(which import this package) never need it.
"""

from media.images import MediaRejected, ProcessedImage, Variant, process_image
from media.local import AccessDenied, InvalidKey, LocalStorage
from media.policy import (
    MediaKind,
    MediaRules,
    UploadRejected,
    check_upload,
    served_key,
    upload_key,
    variant_key,
)
from media.processing import PROCESSING_RESULTS, Limits, process_file
from media.sniff import PREFIX_BYTES, is_declared_type, sniff_content_type
from media.storage import (
    ListedObject,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    StorageUnavailable,
    UploadTarget,
)
from media.video import ProcessedVideo, process_video
from media.workers import WorkerCrashed, WorkerPool, WorkerTimeout, WorkerUnavailable

__all__ = [
    "PREFIX_BYTES",
    "PROCESSING_RESULTS",
    "AccessDenied",
    "InvalidKey",
    "Limits",
    "ListedObject",
    "LocalStorage",
    "MediaKind",
    "MediaRejected",
    "MediaRules",
    "ObjectInfo",
    "ObjectNotFound",
    "ProcessedImage",
    "ProcessedVideo",
    "Storage",
    "StorageError",
    "StorageUnavailable",
    "UploadRejected",
    "UploadTarget",
    "Variant",
    "WorkerCrashed",
    "WorkerPool",
    "WorkerTimeout",
    "WorkerUnavailable",
    "check_upload",
    "is_declared_type",
    "process_file",
    "process_image",
    "process_video",
    "served_key",
    "sniff_content_type",
    "upload_key",
    "variant_key",
]
