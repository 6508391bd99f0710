"""A domain's settings as one address should see them, within what the file lets the
directory reveal (``directory.reveal``, docs/directory.md)."""

from __future__ import annotations

from dataclasses import dataclass

from autoconfig.address import EmailAddress
from autoconfig.directory.lookup import Directory
from autoconfig.domains.records import DomainConfig, Reveal


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


def personalize(
    directory: Directory | None, config: DomainConfig, address: EmailAddress
) -> UserConfig:
    """``config`` with the login name (and name) the directory has for ``address``, as
    far as the file's ``reveal`` allows; the file's template otherwise, and whenever
    the directory does not answer."""
    search = config.directory
    if search is None or directory is None or search.reveal is Reveal.NOTHING:
        return UserConfig(config)
    person = directory.find(search, address, config.source)
    if person is None:
        return UserConfig(config, personal=True)
    name = person.name if search.reveal is Reveal.LOGIN_AND_NAME else None
    return UserConfig(config.with_login(person.login, address), name, personal=True)
