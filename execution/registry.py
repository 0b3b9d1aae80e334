"""Every loader plans may name, by name: the feed's and node's (execution/loaders.py) and each
area's (execution/*_loaders.py). A name declared twice is a mistake, caught at import."""

from __future__ import annotations

from typing import Any

from execution import activity_loaders, conversation_loaders, loaders, story_loaders
from execution.loaders import ChildLoader, RootLoader

AREAS: list[Any] = [loaders, story_loaders, conversation_loaders, activity_loaders]


def _merged(attribute: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for module in AREAS:
        for name, loader in getattr(module, attribute).items():
            if name in merged:
                raise RuntimeError(f"loader {name!r} declared twice ({module.__name__})")
            merged[name] = loader
    return merged


ROOTS: dict[str, RootLoader] = _merged("ROOTS")
CHILDREN: dict[str, ChildLoader] = _merged("CHILDREN")
loaders.PLANNED_NODES.update(_merged("NODES"))
