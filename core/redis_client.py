"""One Redis client type for a single server and for a Redis Cluster.

`REDIS_URL=redis+cluster://host:6379` (or `rediss+cluster://` for TLS) names any node of a
cluster; the client discovers the others and routes each command by its key's slot. Every
operation the app makes touches one key (a feed set, a rate-limit window, a persisted query, a
read-your-writes mark), so nothing needs a hash tag to keep keys together.
"""

from __future__ import annotations

from typing import Any, TypeAlias
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

RedisClient: TypeAlias = Redis | RedisCluster


def is_cluster_url(url: str) -> bool:
    return urlsplit(url).scheme.endswith("+cluster")


def node_url(url: str) -> str:
    """`redis+cluster://host:port` as the plain `redis://host:port` redis-py parses (no database)."""
    parts = urlsplit(url)
    scheme = parts.scheme.removesuffix("+cluster")
    return urlunsplit(parts._replace(scheme=scheme, path="" if is_cluster_url(url) else parts.path))


def open_redis(url: str, **options: Any) -> RedisClient:
    """A client for REDIS_URL; nothing is sent until the first command."""
    if is_cluster_url(url):
        return RedisCluster.from_url(node_url(url), **options)
    return Redis.from_url(url, **options)
