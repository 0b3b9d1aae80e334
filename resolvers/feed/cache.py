"""Feeds in Redis: one sorted set per user holding the newest pushed posts of the accounts they follow.

Layout of `feed:{user_id}` (all scores 0, so members sort by their bytes):
- one member per post, `{post_id:020d}:{author_id}`: fixed-width ids sort by time, and the author
  suffix lets unfollow and block drop an author's posts without asking SQL;
- one floor marker, `!{post_id:020d}`, which sorts below every post. Its presence means the set
  was built from SQL; its value says from which id down the set may be incomplete (posts trimmed
  away to keep the newest `cap`). A set without a marker is missing or evicted, and is rebuilt.

Each script touches one key, so the layout works on Redis Cluster as it is: a pipeline is split
by node, each script runs where its key lives. Scripts are pipelined as EVALSHA, and loaded again
on every node when one answers NOSCRIPT (a node restarted, or a replica promoted).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from core.redis_client import RedisClient

FLOOR = "!"
WIDTH = 20

# ARGV: cap, ttl, mode ("push" or "build"), floor ("" for none), members...
_ADD = """
local key, cap = KEYS[1], tonumber(ARGV[1])
for i = 5, #ARGV do redis.call('ZADD', key, 0, ARGV[i]) end
local lowest = redis.call('ZRANGE', key, 0, 0)[1]
local floor = nil
if lowest and string.sub(lowest, 1, 1) == '!' then floor = string.sub(lowest, 2) end
local wanted = ARGV[4]
if wanted ~= '' and (ARGV[3] == 'build' or floor) and (floor == nil or wanted > floor) then
  if floor then redis.call('ZREM', key, '!' .. floor) end
  floor = wanted
  redis.call('ZADD', key, 0, '!' .. floor)
end
if not lowest and not floor then return 0 end
local extra = floor and 1 or 0
local n = redis.call('ZCARD', key) - extra
if n > cap then
  redis.call('ZREMRANGEBYRANK', key, extra, extra + n - cap - 1)
  if floor then
    local oldest = string.sub(redis.call('ZRANGE', key, 1, 1)[1], 1, 20)
    if oldest > floor then
      redis.call('ZREM', key, '!' .. floor)
      redis.call('ZADD', key, 0, '!' .. oldest)
    end
  end
end
redis.call('EXPIRE', key, ARGV[2])
return 1
"""

# ARGV: ":{author_id}"
_REMOVE_AUTHOR = """
local suffix = ARGV[1]
local removed = 0
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(member, -#suffix) == suffix then
    redis.call('ZREM', KEYS[1], member)
    removed = removed + 1
  end
end
return removed
"""


def member(post_id: int, author_id: int) -> str:
    return f"{post_id:0{WIDTH}d}:{author_id}"


def _floor(post_id: int) -> str:
    return f"{post_id:0{WIDTH}d}"


@dataclass(frozen=True)
class Window:
    """One read of a user's set: post ids below a bound, newest first."""

    built: bool
    post_ids: list[int]
    reached_bottom: bool  # every member below the bound was returned
    floor: int  # below this id the set may be incomplete (0: complete)


ScriptCall = tuple[AsyncScript, str, list[Any]]


class FeedCache:
    def __init__(self, redis: RedisClient, *, cap: int, ttl_seconds: int) -> None:
        self.redis = redis
        self.cap = cap
        self.ttl = ttl_seconds
        self._add = redis.register_script(_ADD)
        self._remove_author = redis.register_script(_REMOVE_AUTHOR)
        self.round_trips = 0

    @staticmethod
    def key(user_id: int) -> str:
        return f"feed:{user_id}"

    async def read(self, user_id: int, below: int | None, count: int) -> Window:
        key = self.key(user_id)
        top = f"({_floor(below)}" if below is not None else "+"
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrevrangebylex(key, top, "-", start=0, num=count + 1)
            pipe.zrange(key, 0, 0)
            pipe.expire(key, self.ttl)
            members, lowest, _ = await pipe.execute()
        self.round_trips += 1
        lowest_text = lowest[0].decode() if lowest else ""
        built = lowest_text.startswith(FLOOR)
        ids = [int(m[:WIDTH]) for m in (raw.decode() for raw in members) if not m.startswith(FLOOR)]
        # count + 1 members were asked for: at most `count` posts means the range ran out.
        floor = int(lowest_text[1:]) if built else 0
        return Window(built, ids[:count], reached_bottom=len(ids) <= count, floor=floor)

    async def build(self, user_id: int, members: Sequence[str], floor: int) -> None:
        """Mark the set built (with what SQL says it holds), keeping anything pushed meanwhile."""
        await self._add(keys=[self.key(user_id)], args=[self.cap, self.ttl, "build", _floor(floor), *members])
        self.round_trips += 1

    async def push(self, entries: Iterable[tuple[int, Sequence[str], int | None]]) -> None:
        """Add members to many users' sets in one round trip: (user id, members, raise floor to)."""
        calls: list[ScriptCall] = []
        for user_id, members, floor in entries:
            args: list[Any] = [self.cap, self.ttl, "push", "" if floor is None else _floor(floor)]
            calls.append((self._add, self.key(user_id), [*args, *members]))
        await self._run(calls)

    async def remove_author(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Drop every post of `author` from `user`'s set, for each (user, author)."""
        await self._run(
            [(self._remove_author, self.key(user_id), [f":{author_id}"]) for user_id, author_id in pairs]
        )

    async def _run(self, calls: list[ScriptCall]) -> None:
        """Single-key scripts in one pipeline (one round trip per node); every script is
        idempotent, so after a NOSCRIPT the whole pipeline runs again once the scripts are loaded."""
        for attempt in range(2):
            async with self.redis.pipeline(transaction=False) as pipe:
                for script, key, args in calls:
                    pipe.execute_command("EVALSHA", script.sha, 1, key, *args)
                try:
                    await pipe.execute()
                except NoScriptError:
                    if attempt:
                        raise
                    for script in {id(call[0]): call[0] for call in calls}.values():
                        await self.redis.script_load(script.script)
                    continue
            self.round_trips += 1
            return

    async def remove_post(self, user_ids: Iterable[int], post_id: int, author_id: int) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.zrem(self.key(user_id), member(post_id, author_id))
            await pipe.execute()
        self.round_trips += 1

    async def drop(self, user_ids: Iterable[int]) -> None:
        """Forget users' sets: they are rebuilt from SQL when those users read again."""
        keys = [self.key(user_id) for user_id in user_ids]
        if keys:
            await self.redis.delete(*keys)
            self.round_trips += 1
