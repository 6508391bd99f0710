"""Round trip over real provider configurations (the Thunderbird ISPDB).

For every file in tests/data/ispdb: ``import xml`` -> YAML file -> autoconfig's
loader -> the clientConfig the server sends. Both documents must describe the same
servers, ports, socket types, authentication methods and usernames: read once with
lxml element by element, and once as Thunderbird itself reads them
(tests/support/thunderbird_reader/).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from autoconfig.domains.load import load_file
from autoconfig.importers.xml import import_thunderbird
from autoconfig.render.thunderbird import render_thunderbird
from tests.support.paths import ISPDB
from tests.support.thunderbird_reader import XML_OUTGOING_AUTH, ClientConfig, read_client_config

FILES = sorted(ISPDB.glob("*.xml"))

# Files that use what the domain-file format cannot express, with the reason.
CANNOT_EXPRESS = {
    "office365.com.xml": "incoming servers of type ews, owa, graph and exchange (the format"
    " has imap and pop3 only)",
    "teol.net.xml": "an outgoing server without <username>, which Thunderbird reads as the"
    " literal text 'undefined'; a domain file always has a username (default %EMAILADDRESS%)",
}

ServerRow = tuple[str, str | None, str, str, str, tuple[str, ...], str | None]


def servers(xml: bytes) -> list[ServerRow]:
    """Every server element: direction, type, host, port, first socketType, auth, username.

    Authentication words are compared by what Thunderbird makes of them (``plain`` is
    ``password-cleartext``), each once, in order.
    """
    rows = []
    for element in etree.fromstring(xml).iter("incomingServer", "outgoingServer"):
        methods = [(a.text or "").strip() for a in element.findall("authentication")]
        rows.append((
            str(element.tag), element.get("type"),
            (element.findtext("hostname") or "").strip(),
            (element.findtext("port") or "").strip(),
            (element.findtext("socketType") or "").strip(),
            tuple(dict.fromkeys(XML_OUTGOING_AUTH.get(m, m) for m in methods)),
            element.findtext("username"),
        ))
    return rows


def thunderbird_view(config: ClientConfig) -> list[tuple[object, ...]]:
    return [
        (s.type, s.hostname, s.port, s.socket_type, s.auth_alternatives, s.username)
        for s in (*config.incoming, *config.outgoing)
    ]


def round_trip(source: Path, directory: Path) -> bytes:
    path = directory / f"{source.stem}.yaml"
    path.write_text(import_thunderbird(source.read_bytes(), source.name))
    result = load_file(path)
    assert result.loaded is not None, [str(e) for e in result.errors]
    return render_thunderbird(result.loaded.config)


def test_the_folder_holds_the_provider_files() -> None:
    assert len(FILES) == 113
    assert set(CANNOT_EXPRESS) <= {f.name for f in FILES}


@pytest.mark.parametrize("source", [f for f in FILES if f.name not in CANNOT_EXPRESS],
                         ids=lambda f: f.name)
def test_import_render_describes_the_same_servers(source: Path, tmp_path: Path) -> None:
    original = source.read_bytes()
    served = round_trip(source, tmp_path)
    assert servers(served) == servers(original)
    assert thunderbird_view(read_client_config(served)) == thunderbird_view(
        read_client_config(original)
    )


@pytest.mark.parametrize("name", sorted(CANNOT_EXPRESS))
def test_files_listed_as_inexpressible_really_differ(name: str, tmp_path: Path) -> None:
    """Keeps the list honest: a listed file that round-trips must leave the list."""
    source = ISPDB / name
    assert servers(round_trip(source, tmp_path)) != servers(source.read_bytes())
