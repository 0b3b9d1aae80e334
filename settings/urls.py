"""The URLs settings hold: the schemes each accepts, and PostgreSQL URLs as asyncpg takes them."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from settings.parsing import SettingsError

DATABASE_SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres", "sqlite+aiosqlite")
REDIS_SCHEMES = ("redis", "rediss", "redis+cluster", "rediss+cluster")
SMTP_SCHEMES = ("smtp", "smtps")
POSTGRES_SCHEMES = ("postgresql+asyncpg", "postgresql", "postgres")
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error")


def check_userinfo(name: str, url: str | None) -> None:
    """A password with a raw `@` moves the host into the password: say how to write it."""
    authority = urlsplit(url or "").netloc
    if authority.count("@") > 1:
        host = authority.rpartition("@")[2]
        raise SettingsError(
            f"{name}: the password or user name contains '@': percent-encode it as %40 (p@ss becomes "
            f"p%40ss), so that the host reads {host}"
        )


def asyncpg_url(url: str) -> str:
    """Providers hand out `postgres://` and `postgresql://` URLs, often with `?sslmode=`: the
    same database through asyncpg, which calls that parameter `ssl`."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "postgresql+asyncpg"):
        return url
    query = urlencode(
        [
            ("ssl" if key == "sslmode" else key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
    )
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg", query=query))
