"""Opening and closing the adapters behind `Services`: database, Redis, rate limits."""

from __future__ import annotations

import logging

from redis.asyncio import Redis

from migrations.runner import ensure_at_head, upgrade_to_head
from models.database import Database
from resolvers.clock import Clock, SystemClock
from resolvers.context import Services
from resolvers.ids import IdGenerator
from resolvers.passwords import Passwords
from resolvers.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from settings import Settings

log = logging.getLogger("ephemera")


async def open_services(settings: Settings, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    db = Database.open(settings.effective_database_url)
    redis: Redis | None = None
    try:
        if settings.should_migrate_on_start:
            if db.is_sqlite:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            await upgrade_to_head(db.url)
        await ensure_at_head(db.writer)
        limiter: RateLimiter = MemoryRateLimiter(clock)
        if settings.redis_url:
            redis = Redis.from_url(settings.redis_url, health_check_interval=30)
            await redis.ping()
            limiter = RedisRateLimiter(redis, clock)
    except BaseException:
        await db.close()
        if redis is not None:
            await redis.aclose()
        raise
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        ids=IdGenerator(settings.node_id),
        passwords=Passwords(settings.password_time_cost, settings.password_memory_kib),
        limiter=limiter,
        redis=redis,
    )


async def close_services(services: Services) -> None:
    await services.db.close()
    if services.redis is not None:
        await services.redis.aclose()


async def check_ready(services: Services) -> dict[str, str]:
    """What /readyz reports: each dependency 'ok' or the error it gave."""
    status: dict[str, str] = {}
    try:
        await services.db.ping()
        status["database"] = "ok"
    except Exception as exc:
        status["database"] = f"error: {type(exc).__name__}"
    if services.redis is not None:
        try:
            await services.redis.ping()
            status["redis"] = "ok"
        except Exception as exc:
            status["redis"] = f"error: {type(exc).__name__}"
    return status
