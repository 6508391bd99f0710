"""Small domain files for the reload and scale tests, written so that every edit is seen."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from autoconfig.domains.snapshot import Snapshot
from tests.support.paths import DOMAINS

DOMAIN = """name: {domain}
domains: [{domain}]
incoming: [{{protocol: imap, host: {host}, security: tls}}]
outgoing: [{{host: smtp.{domain}, security: tls}}]
"""

# A hosting provider's customer: one file, two domains, servers named after the domain
# (the scale tests and bench/scale.py).
CUSTOMER = """name: Customer {i}
domains: [customer{i}.example, alias{i}.example]
incoming:
  - {{protocol: imap, host: mail.%EMAILDOMAIN%, security: tls}}
  - {{protocol: pop3, host: mail.%EMAILDOMAIN%, security: tls}}
outgoing:
  - {{protocol: smtp, host: mail.%EMAILDOMAIN%, security: tls}}
  - {{protocol: smtp, host: mail.%EMAILDOMAIN%, security: starttls}}
"""


def write_customers(directory: Path, count: int) -> None:
    """``customer<i>.example.yaml`` for i below ``count``."""
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (directory / f"customer{i}.example.yaml").write_text(CUSTOMER.format(i=i))


def branded_bundled_domains(folder: Path, logo: bytes, branding: str) -> Path:
    """``folder/domains``: the bundled domain files, example.com with ``logo`` as
    ``logo.svg`` and the YAML lines ``branding`` appended (``logo: logo.svg`` and more)."""
    domains = folder / "domains"
    domains.mkdir()
    for source in DOMAINS.glob("*.yaml"):
        (domains / source.name).write_bytes(source.read_bytes())
    (domains / "logo.svg").write_bytes(logo)
    with (domains / "example.com.yaml").open("a") as file:
        file.write(branding)
    return domains


class Serving(Protocol):
    """A store or reloader: whatever holds the current snapshot."""

    @property
    def snapshot(self) -> Snapshot: ...


def write_domain(folder: Path, domain: str, host: str) -> Path:
    """``<domain>.yaml`` with one IMAP server on ``host``."""
    path = folder / f"{domain}.yaml"
    path.write_text(DOMAIN.format(domain=domain, host=host))
    # Two writes in the same clock tick with the same size look alike: move the time on.
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    return path


def served_host(serving: Serving, domain: str = "example.com") -> str:
    """The IMAP host ``serving`` answers ``domain`` with now."""
    config = serving.snapshot.registry.lookup(domain)
    assert config is not None
    return config.incoming[0].host
