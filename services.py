"""Opening and closing the adapters behind `Services`: database, Redis, rate limits."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable

from core.clock import Clock, SystemClock
from core.context import Services
from core.database import Database
from core.id_leases import NodeLease
from core.ids import IdGenerator
from core.mail import open_mailer
from core.observability import DELIVERY_LAG, DEPENDENCY_UP, JOB_ITEMS, JOB_RUNS
from core.outbox import OutboxDrain
from core.passwords import Passwords
from core.rate_limiter import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from core.redis_client import RedisClient, open_redis
from core.replicas import ReadRouter
from core.token_cache import TokenCache
from media import PROCESSING_RESULTS, LocalStorage, Storage, WorkerPool
from media.s3 import S3Storage
from migrations.runner import ensure_at_head, upgrade_to_head
from resolvers.accounts.export import sweep_expired_exports
from resolvers.accounts.session_activity import flush_session_activity
from resolvers.effects import HANDLERS
from resolvers.media.reconciliation import show_last_reconciliation
from resolvers.media.uploads import sweep_abandoned_uploads
from resolvers.safety.holds import release_report_holds
from resolvers.stories.sweeper import sweep_expired_stories
from settings import Settings
from startup import (
    StartupError,
    database_problem,
    explained,
    redis_mode_problem,
    redis_problem,
    storage_problem,
)
from subscriptions import PubSub

log = logging.getLogger("ephemera")


def local_storage(settings: Settings, clock: Clock) -> LocalStorage:
    """The embedded media store: files under DATA_DIR/media, uploads and downloads through the app."""
    (settings.data_dir / "media").mkdir(parents=True, exist_ok=True)
    return LocalStorage(
        settings.data_dir / "media",
        secret=hashlib.sha256(f"media:{settings.secret_key}".encode()).digest(),
        base_url=settings.base_url,
        public_base_url=settings.media_public_base_url,
        clock=clock.now,
        max_upload_size=max(settings.media_max_image_bytes, settings.media_max_video_bytes),
    )


async def open_storage(settings: Settings, clock: Clock, local: LocalStorage | None) -> Storage:
    storage: Storage
    if settings.s3_bucket:
        storage = await S3Storage.open(
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url,
            public_base_url=settings.media_public_base_url,
            clock=clock.now,
        )
    else:
        storage = local or local_storage(settings, clock)
    try:
        await storage.check()
    except BaseException:
        await storage.close()
        raise
    return storage


async def open_services(
    settings: Settings, clock: Clock | None = None, local: LocalStorage | None = None
) -> Services:
    clock = clock or SystemClock()
    db = Database.open(settings.effective_database_url, settings.database_pool_size)
    redis: RedisClient | None = None
    storage: Storage | None = None
    lease: NodeLease | None = None
    pubsub = PubSub(settings.redis_url or "memory://", queue_size=settings.subscription_queue_size)
    pubsub.on_delivery = DELIVERY_LAG.observe
    ids = IdGenerator(settings.node_id, clock)
    try:
        # Every service answers before anything changes: a Redis or bucket mistake is said before
        # the embedded database is created or migrated.
        limiter: RateLimiter = MemoryRateLimiter(clock)
        if settings.redis_url:
            redis = open_redis(settings.redis_url, health_check_interval=30, socket_connect_timeout=5)
            with explained(redis_problem, settings):
                await redis.ping()
                cluster = await redis.info("cluster")
            mode = redis_mode_problem(settings, cluster_enabled=bool(cluster.get("cluster_enabled")))
            if mode is not None:
                raise StartupError(mode)
            limiter = RedisRateLimiter(redis, clock)
        with explained(storage_problem, settings):
            storage = await open_storage(settings, clock, local)
        with explained(database_problem, settings):
            if settings.should_migrate_on_start:
                if db.is_sqlite:
                    settings.data_dir.mkdir(parents=True, exist_ok=True)
                await upgrade_to_head(db.url)
            await ensure_at_head(db.writer)
        if redis is not None and settings.database_replica_urls:
            db.router = ReadRouter.open(
                db.writer,
                settings.effective_replica_urls,
                redis,
                max_lag=settings.replica_max_lag_seconds,
                interval=settings.replica_check_interval_seconds,
                pool_size=settings.database_pool_size,
            )
            db.router.start()  # until its first check, every read goes to the primary
        if settings.node_id is None:
            lease = NodeLease(db, ids)
            with explained(database_problem, settings):
                await lease.acquire()
            lease.keep_renewed()
        with explained(redis_problem, settings):
            await pubsub.connect()
        tokens = TokenCache(settings.token_cache_seconds)
        tokens.watch(pubsub)
    except BaseException:
        if lease is not None:
            await lease.release()
        if storage is not None:
            await storage.close()
        await db.close()
        if redis is not None:
            await redis.aclose()
        raise
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        ids=ids,
        passwords=Passwords(settings.password_time_cost, settings.password_memory_kib),
        limiter=limiter,
        storage=storage,
        pubsub=pubsub,
        outbox=OutboxDrain(HANDLERS, max_attempts=settings.outbox_max_attempts),
        media_workers=media_workers(settings),
        tokens=tokens,
        redis=redis,
        lease=lease,
        mailer=open_mailer(settings.smtp_url, settings.data_dir),
    )


def media_workers(settings: Settings) -> WorkerPool:
    """Processes that decode uploads; started on the first upload, not at start-up."""
    return WorkerPool(
        settings.media_workers,
        settings.media_process_timeout_seconds,
        preload=["media.processing"],
        results=PROCESSING_RESULTS,
        memory_limit=settings.media_worker_memory_mb * 1024 * 1024 or None,
    )


async def close_services(services: Services) -> None:
    await services.tokens.stop()
    await services.outbox.wait_in_flight()
    try:
        await flush_session_activity(services)
    except Exception:
        log.warning("could not record the last use of sessions", exc_info=True)
    await services.media_workers.close()
    await services.pubsub.disconnect()
    if services.lease is not None:
        try:
            await services.lease.release()
        except Exception:
            log.warning("could not release the id lease; it lapses by itself", exc_info=True)
    await services.storage.close()
    await services.db.close()
    if services.redis is not None:
        await services.redis.aclose()


READY_TIMEOUT_SECONDS = 2.0


async def check_ready(services: Services) -> dict[str, str]:
    """What /readyz reports: each dependency "ok" or "unavailable" (the error goes to the log, not to
    whoever asks), also kept in the `ephemera_dependency_up` gauge."""
    probes: dict[str, Callable[[], Awaitable[object]]] = {"database": services.db.ping}
    if services.redis is not None:
        probes["redis"] = services.redis.ping
    status: dict[str, str] = {}
    seen: dict[str, str] = services.extras.setdefault("readiness", {})
    for name, ping in probes.items():
        try:
            await asyncio.wait_for(ping(), READY_TIMEOUT_SECONDS)
            status[name] = "ok"
        except Exception as exc:
            status[name] = "unavailable"
            if seen.get(name) != "unavailable":  # once per outage, not once per probe
                log.warning("readiness: %s is unavailable (%s: %s)", name, type(exc).__name__, exc)
        if status[name] == "ok" and seen.get(name) == "unavailable":
            log.info("readiness: %s answers again", name)
        seen[name] = status[name]
        DEPENDENCY_UP.labels(name).set(1 if status[name] == "ok" else 0)
    return status


Job = Callable[[Services], Awaitable[int]]


def background_jobs(services: Services) -> list[tuple[str, Job, float]]:
    """Periodic maintenance each process runs; every job is idempotent and safe to run concurrently."""
    settings = services.settings
    jobs: list[tuple[str, Job, float]] = [
        ("abandoned-uploads", sweep_abandoned_uploads, settings.cleanup_interval_seconds),
        ("expired-stories", sweep_expired_stories, settings.story_sweep_interval_seconds),
        ("outbox", services.outbox.drain, settings.fanout_interval_seconds),
        ("media-report", show_last_reconciliation, settings.cleanup_interval_seconds),
        ("session-activity", flush_session_activity, 30),
        ("expired-exports", sweep_expired_exports, settings.cleanup_interval_seconds),
        ("report-holds", release_report_holds, settings.cleanup_interval_seconds),
    ]
    return jobs


async def run_periodically(services: Services, name: str, job: Job, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            done = await job(services)
        except Exception:
            JOB_RUNS.labels(name, "error").inc()
            log.exception("job %s failed; will retry", name)
            continue
        JOB_RUNS.labels(name, "ok").inc()
        JOB_ITEMS.labels(name).inc(done)
        if done:
            log.info("job %s processed %d items", name, done)
