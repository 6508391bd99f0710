"""Process-wide settings, read once from the environment into a frozen record.

Secrets (the profile signing key) come only from here, never from domain files.
Every variable is documented in the README's "Settings" table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from autoconfig.address import AddressError, normalize_domain
from autoconfig.dns.nameserver import parse_nameserver
from autoconfig.proxy import Network, parse_networks
from autoconfig.render.mobileconfig import is_reverse_dns

DEFAULT_DOMAINS_DIR = Path("domains")
# Prefix of every profile's PayloadIdentifier; fixed per deployment (SPEC.md 3.4).
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


# --- Directory (LDAP) connection: per-user login names ------------------------------------
# One block for the settings conversion to take whole. Each AUTOCONFIG_LDAP_* variable:
#   _URL                 ldaps://host[:port], or ldap://host[:port] (then StartTLS); unset: none
#   _CA_FILE             PEM file of the CAs that sign the directory's certificate (default: system)
#   _BIND_DN             DN to bind as (unset: anonymous bind)
#   _BIND_PASSWORD_FILE  file holding the bind password (first line); never in a domain file
#   _BIND_PASSWORD       the bind password itself, for platforms that inject secrets as variables
#   _TIMEOUT             seconds for connecting and for each search (default 2)
#   _CACHE_TTL           seconds a found login name is kept (default 300)
#   _NEGATIVE_TTL        seconds a "no such user" answer is kept (default 60)
#   _RETRY_AFTER         seconds the directory is not asked after it failed (default 10)
#   _POOL_SIZE           open connections kept per worker process (default 4)
LDAP_SCHEMES = {"ldaps": 636, "ldap": 389}


@dataclass(frozen=True, slots=True)
class LdapSettings:
    """How to reach the directory; TLS (LDAPS or StartTLS) with verification, always."""

    url: str
    host: str
    port: int
    use_ssl: bool  # ldaps://; otherwise StartTLS before the bind
    ca_file: Path | None = None
    bind_dn: str | None = None
    bind_password: str | None = field(default=None, repr=False)
    timeout: float = 2.0
    cache_ttl: float = 300.0
    negative_ttl: float = 60.0
    retry_after: float = 10.0
    pool_size: int = 4


def _ldap_url(raw: str) -> tuple[str, int, bool]:
    parts = urlsplit(raw)
    try:
        port = parts.port
    except ValueError:
        port = -1
    usable = parts.scheme in LDAP_SCHEMES and parts.hostname and port != -1
    if not usable or parts.path not in ("", "/") or parts.query:
        raise SettingsError(
            "AUTOCONFIG_LDAP_URL: expected ldaps://HOST[:PORT] or ldap://HOST[:PORT];"
            f" got {raw!r}"
        )
    return str(parts.hostname), port or LDAP_SCHEMES[parts.scheme], parts.scheme == "ldaps"


def _ldap_password(env: Mapping[str, str]) -> str | None:
    path = _path(env, "AUTOCONFIG_LDAP_BIND_PASSWORD_FILE")
    direct = env.get("AUTOCONFIG_LDAP_BIND_PASSWORD") or None
    if path is not None and direct is not None:
        raise SettingsError(
            "AUTOCONFIG_LDAP_BIND_PASSWORD_FILE and AUTOCONFIG_LDAP_BIND_PASSWORD are both set;"
            " keep one"
        )
    if path is None:
        return direct
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        message = f"AUTOCONFIG_LDAP_BIND_PASSWORD_FILE: cannot read {path}: {error}"
        raise SettingsError(message) from None
    if not lines or not lines[0]:
        raise SettingsError(f"AUTOCONFIG_LDAP_BIND_PASSWORD_FILE: {path} is empty")
    return lines[0]


def _ldap(env: Mapping[str, str]) -> LdapSettings | None:
    raw = env.get("AUTOCONFIG_LDAP_URL")
    if not raw:
        return None
    host, port, use_ssl = _ldap_url(raw)
    ca_file = _path(env, "AUTOCONFIG_LDAP_CA_FILE")
    if ca_file is not None and not ca_file.is_file():
        raise SettingsError(f"AUTOCONFIG_LDAP_CA_FILE: {ca_file} is not a file")
    return LdapSettings(
        url=raw,
        host=host,
        port=port,
        use_ssl=use_ssl,
        ca_file=ca_file,
        bind_dn=env.get("AUTOCONFIG_LDAP_BIND_DN") or None,
        bind_password=_ldap_password(env),
        timeout=_positive(env, "AUTOCONFIG_LDAP_TIMEOUT", 2.0),
        cache_ttl=_number(env, "AUTOCONFIG_LDAP_CACHE_TTL", 300.0),
        negative_ttl=_number(env, "AUTOCONFIG_LDAP_NEGATIVE_TTL", 60.0),
        retry_after=_number(env, "AUTOCONFIG_LDAP_RETRY_AFTER", 10.0),
        pool_size=max(1, int(_positive(env, "AUTOCONFIG_LDAP_POOL_SIZE", 4))),
    )


# --- end of the directory block --------------------------------------------------------------


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
    # DNS (SPEC.md section 4): the host autoconfig./autodiscover. names point at, the
    # resolver for MX-hosted domains ("IP[:PORT]"; empty = the system's) and its timeout.
    server_host: str | None = None
    dns_nameserver: str | None = None
    dns_timeout: float = 2.0
    mx_cache_size: int = 10000
    # The one reverse proxy (nginx) whose X-Forwarded-For/-Proto are believed, as
    # addresses or networks; empty when clients connect directly (README "Deploying").
    trusted_proxies: tuple[Network, ...] = ()
    # The directory for per-user login names (the LDAP block above); None: none.
    ldap: LdapSettings | None = None

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
            ldap=_ldap(env),
        )

    def with_domains(self, directory: Path) -> Settings:
        """A copy serving another directory (the CLI's ``--domains``)."""
        return replace(self, domains_dir=directory)
