"""What keeps the process from starting, each said in one line that names the setting and the fix.

One function per check, its message beside it. The command line (commands.py) prints a
`StartupError` as that line, without a traceback unless LOG_LEVEL=debug, and exits with status 2.
Opening the services (services.py) translates what the database, Redis and storage raise through
`explained(...)`.
"""

from __future__ import annotations

import errno
import socket
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import asyncpg
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from redis.exceptions import AuthenticationError, AuthenticationWrongNumberOfArgsError, RedisClusterException
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.engine import make_url

from media.storage import StorageUnavailable
from migrations.runner import NotMigrated
from server.trusted import ManifestError
from settings import Settings, SettingsError


class StartupError(Exception):
    """The environment keeps the process from starting; the message names the setting and the fix."""


# Everything an operator can fix from the message alone: printed as one line, no traceback.
OPERATOR_ERRORS = (StartupError, SettingsError, NotMigrated, ManifestError)

Explain = Callable[[BaseException, Settings], str | None]


@contextmanager
def explained(explain: Explain, settings: Settings) -> Iterator[None]:
    """Re-raise what `explain` recognises as a `StartupError` with its message; anything else as is."""
    try:
        yield
    except OPERATOR_ERRORS:
        raise
    except Exception as exc:
        message = explain(exc, settings)
        if message is None:
            raise
        raise StartupError(message) from exc


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (SQLAlchemy's `.orig`) and what caused it, outermost first."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]


def _reason(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return text.strip().rstrip(".") or type(exc).__name__


def _listing(items: list[str]) -> str:
    return " and ".join(filter(None, [", ".join(items[:-1]), items[-1]]))


def listening_socket(settings: Settings) -> socket.socket:
    """HOST:PORT, bound before any slow work so that a port in use is the first thing said.

    With several workers it is bound with SO_REUSEPORT and never listens: each worker binds and
    listens on its own socket at the same address, and the kernel spreads new connections over
    them evenly (one shared socket lets whichever worker wakes first take them all)."""
    host, port = settings.host, settings.port
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise StartupError(
            f"HOST {host!r} is not a name or address of this machine ({_reason(exc)}): "
            "set HOST to 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
        ) from exc
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if settings.web_concurrency > 1:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise StartupError(_bind_problem(host, port, exc)) from exc
    return sock


def _bind_problem(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"PORT {port} is already in use on {host}: stop the program listening there "
            "or set PORT to a free port"
        )
    if exc.errno == errno.EACCES:
        return f"PORT {port} needs administrator rights on {host}: set PORT to 1024 or above"
    return (
        f"cannot listen on HOST {host} PORT {port} ({_reason(exc)}): set HOST to 127.0.0.1 or 0.0.0.0 "
        "and PORT to a free port"
    )


def check_data_dir(settings: Settings) -> None:
    """DATA_DIR exists (created if need be) and takes new files, when anything is kept there."""
    uses = [
        what
        for what, kept_there in (
            ("the SQLite database", settings.is_sqlite),
            ("media files", not settings.s3_bucket),
            ("the generated secret key", not settings.secret_key),
        )
        if kept_there
    ]
    if not uses:
        return
    path = settings.data_dir.absolute()
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise StartupError(
            f"DATA_DIR {path} is not writable ({_reason(exc)}); it holds {_listing(uses)}: "
            "make it writable by the user the server runs as, or set DATA_DIR to a directory that is"
        ) from exc


def database_problem(exc: BaseException, settings: Settings) -> str | None:
    """Why the database could not be opened, when it is the environment's doing."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        for cause in _causes(exc):
            if isinstance(cause, sqlite3.OperationalError) and "unable to open" in str(cause):
                return (
                    f"DATABASE_URL: cannot open the SQLite file {url.database} ({cause}): "
                    "make its directory exist and writable, or fix the path"
                )
        return None
    host, port = url.host or "localhost", url.port or 5432
    where = f"{host}:{port}"
    for cause in _causes(exc):
        if isinstance(cause, asyncpg.InvalidCatalogNameError):
            createdb = f"createdb -h {host} -p {port} -U {url.username or 'postgres'} {url.database}"
            return (
                f'DATABASE_URL: database "{url.database}" does not exist on {where}: create it '
                f"({createdb}) or fix the database name in DATABASE_URL"
            )
        if isinstance(cause, asyncpg.InvalidAuthorizationSpecificationError):
            return (
                f'DATABASE_URL: PostgreSQL on {where} refused user "{url.username}" ({_reason(cause)}): '
                "fix the user name and password in DATABASE_URL"
            )
        if isinstance(cause, asyncpg.CannotConnectNowError | asyncpg.TooManyConnectionsError):
            return (
                f"DATABASE_URL: PostgreSQL on {where} takes no connection now ({_reason(cause)}): try again"
            )
        if isinstance(cause, OSError):
            return (
                f"DATABASE_URL: cannot reach PostgreSQL on {where} ({_reason(cause)}): start it, "
                "or fix the host and port in DATABASE_URL"
            )
    return None


def redis_problem(exc: BaseException, settings: Settings) -> str | None:
    url = urlsplit(settings.redis_url or "")
    where = f"{url.hostname or 'localhost'}:{url.port or 6379}"
    for cause in _causes(exc):
        if isinstance(cause, RedisClusterException) and "not enabled" in str(cause):
            return redis_mode_problem(settings, cluster_enabled=False)
        if isinstance(cause, AuthenticationError | AuthenticationWrongNumberOfArgsError):
            if url.password is None:
                return (
                    f"REDIS_URL: Redis on {where} requires a password: put it in REDIS_URL "
                    f"({url.scheme}://:PASSWORD@{where}/0)"
                )
            return f"REDIS_URL: Redis on {where} refused the password ({_reason(cause)}): fix it in REDIS_URL"
        if isinstance(cause, RedisConnectionError | RedisTimeoutError | OSError):
            tls = " (rediss:// expects TLS: check the server speaks it)" if url.scheme == "rediss" else ""
            return (
                f"REDIS_URL: cannot reach Redis on {where} ({_reason(cause)}){tls}: start it, "
                "or fix the host and port in REDIS_URL"
            )
    return None


def redis_mode_problem(settings: Settings, *, cluster_enabled: bool) -> str | None:
    """REDIS_URL's scheme must say whether it names a Redis Cluster: the client differs."""
    if cluster_enabled == settings.redis_cluster:
        return None
    url = urlsplit(settings.redis_url or "")
    where = f"{url.hostname or 'localhost'}:{url.port or 6379}"
    if cluster_enabled:
        return (
            f"REDIS_URL: Redis on {where} is a Redis Cluster node: write REDIS_URL as "
            f"{url.scheme}+cluster://{where} so that each key goes to the node that holds it"
        )
    return (
        f"REDIS_URL: {url.scheme}:// names a Redis Cluster, but Redis on {where} is not in cluster mode: "
        f"write REDIS_URL as {url.scheme.removesuffix('+cluster')}://{where}/0"
    )


def storage_problem(exc: BaseException, settings: Settings) -> str | None:
    if not isinstance(exc, StorageUnavailable):
        return None
    if not settings.s3_bucket:
        return f"DATA_DIR: {exc}: make it writable, or set S3_BUCKET to keep media in object storage"
    bucket, endpoint = settings.s3_bucket, settings.s3_endpoint_url or "AWS S3"
    for cause in _causes(exc):
        if isinstance(cause, NoCredentialsError):
            return (
                "S3_BUCKET is set but no AWS credentials were found: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or give the process a profile or role)"
            )
        if isinstance(cause, EndpointConnectionError):
            return (
                f"S3_ENDPOINT_URL: nothing answers at {endpoint} ({_reason(cause)}): start the store, "
                "or fix S3_ENDPOINT_URL"
            )
        if isinstance(cause, ClientError):
            code = str(cause.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket", "NotFound"):
                # The AWS CLI talks to AWS unless told where the S3-compatible store is.
                at = f"--endpoint-url {settings.s3_endpoint_url} " if settings.s3_endpoint_url else ""
                return (
                    f'S3_BUCKET: bucket "{bucket}" does not exist at {endpoint}: create it '
                    f"(aws {at}s3 mb s3://{bucket}) or fix S3_BUCKET"
                )
            if code in ("403", "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return (
                    f'S3_BUCKET: {endpoint} refused access to bucket "{bucket}" ({code}): check '
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and that they may use that bucket"
                )
            if code in ("301", "PermanentRedirect", "AuthorizationHeaderMalformed"):
                return f'S3_REGION: bucket "{bucket}" is in another region: set S3_REGION to its region'
    return f"S3_BUCKET: {exc}"


def production_warnings(settings: Settings) -> list[str]:
    """Settings that work, but not for a production service: one line each, logged at start."""
    if not settings.is_production:
        return []
    checks = (
        (
            settings.is_sqlite,
            "ENV=production on the embedded SQLite database: set DATABASE_URL to PostgreSQL "
            "(one process only, no replicas, backups are yours)",
        ),
        (
            not settings.s3_bucket,
            f"ENV=production with media on local disk ({settings.data_dir.absolute() / 'media'}): "
            "set S3_BUCKET, or no other process can serve these files",
        ),
        (
            settings.metrics_port is None and settings.metrics_token is None,
            "ENV=production without METRICS_PORT or METRICS_TOKEN: /metrics is served nowhere; set "
            "METRICS_PORT (a listener of its own, on METRICS_HOST=127.0.0.1 by default) or METRICS_TOKEN "
            "(/metrics on PORT behind Authorization: Bearer)",
        ),
        (
            settings.graphiql is True,
            "GRAPHIQL=true with ENV=production: anyone can open GraphiQL at /graphql "
            "(introspection stays off); unset GRAPHIQL unless that is meant",
        ),
    )
    return [message for applies, message in checks if applies]
