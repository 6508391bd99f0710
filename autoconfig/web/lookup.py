"""Who is asking? Turn a request's address or Host header into a served domain.

Shared by every client's view, so the same address or host means the same
domain everywhere, and every lookup failure is the same clean 400 or 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from autoconfig.address import (
    AddressError,
    EmailAddress,
    host_without_port,
    normalize_domain,
    parse_address,
)
from autoconfig.answers.documents import Documents, SnapshotDocuments
from autoconfig.directory import Directory
from autoconfig.dns.mx import MxResolver
from autoconfig.domains.records import DomainConfig
from autoconfig.domains.store import ConfigStore, Snapshot
from autoconfig.errors import BadRequestError, UnknownDomainError
from autoconfig.phrases import Phrase

STORE_KEY = "autoconfig.store"
MX_RESOLVER_KEY = "autoconfig.mx_resolver"
DIRECTORY_KEY = "autoconfig.directory"
DOCUMENTS_KEY = "autoconfig.documents"


def current_store() -> ConfigStore:
    """The store of the running app."""
    store: ConfigStore = current_app.extensions[STORE_KEY]
    return store


def current_snapshot() -> Snapshot:
    """The configuration to answer this request with."""
    return current_store().snapshot


def current_documents() -> SnapshotDocuments:
    """The shared documents of the snapshot being served."""
    documents: Documents = current_app.extensions[DOCUMENTS_KEY]
    return documents.of(current_snapshot())


def address_from(text: str) -> EmailAddress:
    """Parse a client-supplied address, or raise a 400 that says what is wrong."""
    try:
        return parse_address(text)
    except AddressError as error:
        raise BadRequestError(
            Phrase("invalid email address: %(reason)s", reason=error.phrase)
        ) from None


def find_config(snapshot: Snapshot, ascii_domain: str) -> DomainConfig:
    """The config serving ``ascii_domain``, or a 404."""
    config = snapshot.registry.lookup(ascii_domain) or _config_by_mx(snapshot, ascii_domain)
    if config is None:
        raise UnknownDomainError(
            Phrase("no mail settings are served for %(domain)s", domain=ascii_domain)
        )
    return config


def _config_by_mx(snapshot: Snapshot, ascii_domain: str) -> DomainConfig | None:
    """A hosted domain no file lists, served by the file its best MX matches."""
    resolver: MxResolver | None = current_app.extensions.get(MX_RESOLVER_KEY)
    return resolver.config_for(snapshot.registry, ascii_domain) if resolver else None


def config_from_host(snapshot: Snapshot, host: str, prefixes: tuple[str, ...]) -> DomainConfig:
    """The domain named by a Host header: ``<prefix><domain>`` or ``<domain>`` itself."""
    return domain_from_host(snapshot, host, prefixes)[1]


def domain_from_host(
    snapshot: Snapshot, host: str, prefixes: tuple[str, ...]
) -> tuple[str, DomainConfig]:
    """Like ``config_from_host``, also saying which served domain the Host header names."""
    try:
        name = normalize_domain(host_without_port(host))
    except AddressError as error:
        raise BadRequestError(
            f"no email address given and the Host header names no domain: {error}"
        ) from None
    candidates = [name] + [name[len(p):] for p in prefixes if name.startswith(p)]
    for candidate in candidates:
        config = snapshot.registry.lookup(candidate)
        if config is not None:
            return candidate, config
    config = _config_by_mx(snapshot, candidates[-1])  # the domain without autoconfig.
    if config is not None:
        return candidates[-1], config
    raise UnknownDomainError(f"no mail settings are served for host {name}")


@dataclass(frozen=True, slots=True)
class UserConfig:
    """A domain's settings for one address that the client sent.

    ``config`` carries the user's login name when the directory gave one; ``name`` is
    the person's name from the directory; ``personal`` says the answer depends on the
    directory (whatever it said), so no shared cache may keep it.
    """

    config: DomainConfig
    name: str | None = None
    personal: bool = False


def for_user(config: DomainConfig, address: EmailAddress) -> UserConfig:
    """``config`` as ``address`` should see it: with the login name from the directory
    when the file opts in (``directory:``) and the process has one; the file's template
    otherwise, and whenever the directory does not answer."""
    directory: Directory | None = current_app.extensions.get(DIRECTORY_KEY)
    if config.directory is None or directory is None:
        return UserConfig(config)
    person = directory.find(config.directory, address)
    if person is None:
        return UserConfig(config, personal=True)
    return UserConfig(config.with_login(person.login), person.name, personal=True)
