"""SECRET_KEY: required and checked in production, else generated once and kept in DATA_DIR."""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from typing import TypeVar

from settings.fields import SettingsFields
from settings.parsing import SettingsError

log = logging.getLogger("ephemera.settings")

S = TypeVar("S", bound=SettingsFields)

GENERATE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
MIN_SECRET_BYTES = 32
# Values copied from examples rather than generated (the README's `SECRET_KEY=...` among them).
PLACEHOLDER_SECRETS = frozenset(
    {"...", "x", "changeme", "change-me", "secret", "secret_key", "your-secret-key"}
)


def check_secret_key(key: str) -> None:
    """A production SECRET_KEY is at least 32 bytes and not a placeholder or one repeated character."""
    problem = None
    if key.strip().lower() in PLACEHOLDER_SECRETS or len(set(key)) == 1:
        problem = "is a placeholder"
    elif len(key.encode()) < MIN_SECRET_BYTES:
        problem = f"is {len(key.encode())} bytes long, under {MIN_SECRET_BYTES}"
    if problem is not None:
        raise SettingsError(
            f"SECRET_KEY {problem}: set it to one long random value shared by every process, "
            f"e.g. from: {GENERATE_SECRET}"
        )


def with_secret(settings: S) -> S:
    """Resolve SECRET_KEY: required in production (long and not a placeholder), else generated
    once and kept in DATA_DIR."""
    if settings.secret_key:
        if settings.is_production:
            check_secret_key(settings.secret_key)
        return settings
    if settings.is_production:
        raise SettingsError(
            "SECRET_KEY is required when ENV=production: set it to one long random value shared by every "
            f"process, e.g. from: {GENERATE_SECRET}"
        )
    path = settings.data_dir / "secret_key"
    if path.exists():
        return replace(settings, secret_key=path.read_text().strip())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    log.warning("SECRET_KEY is not set: generated one and stored it in %s", path)
    return replace(settings, secret_key=key)
