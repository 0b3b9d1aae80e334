"""The one place that reads the environment. Everything else receives a `Settings`.

settings/environment.py reads each variable (settings/parsing.py), settings/fields.py holds the
fields and their defaults, settings/validation.py and settings/secret_key.py check them."""

from settings.environment import Settings
from settings.fields import DEFAULT_CORS_HEADERS
from settings.parsing import SettingsError
from settings.secret_key import check_secret_key
from settings.urls import asyncpg_url

__all__ = ["DEFAULT_CORS_HEADERS", "Settings", "SettingsError", "asyncpg_url", "check_secret_key"]
