"""Configuration: defaults, then ``instance/frontdesk.toml``, then ``FRONTDESK_*`` variables.

Environment values are read as JSON when they parse as JSON (numbers, booleans, lists, objects) and
as plain strings otherwise, so ``FRONTDESK_PLUGINS='["email"]'`` and
``FRONTDESK_DATABASE_URL=postgresql+psycopg://...`` both work.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

ENV_PREFIX = "FRONTDESK_"

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,
    "DATABASE_URL": None,  # None: sqlite:///<instance>/frontdesk.db
    "REDIS_URL": None,
    "PLUGINS": None,  # None: every installed plugin
    "PLUGINS_DISABLED": [],
    "PLUGINS_CONFIG": {},
    "SAFE_MODE": False,
    "TICKET_NUMBER_PREFIX": "FD-",
    "TICKET_NUMBER_START": 1000,
    "SUBJECT_TAG": "[Ticket#{number}]",
    "DEFAULT_LANGUAGE": "en",
    "LANGUAGES": ["en", "it", "ro", "ru", "fa"],
    "DEFAULT_TIMEZONE": "UTC",
    "ATTACHMENT_DIR": None,  # None: <instance>/attachments
    "MAX_ATTACHMENT_BYTES": 25 * 1024 * 1024,
    "MAX_ATTACHMENTS_PER_MESSAGE": 50,
    "MAX_CONTENT_LENGTH": 60 * 1024 * 1024,
    "MAX_JSON_BYTES": 2 * 1024 * 1024,
    "MAX_SUBJECT_LENGTH": 500,
    "MAX_BODY_LENGTH": 1_000_000,
    "API_PAGE_SIZE": 25,
    "API_MAX_PAGE_SIZE": 100,
    "JOBS_BACKEND": None,  # None: "rq" when REDIS_URL is set, else "inprocess"
    "JOBS_EAGER": False,  # run enqueued jobs at once, in the caller (tests)
    "JOBS_THREADS": 4,
    "JOB_LEASE_SECONDS": 300,
    "JOBS_POLL_SECONDS": 1,
    "JOB_RETRY_DELAY": 10,
    "JOBS_KEEP_SECONDS": 7 * 24 * 3600,
    "JOBS_QUEUE": "frontdesk",
    "JOBS_REDIS_PREFIX": "frontdesk:",
    "JOB_TIMEOUT": 1800,
    "CHECK_MIGRATIONS": True,
    "PASSWORD_MIN_LENGTH": 8,
    "PASSWORD_HASH_PARAMS": {},  # argon2 PasswordHasher arguments; {} keeps its safe defaults
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_SIGNIN_PER_IP": [30, 300],
    "RATELIMIT_SIGNIN_PER_EMAIL": [10, 300],
    "PROXY_FIX_HOPS": 0,  # reverse proxies in front that set X-Forwarded-For/-Proto/-Host
    "SOCKETIO_ALLOWED_ORIGINS": [],
    "SQL_ECHO": False,
    "DESK_DUE_SOON_HOURS": 4,
    "PORTAL_SIGNIN_LINK_MINUTES": 30,
    "RATELIMIT_SIGNIN_LINK_PER_IP": [20, 3600],
    "RATELIMIT_SIGNIN_LINK_PER_EMAIL": [5, 3600],
    "THEME": "default",
    "TEMPLATE_OVERRIDES_DIR": None,  # None: <instance>/templates
}


def _parse_env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def load_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, the instance TOML file, the environment and ``overrides`` (highest last)."""
    config = dict(DEFAULTS)
    toml_path = instance_path / "frontdesk.toml"
    if toml_path.exists():
        with toml_path.open("rb") as fh:
            try:
                data = tomllib.load(fh)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{toml_path}: {exc}") from exc
        config.update({key.upper(): value for key, value in data.items()})
    for name, raw in os.environ.items():
        if name.startswith(ENV_PREFIX) and name != "FRONTDESK_INSTANCE_PATH":
            config[name[len(ENV_PREFIX) :]] = _parse_env_value(raw)
    if not config.get("REDIS_URL") and os.environ.get("REDIS_URL"):
        config["REDIS_URL"] = os.environ["REDIS_URL"]  # the usual name on hosting platforms
    if overrides:
        config.update(overrides)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'frontdesk.db'}"
    if not config.get("ATTACHMENT_DIR"):
        config["ATTACHMENT_DIR"] = str(instance_path / "attachments")
    if not config.get("JOBS_BACKEND"):
        config["JOBS_BACKEND"] = "rq" if config.get("REDIS_URL") else "inprocess"
    _check_types(config)
    return config


def _check_types(config: dict[str, Any]) -> None:
    for key in ("PLUGINS_DISABLED", "LANGUAGES"):
        if not isinstance(config[key], list):
            raise ConfigError(f"{key} must be a list, got {config[key]!r}")
    if config["PLUGINS"] is not None and not isinstance(config["PLUGINS"], list):
        raise ConfigError(f"PLUGINS must be a list of plugin names, got {config['PLUGINS']!r}")
    if not isinstance(config["PLUGINS_CONFIG"], dict):
        raise ConfigError("PLUGINS_CONFIG must be a table keyed by plugin name")
    if config["JOBS_BACKEND"] not in ("inprocess", "rq"):
        raise ConfigError(f"JOBS_BACKEND must be 'inprocess' or 'rq', got {config['JOBS_BACKEND']!r}")


def default_instance_path() -> Path:
    """``FRONTDESK_INSTANCE_PATH``, else ``./instance``."""
    return Path(os.environ.get("FRONTDESK_INSTANCE_PATH") or Path.cwd() / "instance").resolve()


class ConfigError(RuntimeError):
    """A configuration value is missing or wrong; the message names the key."""
