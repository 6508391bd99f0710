"""Process-wide settings, read once from the environment into a frozen record.

Secrets (the profile signing key) come only from here, never from domain files.
Every variable is documented in the README's "Settings" table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_DOMAINS_DIR = Path("domains")


class SettingsError(ValueError):
    """An environment variable holds a value we cannot use."""


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number; got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name}: expected zero or more; got {raw!r}")
    return value


def _path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name)
    return Path(raw) if raw else None


@dataclass(frozen=True, slots=True)
class Settings:
    """How this process serves: where the domain files are, caching, signing."""

    domains_dir: Path = DEFAULT_DOMAINS_DIR
    reload_interval: float = 5.0
    cache_max_age: int = 3600
    signing_cert: Path | None = None
    signing_key: Path | None = None
    signing_chain: Path | None = None
    profile_prefix: str = "org.autoconfig.profile"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``AUTOCONFIG_*`` variables (``os.environ`` by default)."""
        env = os.environ if env is None else env
        return cls(
            domains_dir=Path(env.get("AUTOCONFIG_DOMAINS") or DEFAULT_DOMAINS_DIR),
            reload_interval=_number(env, "AUTOCONFIG_RELOAD_INTERVAL", 5.0),
            cache_max_age=int(_number(env, "AUTOCONFIG_CACHE_MAX_AGE", 3600)),
            signing_cert=_path(env, "AUTOCONFIG_SIGNING_CERT"),
            signing_key=_path(env, "AUTOCONFIG_SIGNING_KEY"),
            signing_chain=_path(env, "AUTOCONFIG_SIGNING_CHAIN"),
            profile_prefix=env.get("AUTOCONFIG_PROFILE_PREFIX") or "org.autoconfig.profile",
        )

    def with_domains(self, directory: Path) -> Settings:
        """A copy serving another directory (the CLI's ``--domains``)."""
        return replace(self, domains_dir=directory)
