"""A throwaway OpenLDAP directory (Debian's slapd) on a loopback port, with test users.

Started through the PyPI package ``slapd`` (a test helper from the python-ldap
project) with the schemas core, cosine and inetorgperson, a TLS certificate from
tests/support/pki.py (so StartTLS is verified against a test CA), and the entries a
university might have: logins (``uid``) that differ from the addresses.

``slapd`` looks for the schema folder once, when it is imported: it is imported only
after Debian's slapd is installed, and told the folder, so a fresh machine passes.
Every address is 127.0.0.1 (or 127.0.0.2), never ``localhost``, whose resolution
(``::1`` first on Debian) is the machine's business.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.http import free_port
from tests.support.pki import LoopbackPKI, make_pki
from tests.support.system import require_file, require_program

if TYPE_CHECKING:
    import slapd

SUFFIX = "dc=uni,dc=example"
PEOPLE = f"ou=people,{SUFFIX}"
ROOT_PASSWORD = "directory-test-secret"  # noqa: S105 - a throwaway test directory
SCHEMAS = ("core.ldif", "cosine.ldif", "inetorgperson.ldif")
SCHEMA_DIR = Path("/etc/ldap/schema")  # Debian's slapd
# an address slapd also listens on that the certificate does not name (host name checks)
UNNAMED_ADDRESS = "127.0.0.2"

# uid differs from the address; two uid values; a name with non-ASCII letters; an entry
# whose mail is the literal text an injection would try to match.
ENTRIES = f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: uni
o: Example University

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: uid=jdoe,{PEOPLE}
objectClass: inetOrgPerson
uid: jdoe
cn: Jane Doe
sn: Doe
displayName: Jane Doe
mail: jane.doe@uni.example

dn: uid=mmuster,{PEOPLE}
objectClass: inetOrgPerson
uid: mmuster
uid: max.muster
cn: Max Muster
sn: Muster
mail: max@uni.example

dn: uid=zoe,{PEOPLE}
objectClass: inetOrgPerson
uid: zoe
cn: Zoë Ölmann
sn: Ölmann
displayName: Zoë Ölmann
mail: zoe@uni.example
"""


@dataclass
class RunningDirectory:
    """A running slapd: where it listens, how to bind, the CA that signed it."""

    server: slapd.Slapd
    pki: LoopbackPKI
    ldaps_port: int
    unnamed_port: int  # StartTLS on UNNAMED_ADDRESS

    @property
    def port(self) -> int:
        return int(self.server.port)

    @property
    def root_dn(self) -> str:
        return str(self.server.root_dn)

    def env(self, **overrides: str) -> dict[str, str]:
        """AUTOCONFIG_LDAP_* for ``autoconfig serve``: StartTLS, verified, bound as root."""
        return {
            "AUTOCONFIG_LDAP_URL": f"ldap://127.0.0.1:{self.port}",
            "AUTOCONFIG_LDAP_CA_FILE": str(self.pki.ca),
            "AUTOCONFIG_LDAP_BIND_DN": self.root_dn,
            "AUTOCONFIG_LDAP_BIND_PASSWORD": ROOT_PASSWORD,
            "AUTOCONFIG_LDAP_TIMEOUT": "1",
            "AUTOCONFIG_LDAP_RETRY_AFTER": "1",
            **overrides,
        }

    def stop(self) -> None:
        """Stop slapd, keeping its data, so ``start`` brings the same directory back."""
        self.server._proc.terminate()
        self.server.wait()

    def start(self) -> None:
        self.server._start_slapd()


@contextmanager
def run_directory(
    workdir: Path, names: tuple[str, ...] = ("ldap.uni.example",)
) -> Iterator[RunningDirectory]:
    """slapd on a loopback port until the block ends; its certificate names ``names``."""
    require_program("slapd", "slapd", "ldap-utils")
    require_program("ldapadd", "ldap-utils")
    require_file(SCHEMA_DIR / SCHEMAS[0], "slapd")
    import slapd  # noqa: PLC0415 - only now that Debian's slapd is there (module docstring)

    class DebianSlapd(slapd.Slapd):  # type: ignore[misc]
        SCHEMADIR = str(SCHEMA_DIR)

    pki = make_pki(workdir / "pki", list(names))
    server = DebianSlapd(
        host="127.0.0.1",
        schemas=SCHEMAS,
        suffix=SUFFIX,
        root_pw=ROOT_PASSWORD,
        datadir_prefix=str(workdir / "slapd"),
    )
    server.cafile, server.servercert, server.serverkey = str(pki.ca), str(pki.cert), str(pki.key)
    # slapd -h takes a space-separated list, and the helper passes ldap_uri into it as is:
    # more listeners, for LDAPS and on an address the certificate does not name
    ldaps_port, unnamed_port = free_port(), free_port()
    server.ldap_uri = " ".join((
        f"ldap://127.0.0.1:{server.port}/", f"ldaps://127.0.0.1:{ldaps_port}/",
        f"ldap://{UNNAMED_ADDRESS}:{unnamed_port}/",
    ))
    server.start()
    try:
        server.ldapadd(ENTRIES)
        yield RunningDirectory(server, pki, ldaps_port, unnamed_port)
    finally:
        server.stop()


@contextmanager
def hung(directory: RunningDirectory) -> Iterator[None]:
    """slapd stopped by SIGSTOP (its sockets stay open) until the block ends."""
    pid = directory.server._proc.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


@contextmanager
def stopped(directory: RunningDirectory) -> Iterator[None]:
    """slapd shut down (connections refused) until the block ends, then started again."""
    directory.stop()
    try:
        yield
    finally:
        directory.start()
