"""A throwaway OpenLDAP directory (Debian's slapd) on a loopback port, with test users.

Started through the PyPI package ``slapd`` (a test helper from the python-ldap
project) with the schemas core, cosine and inetorgperson, a TLS certificate from
tests/support/pki.py (so StartTLS is verified against a test CA), and the entries a
university might have: logins (``uid``) that differ from the addresses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import slapd

from tests.support.http import free_port
from tests.support.pki import LoopbackPKI, make_pki
from tests.support.system import require_program

SUFFIX = "dc=uni,dc=example"
PEOPLE = f"ou=people,{SUFFIX}"
ROOT_PASSWORD = "directory-test-secret"  # noqa: S105 - a throwaway test directory
SCHEMAS = ("core.ldif", "cosine.ldif", "inetorgperson.ldif")

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
    pki = make_pki(workdir / "pki", list(names))
    server = slapd.Slapd(
        schemas=SCHEMAS,
        suffix=SUFFIX,
        root_pw=ROOT_PASSWORD,
        datadir_prefix=str(workdir / "slapd"),
    )
    server.cafile, server.servercert, server.serverkey = str(pki.ca), str(pki.cert), str(pki.key)
    # slapd -h takes a space-separated list, and the helper passes ldap_uri into it as is:
    # one more listener, for LDAPS
    ldaps_port = free_port()
    server.ldap_uri = f"ldap://127.0.0.1:{server.port}/ ldaps://127.0.0.1:{ldaps_port}/"
    server.start()
    try:
        server.ldapadd(ENTRIES)
        yield RunningDirectory(server, pki, ldaps_port)
    finally:
        server.stop()
