"""Process-wide settings, read once from the environment into a frozen record.

Secrets (the profile signing key) come only from here, never from domain files.
Every variable is documented in the README's "Settings" table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from autoconfig.address import AddressError, normalize_domain
from autoconfig.dns.nameserver import parse_nameserver
from autoconfig.proxy import Network, parse_networks
from autoconfig.render.mobileconfig import is_reverse_dns

DEFAULT_DOMAINS_DIR = Path("domains")
# Prefix of every profile's PayloadIdentifier; fixed per deployment (docs/apple.md#identity).
DEFAULT_PROFILE_PREFIX = "org.autoconfig.profile"


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


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, default)
    if value == 0:
        raise SettingsError(f"{name}: expected more than zero; got {env.get(name)!r}")
    return value


def _server_host(env: Mapping[str, str]) -> str | None:
    raw = env.get("AUTOCONFIG_SERVER_HOST")
    if not raw:
        return None
    try:
        return normalize_domain(raw)
    except AddressError as error:
        raise SettingsError(f"AUTOCONFIG_SERVER_HOST: expected a host name; {error}") from None


def _nameserver(env: Mapping[str, str]) -> str | None:
    raw = env.get("AUTOCONFIG_DNS_NAMESERVER")
    if not raw:
        return None
    try:
        parse_nameserver(raw)
    except ValueError as error:
        raise SettingsError(f"AUTOCONFIG_DNS_NAMESERVER: {error}") from None
    return raw


def _profile_prefix(env: Mapping[str, str]) -> str:
    raw = env.get("AUTOCONFIG_PROFILE_PREFIX") or DEFAULT_PROFILE_PREFIX
    if not is_reverse_dns(raw):
        raise SettingsError(
            "AUTOCONFIG_PROFILE_PREFIX: expected a reverse-DNS name such as"
            f" 'com.example.autoconfig'; got {raw!r}"
        )
    return raw


def _trusted_proxies(env: Mapping[str, str]) -> tuple[Network, ...]:
    try:
        return parse_networks(env.get("AUTOCONFIG_TRUSTED_PROXIES", ""))
    except ValueError as error:
        raise SettingsError(f"AUTOCONFIG_TRUSTED_PROXIES: {error}") from None


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
    # DNS (docs/dns.md): the host autoconfig./autodiscover. names point at, the
    # resolver for MX-hosted domains ("IP[:PORT]"; empty = the system's) and its timeout.
    server_host: str | None = None
    dns_nameserver: str | None = None
    dns_timeout: float = 2.0
    mx_cache_size: int = 10000
    # The one reverse proxy (nginx) whose X-Forwarded-For/-Proto are believed, as
    # addresses or networks; empty when clients connect directly (README "Deploying").
    trusted_proxies: tuple[Network, ...] = ()

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
            profile_prefix=_profile_prefix(env),
            server_host=_server_host(env),
            dns_nameserver=_nameserver(env),
            dns_timeout=_positive(env, "AUTOCONFIG_DNS_TIMEOUT", 2.0),
            mx_cache_size=int(_number(env, "AUTOCONFIG_MX_CACHE_SIZE", 10000)),
            trusted_proxies=_trusted_proxies(env),
        )

    def with_domains(self, directory: Path) -> Settings:
        """A copy serving another directory (the CLI's ``--domains``)."""
        return replace(self, domains_dir=directory)
