"""Who is asking? Turn a request's address or Host header into a served domain.

Shared by every answer and the page, so the same address or host means the same
domain everywhere, and every lookup failure is the same clean 400 or 404.
"""

from __future__ import annotations

from autoconfig.address import (
    AddressError,
    EmailAddress,
    display_domain,
    host_without_port,
    normalize_domain,
    parse_address,
)
from autoconfig.answers.services import Services
from autoconfig.directory.personal import UserConfig, personalize
from autoconfig.domains.records import DomainConfig
from autoconfig.domains.snapshot import Snapshot
from autoconfig.errors import BadRequestError, UnknownDomainError
from autoconfig.phrases import Phrase

__all__ = ["UserConfig", "address_from", "domain_from_host", "find_config", "for_user"]


def address_from(text: str) -> EmailAddress:
    """Parse a client-supplied address, or raise a 400 that says what is wrong."""
    try:
        return parse_address(text)
    except AddressError as error:
        raise BadRequestError(
            Phrase("invalid email address: %(reason)s", reason=error.phrase)
        ) from None


def find_config(services: Services, snapshot: Snapshot, ascii_domain: str) -> DomainConfig:
    """The config serving ``ascii_domain``, or a 404."""
    config = snapshot.registry.lookup(ascii_domain) or _config_by_mx(
        services, snapshot, ascii_domain
    )
    if config is None:  # the domain as people write it (an IDN in Unicode)
        raise UnknownDomainError(Phrase(
            "no mail settings are served for %(domain)s", domain=display_domain(ascii_domain)
        ))
    return config


def _config_by_mx(services: Services, snapshot: Snapshot, ascii_domain: str) -> DomainConfig | None:
    """A hosted domain no file lists, served by the file its best MX matches."""
    resolver = services.mx
    return resolver.config_for(snapshot.registry, ascii_domain) if resolver else None


def domain_from_host(
    services: Services, snapshot: Snapshot, host: str, prefixes: tuple[str, ...]
) -> tuple[str, DomainConfig]:
    """The served domain a Host header names, ``<prefix><domain>`` or ``<domain>`` itself,
    with its config."""
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
    config = _config_by_mx(services, snapshot, candidates[-1])  # the domain without prefix
    if config is not None:
        return candidates[-1], config
    raise UnknownDomainError(f"no mail settings are served for host {name}")


def for_user(services: Services, config: DomainConfig, address: EmailAddress) -> UserConfig:
    """``config`` as ``address`` should see it: with the login name from the directory
    when the file opts in (``directory:``) and the process has one; the file's template
    otherwise, and whenever the directory does not answer."""
    return personalize(services.directory, config, address)
