"""The order of the home feed."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="The order of the home feed.")
class FeedOrder(Enum):
    RECENT = strawberry.enum_value("RECENT", description="Newest first.")
    RANKED = strawberry.enum_value(
        "RANKED", description="Best first: recency, engagement, relationship and content type."
    )
