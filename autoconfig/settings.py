"""Every ``AUTOCONFIG_*`` variable, declared once: type, default, what it means.

The declaration is a pydantic-settings model, read once at start-up and validated before
anything is served; the settings table of docs/settings.md is generated from it
(``autoconfig settings --markdown``) and a test keeps the two equal. Secrets (the
profile signing key, the directory's bind password) come only from here, never from
domain files.
"""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import math
import os
import re
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from autoconfig.address import (
    AddressError,
    Network,
    is_reverse_dns,
    normalize_domain,
    parse_nameserver,
    parse_networks,
)
from autoconfig.distribution import LDAP_EXTRA

PREFIX = "AUTOCONFIG_"
DEFAULT_DOMAINS_DIR = Path("domains")
# Prefix of every profile's PayloadIdentifier; fixed per deployment (docs/apple.md#identity).
DEFAULT_PROFILE_PREFIX = "org.autoconfig.profile"


class SettingsError(ValueError):
    """Variables (or options) hold values we cannot use: one line per bad value, so an
    admin fixes them all in one go instead of one per start."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def setting(default: Any, description: str, expected: str, shown: str | None = None) -> Any:
    """One declared variable: its default, its description in docs/settings.md, and what a
    value must look like (the error message says it). ``shown``: the default as docs/settings.md
    writes it when the value itself would not say it (``None`` = "number of CPUs")."""
    return Field(
        default,
        description=description,
        json_schema_extra={"expected": expected, "shown": shown},
    )


class _Explained(ValueError):
    """A parser's own message, which already says what was expected and what came."""


# --- Directory (LDAP) connection: per-user login names ------------------------------------
LDAP_SCHEMES = {"ldaps": 636, "ldap": 389}


@dataclasses.dataclass(frozen=True, slots=True)
class LdapSettings:
    """How to reach the directory; TLS (LDAPS or StartTLS) with verification, always."""

    url: str
    host: str
    port: int
    use_ssl: bool  # ldaps://; otherwise StartTLS before the bind
    ca_file: Path | None = None
    bind_dn: str | None = None
    bind_password: str | None = dataclasses.field(default=None, repr=False)
    timeout: float = 2.0
    cache_ttl: float = 300.0
    negative_ttl: float = 60.0
    retry_after: float = 10.0
    pool_size: int = 4


def _ldap_url(raw: str) -> tuple[str, int, bool]:
    """Host, port and whether it is LDAPS, from ``ldaps://HOST[:PORT]`` or ``ldap://…``.

    A URL with credentials (``ldap://admin:pw@host``) is refused without being echoed:
    the URL is logged and shown by ``autoconfig settings``, the password must not be.
    """
    if "@" in raw:
        raise _Explained(
            "expected no user or password in the URL (it is logged and shown); give them"
            " in AUTOCONFIG_LDAP_BIND_DN and AUTOCONFIG_LDAP_BIND_PASSWORD_FILE"
        )
    parts = urlsplit(raw)
    try:
        port = parts.port
    except ValueError:
        port = -1
    usable = parts.scheme in LDAP_SCHEMES and parts.hostname and port != -1
    if not usable or parts.path not in ("", "/") or parts.query:
        raise _Explained(f"expected ldaps://HOST[:PORT] or ldap://HOST[:PORT]; got {raw!r}")
    return str(parts.hostname), port or LDAP_SCHEMES[parts.scheme], parts.scheme == "ldaps"


def _first_line(path: Path) -> str:
    """The bind password: the first line of its file (a secret mounted as a file)."""
    name = "AUTOCONFIG_LDAP_BIND_PASSWORD_FILE"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise _Explained(f"{name}: cannot read {path}: {error}") from None
    if not lines or not lines[0]:
        raise _Explained(f"{name}: {path} is empty")
    return lines[0]


class _MappingSource(EnvSettingsSource):
    """pydantic-settings' environment source reading a given mapping (tests, or
    ``os.environ``); an empty value means "use the default", as in systemd units."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.env_vars = {key.lower(): value for key, value in environ.items() if value != ""}


class Settings(BaseSettings):
    """How this process serves: where the domain files are, caching, signing, gunicorn."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, case_sensitive=False, frozen=True, extra="forbid"
    )

    domains: Path = setting(
        DEFAULT_DOMAINS_DIR, "directory of domain files (`--domains` overrides)", "a directory",
        shown="./domains",
    )
    reload_interval: float = setting(
        5.0, "seconds between checks for edited files where inotify is missing (with"
        " inotify: the safety check runs every 12 intervals); `0` turns reloading off",
        "a number of seconds, 0 or more",
    )
    cache_max_age: int = setting(
        3600, "`max-age` of the Thunderbird document and of Delta Chat's POX answer",
        "a whole number of seconds, 0 or more",
    )
    signing_cert: Path | None = setting(
        None, "PEM certificate that signs Apple profiles; may be a full chain (leaf first),"
        " such as Let's Encrypt's `fullchain.pem`", "a file name", shown="unset (unsigned)",
    )
    signing_key: Path | None = setting(
        None, "its unencrypted PEM private key (RSA or EC), readable only by the service user",
        "a file name", shown="unset",
    )
    signing_chain: Path | None = setting(
        None, "optional PEM intermediates, in order from the signer's issuer up",
        "a file name", shown="unset",
    )
    profile_prefix: str = setting(
        DEFAULT_PROFILE_PREFIX, "reverse-DNS prefix of every profile's `PayloadIdentifier`",
        "a reverse-DNS name such as 'com.example.autoconfig'",
    )
    server_host: str | None = setting(
        None, "the host that `autoconfig.`/`autodiscover.` names point at"
        " (`dns records`, `dns check`)", "a host name", shown="unset",
    )
    dns_nameserver: str | None = setting(
        None, "`IP[:PORT]` of the resolver the server asks for MX records of hosted domains",
        "an IP address with an optional :PORT", shown="the system's resolver",
    )
    dns_timeout: float = setting(2.0, "seconds an MX lookup may take", "a number more than zero")
    mx_cache_size: int = setting(
        10000, "domains kept in each worker's MX cache", "a whole number, 0 or more"
    )
    trusted_proxies: Annotated[tuple[Network, ...], NoDecode] = setting(
        (), "addresses or networks of the one reverse proxy (nginx) whose"
        " `X-Forwarded-For`/`-Proto` are believed, e.g. `127.0.0.1,::1`; requests from any"
        " other peer keep their own address (a unix-socket peer counts as the proxy)",
        "IP addresses or networks, separated by commas", shown="unset",
    )
    bind: str = setting(
        "127.0.0.1:8000", "where gunicorn listens: `HOST:PORT` or `unix:PATH` (`--bind` overrides)",
        "HOST:PORT or unix:PATH",
    )
    workers: int | None = setting(
        None, "gunicorn worker processes (`--workers` overrides)", "an integer ≥ 1",
        shown="number of CPUs",
    )
    worker_class: Literal["gthread", "sync"] = setting(
        "gthread", "gunicorn worker class: gthread (threads; new connections go to a worker"
        " with a thread free, autoconfig/server/worker.py) or sync (see benchmarks.md)",
        "'gthread' or 'sync'",
    )
    threads: int = setting(4, "threads per gthread worker", "an integer ≥ 1")
    so_reuseport: bool = setting(
        False, "let several servers listen on one port (`SO_REUSEPORT`; the kernel spreads"
        " connections), e.g. replicas on a node's host network", "true or false",
    )
    forwarded_allow_ips: str = setting(
        "127.0.0.1,::1", "peers gunicorn believes `X-Forwarded-Proto` from (`*` for any)",
        "addresses separated by commas, or *",
    )
    log_format: Literal["text", "json"] = setting(
        "text", "how log lines are written: text, or json (one object per line, for log"
        " shippers); either way with no email address and no control character",
        "'text' or 'json'",
    )
    # The directory for per-user login names (docs/operating.md, "Login names from a
    # directory"); nothing is asked while ldap_url is unset.
    ldap_url: str | None = setting(
        None, "`ldaps://HOST[:PORT]`, or `ldap://HOST[:PORT]` (then StartTLS), of the directory"
        f" that domain files with `directory:` ask for login names; needs `{LDAP_EXTRA}`",
        "ldaps://HOST[:PORT] or ldap://HOST[:PORT]", shown="unset (no directory)",
    )
    ldap_ca_file: Path | None = setting(
        None, "PEM file of the CAs that sign the directory's certificate", "a file name",
        shown="the system's CAs",
    )
    ldap_bind_dn: str | None = setting(
        None, "DN to bind as", "a DN", shown="unset (anonymous bind)",
    )
    ldap_bind_password_file: Path | None = setting(
        None, "file whose first line is the bind password (never in a domain file)",
        "a file name", shown="unset",
    )
    ldap_bind_password: SecretStr | None = setting(
        None, "the bind password itself, for platforms that inject secrets as variables;"
        " this or the file, not both; `autoconfig settings` shows it masked", "a password",
        shown="unset",
    )
    ldap_timeout: float = setting(
        2.0, "seconds one lookup may take in all (connect, TLS, bind, search, a retry):"
        " the longest a request waits for the directory",
        "a number more than zero",
    )
    ldap_cache_ttl: float = setting(
        300.0, "seconds a found login name is kept", "a number of seconds, 0 or more"
    )
    ldap_negative_ttl: float = setting(
        60.0, "seconds a \"no such user\" answer is kept", "a number of seconds, 0 or more"
    )
    ldap_retry_after: float = setting(
        10.0, "seconds the directory is not asked after it failed (answers then fall back"
        " to the domain file's login template)", "a number of seconds, 0 or more",
    )
    ldap_pool_size: int = setting(
        4, "open directory connections kept per worker process", "an integer ≥ 1"
    )
    # The compiled copy of the domain files, for fast restarts (docs/benchmarks.md);
    # failing to write there only costs start-up time. from_env fills in the default,
    # which depends on the environment (systemd, XDG).
    cache_dir: Path | None = setting(
        None, "directory of the compiled copy of the domain files, which makes a restart"
        " with unchanged files fast; `off` for none", "a directory, or off",
        shown="systemd's `CacheDirectory=`, else `$XDG_CACHE_HOME/autoconfig`"
        " (`~/.cache/autoconfig`)",
    )

    _ldap: LdapSettings | None = PrivateAttr(default=None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments only: ``from_env`` hands the environment in explicitly."""
        return (init_settings,)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, options: Mapping[str, str | None] | None = None,
    ) -> Settings:
        """Read and check every ``AUTOCONFIG_*`` variable (``os.environ`` by default).

        ``options``: command-line options that override a variable (``{"--bind": …}``;
        ``None`` = not given), checked with the variables so that every bad value is
        reported at once. Raises ``SettingsError``: one line per bad value, naming the
        variable or option, what it must be, and the value.
        """
        environ = os.environ if env is None else env
        values = _MappingSource(cls, environ)()
        values.setdefault("cache_dir", _default_cache_dir(environ))
        given = {name: text for name, text in (options or {}).items() if text is not None}
        values.update({_option_field(name): text for name, text in given.items()})
        try:
            return cls(**values)
        except ValidationError as error:
            raise SettingsError(*_problems(error, environ, given)) from None

    @property
    def domains_dir(self) -> Path:
        """The directory of domain files."""
        return self.domains

    @property
    def ldap(self) -> LdapSettings | None:
        """The directory connection, or None when AUTOCONFIG_LDAP_URL is unset."""
        return self._ldap

    def with_domains(self, directory: Path) -> Settings:
        """A copy serving another directory (the CLI's ``--domains``)."""
        return self.model_copy(update={"domains": directory})

    @field_validator(
        "reload_interval", "cache_max_age", "mx_cache_size",
        "ldap_cache_ttl", "ldap_negative_ttl", "ldap_retry_after",
    )
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0 or not math.isfinite(value):
            raise ValueError("negative, or not a number")
        return value

    @field_validator("dns_timeout", "ldap_timeout")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0 or not math.isfinite(value):
            raise ValueError("not positive, or not a number")
        return value

    @field_validator("workers", "threads", "ldap_pool_size")
    @classmethod
    def _at_least_one(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError("less than one")
        return value

    @field_validator("bind")
    @classmethod
    def _bind(cls, value: str) -> str:
        return check_bind(value)

    @field_validator("signing_cert", "signing_key", "signing_chain", "ldap_bind_password_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        """A secret or certificate file that cannot be read stops the start with the
        other bad values, not after the domain files were loaded."""
        if value is not None:
            try:
                with value.open("rb"):
                    pass
            except OSError as error:
                raise _Explained(f"cannot read {str(value)!r}: {error.strerror}") from None
        return value

    @field_validator("profile_prefix")
    @classmethod
    def _reverse_dns(cls, value: str) -> str:
        if not is_reverse_dns(value):
            raise ValueError("not reverse-DNS")
        return value

    @field_validator("server_host")
    @classmethod
    def _host_name(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return normalize_domain(value)
        except AddressError as error:
            raise _Explained(f"expected a host name; {error}") from None

    @field_validator("dns_nameserver")
    @classmethod
    def _nameserver(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_nameserver(value)
            except ValueError as error:
                raise _Explained(str(error)) from None
        return value

    @field_validator("ldap_url")
    @classmethod
    def _ldap_url_form(cls, value: str | None) -> str | None:
        if value is not None:
            _ldap_url(value)
        return value

    @field_validator("ldap_ca_file")
    @classmethod
    def _a_file(cls, value: Path | None) -> Path | None:
        """The directory's CAs, loaded as the connection will load them: a file that is
        not PEM would otherwise stop the start with a traceback."""
        if value is not None and not value.is_file():
            raise _Explained(f"{value} is not a file")
        if value is not None:
            try:
                ssl.create_default_context(cafile=str(value))
            except ssl.SSLError:
                raise _Explained(f"{value} holds no PEM certificate") from None
            except OSError as error:
                raise _Explained(f"cannot read {str(value)!r}: {error.strerror}") from None
        return value

    @model_validator(mode="after")
    def _directory(self) -> Settings:
        """The LDAP fields as one connection record; the password read from its file."""
        password = self.ldap_bind_password
        if self.ldap_bind_password_file is not None and password is not None:
            raise _Explained(
                "AUTOCONFIG_LDAP_BIND_PASSWORD_FILE and AUTOCONFIG_LDAP_BIND_PASSWORD are both"
                " set; keep one"
            )
        if self.ldap_url is None:
            return self
        host, port, use_ssl = _ldap_url(self.ldap_url)
        file = self.ldap_bind_password_file
        if file is not None:
            secret: str | None = _first_line(file)
        else:
            secret = None if password is None else password.get_secret_value()
        self._ldap = LdapSettings(
            url=self.ldap_url, host=host, port=port, use_ssl=use_ssl,
            ca_file=self.ldap_ca_file, bind_dn=self.ldap_bind_dn,
            bind_password=secret,
            timeout=self.ldap_timeout, cache_ttl=self.ldap_cache_ttl,
            negative_ttl=self.ldap_negative_ttl, retry_after=self.ldap_retry_after,
            pool_size=self.ldap_pool_size,
        )
        return self

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _cache_off(cls, value: object) -> object:
        return None if value == "off" else value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _allowed_peers(cls, value: str) -> str:
        """gunicorn would refuse what is not ``*`` or networks, with a traceback."""
        if value.strip() != "*":
            try:
                parse_networks(value)
            except ValueError:
                raise ValueError("not networks") from None
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                return parse_networks(value)
            except ValueError as error:
                raise _Explained(str(error)) from None
        return value


def _default_cache_dir(environ: Mapping[str, str]) -> Path:
    """systemd's ``CacheDirectory=`` (its first entry), else the per-user XDG cache."""
    if environ.get("CACHE_DIRECTORY"):
        return Path(environ["CACHE_DIRECTORY"].split(":")[0])
    return default_cache_dir(environ)


def default_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/autoconfig``, else ``~/.cache/autoconfig`` (per user, private)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autoconfig"


def variable(field: str) -> str:
    """The environment variable of a field: ``dns_timeout`` -> ``AUTOCONFIG_DNS_TIMEOUT``."""
    return PREFIX + field.upper()


# HOST:PORT as gunicorn binds it: a host name, an IPv4 address or a bracketed IPv6 one.
_HOST_NAME = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?")
BIND_EXPECTED = "HOST:PORT or unix:PATH"


def check_bind(value: str) -> str:
    """``HOST:PORT`` or ``unix:PATH``, checked here so that gunicorn never meets a value
    it would answer with a traceback (a port out of range, a socket in no directory)."""
    if value.startswith("unix:"):
        path = Path(value.removeprefix("unix:"))
        if not value.removeprefix("unix:") or path.is_dir():
            raise _Explained(f"expected unix:PATH of a socket file; got {value!r}")
        if not path.parent.is_dir():
            raise _Explained(f"expected unix:PATH in an existing directory; got {value!r}")
        return value
    host, colon, port = value.rpartition(":")
    if not (colon and host and port.isdigit()):
        raise _Explained(f"expected {BIND_EXPECTED}; got {value!r}")
    if not 1 <= int(port) <= 65535:
        raise _Explained(f"expected a port from 1 to 65535; got {value!r}")
    if not _is_host(host):
        raise _Explained(f"expected a host name or IP address before :PORT; got {value!r}")
    return value


def _is_host(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):
        try:
            return isinstance(ipaddress.ip_address(host[1:-1]), ipaddress.IPv6Address)
        except ValueError:
            return False
    return len(host) <= 253 and _HOST_NAME.fullmatch(host) is not None


# Command-line options that override a variable: option -> field.
OPTIONS = {"--bind": "bind", "--workers": "workers"}


def _option_field(option: str) -> str:
    return OPTIONS[option]


def _problems(
    error: ValidationError, environ: Mapping[str, str], options: Mapping[str, str],
) -> list[str]:
    """Every problem, one line each: ``AUTOCONFIG_WORKERS: expected …; got '…'`` (or
    ``--workers: …`` when an option gave the value)."""
    lines = []
    by_field = {_option_field(option): option for option in options}
    for detail in error.errors():
        context = detail.get("ctx", {}).get("error")
        if not detail["loc"] and isinstance(context, _Explained):
            lines.append(str(context))  # a problem of several variables names them itself
            continue
        field = str(detail["loc"][0])
        name = by_field.get(field, variable(field))
        if isinstance(context, _Explained):
            lines.append(f"{name}: {context}")  # a parser that says exactly what is wrong
            continue
        extra = Settings.model_fields[field].json_schema_extra
        expected = extra["expected"] if isinstance(extra, dict) else "another value"
        given = options.get(name, environ.get(name, detail["input"]))
        line = f"{name}: expected {expected}; got {given!r}"
        if line not in lines:  # a union (``int | None``) reports each of its members
            lines.append(line)
    return lines


# The variables a kubelet gives every container for each Service of its namespace
# (https://kubernetes.io/docs/concepts/services-networking/service/#environment-variables,
# the Docker-links form included): a Service named ``autoconfig`` or ``autoconfig-*`` yields
# variables of this prefix ending in ``_SERVICE_HOST``, ``_PORT_8000_TCP_ADDR`` and so on.
# They are not typos, so they are not warned about, and no setting may ever be named like
# one (tests/test_settings.py), or such a Service would set it.
SERVICE_LINK = re.compile(
    r"[A-Z0-9_]+_(?:SERVICE_HOST|SERVICE_PORT(?:_[A-Z0-9_]+)?"
    r"|PORT(?:_[0-9]+_(?:TCP|UDP|SCTP)(?:_PROTO|_PORT|_ADDR)?)?)"
)


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each ``AUTOCONFIG_*`` variable nothing reads (a typo, usually)."""
    environ = os.environ if environ is None else environ
    known = [field.upper() for field in Settings.model_fields]
    warnings = []
    for name in sorted(environ):
        suffix = name.removeprefix(PREFIX)
        if SERVICE_LINK.fullmatch(name):
            continue
        if name.startswith(PREFIX) and suffix not in known:
            close = difflib.get_close_matches(suffix, known, n=1)  # the shared prefix
            hint = f"; did you mean {PREFIX}{close[0]}?" if close else ""  # says nothing
            warnings.append(f"{name} is not a setting of autoconfig and is ignored{hint}")
    return warnings


def markdown_table() -> str:
    """The settings table of docs/settings.md, generated from the declaration above."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for field, info in Settings.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        shown = extra.get("shown")
        default = str(shown) if shown else f"`{_plain(info.default)}`"
        lines.append(f"| `{variable(field)}` | {default} | {info.description} |")
    return "\n".join(lines) + "\n"


def _plain(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
