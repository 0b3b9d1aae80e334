"""What a caption or comment says beyond its text: #hashtags and @mentions, parsed on every write.

Pure functions, shared by the write path (rows stored) and `Post.hashtags` (read from the caption),
so what is stored and what is shown cannot disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import BadInput

MAX_HASHTAGS = 30
MAX_MENTIONS = 20
MAX_HASHTAG_LENGTH = 100
# A tag: '#' then Unicode letters and digits, not inside a word ("page#2" is no tag) or after '&'.
_HASHTAG = re.compile(r"(?<![\w&#])#([^\W_]+)")
# A mention: '@' then a username's characters, not inside an address ("me@example.com").
_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9._]{1,40})")
_USERNAME = re.compile(r"^[a-z0-9._]{3,30}$")


@dataclass(frozen=True)
class Parsed:
    hashtags: list[str]  # case-folded, without '#', in order of first use
    usernames: list[str]  # lower-case, without '@', in order of first use


def hashtags_in(text: str) -> list[str]:
    return list(dict.fromkeys(match.casefold() for match in _HASHTAG.findall(text)))


def usernames_in(text: str) -> list[str]:
    found: dict[str, None] = {}
    for match in _MENTION.findall(text):
        name = match.lower().rstrip(".")  # "@alice." ends a sentence
        if _USERNAME.fullmatch(name):
            found[name] = None
    return list(found)


def parse(text: str, *, field: str) -> Parsed:
    """The tags and mentions of a text, refused (BAD_USER_INPUT) beyond Instagram's limits."""
    tags, names = hashtags_in(text), usernames_in(text)
    if len(tags) > MAX_HASHTAGS:
        raise BadInput(f"At most {MAX_HASHTAGS} hashtags.", field=field)
    if any(len(tag) > MAX_HASHTAG_LENGTH for tag in tags):
        raise BadInput(f"A hashtag is at most {MAX_HASHTAG_LENGTH} characters.", field=field)
    if len(names) > MAX_MENTIONS:
        raise BadInput(f"At most {MAX_MENTIONS} mentions.", field=field)
    return Parsed(tags, names)


def hashtag_name(raw: str) -> str | None:
    """A hashtag as a client may type it ("#Coffee", "coffee"); None when it is not one."""
    tag = raw.strip().removeprefix("#").casefold()
    return tag if tag and len(tag) <= MAX_HASHTAG_LENGTH and _HASHTAG.fullmatch("#" + tag) else None
