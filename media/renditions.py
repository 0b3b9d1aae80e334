"""Writing what processing produced beside a served key, and recording where it went."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from media.images import ProcessedImage
from media.policy import variant_key
from media.storage import Storage


@dataclass
class Written:
    """Every key written so far, so a verification that loses or fails can take them back."""

    keys: list[str] = field(default_factory=list)

    async def put(self, storage: Storage, key: str, data: bytes, content_type: str) -> None:
        self.keys.append(key)
        await storage.put(key, data, content_type)

    async def renditions(self, storage: Storage, key: str, image: ProcessedImage) -> list[dict[str, Any]]:
        """The image's renditions beside `key`, as the media row records them (smallest first)."""
        recorded = []
        for variant in image.variants:
            name = variant_key(key, variant.name, variant.content_type)
            await self.put(storage, name, variant.data, variant.content_type)
            size = {"width": variant.width, "height": variant.height}
            recorded.append({"name": variant.name, **size, "key": name})
        return recorded

    async def poster(self, storage: Storage, key: str, poster: ProcessedImage) -> dict[str, Any]:
        """A video's poster frame and its renditions beside the video's `key`."""
        name = variant_key(key, "poster", poster.original_content_type)
        await self.put(storage, name, poster.original, poster.original_content_type)
        return {
            "key": name,
            "width": poster.width,
            "height": poster.height,
            "variants": await self.renditions(storage, name, poster),
        }
