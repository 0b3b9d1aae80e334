"""The app's services: the adapters every request and job shares, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.clock import Clock
    from core.database import Database
    from core.id_leases import NodeLease
    from core.ids import IdGenerator
    from core.mail import Mailer
    from core.outbox import OutboxDrain
    from core.passwords import Passwords
    from core.rate_limiter import RateLimiter
    from core.redis_client import RedisClient
    from core.token_cache import TokenCache
    from media.storage import Storage
    from media.workers import WorkerPool
    from settings import Settings
    from subscriptions import PubSub


@dataclass
class Services:
    """Built once per process by the app factory; shared by every request."""

    settings: Settings
    db: Database
    clock: Clock
    ids: IdGenerator
    passwords: Passwords
    limiter: RateLimiter
    storage: Storage
    pubsub: PubSub
    outbox: OutboxDrain[Services]
    media_workers: WorkerPool
    tokens: TokenCache
    redis: RedisClient | None = None
    lease: NodeLease | None = None
    mailer: Mailer | None = None
    extras: dict[str, Any] = field(default_factory=dict)
