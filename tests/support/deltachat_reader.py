"""Delta Chat's reading of a clientConfig document, restated in Python for tests.

Written from (not copied from) ``src/configure/auto_mozilla.rs`` in chatmail/core (commit
48888898ee148ed7b70fa825acffa6829c56c5cf, 2026-08-22): every ``incomingServer`` and
``outgoingServer`` element anywhere in the document (names compared in lower case) gives
a server when it has ``hostname``, ``port`` and ``username`` (text of the most recent
start tag; a port that is not a number reads 0); ``socketType`` ``SSL``/``STARTTLS``/
``plain`` in any case, else automatic; placeholders are filled for the address; only the
``imap`` and ``smtp`` types are used. Nothing else in the document is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

_SOCKETS = {"ssl": "Ssl", "starttls": "Starttls", "plain": "Plain"}
_FIELDS = ("hostname", "port", "sockettype", "username")


@dataclass(frozen=True)
class DeltaChatServer:
    protocol: str
    socket: str
    hostname: str
    port: int
    username: str


def _name(element: Any) -> str:
    return etree.QName(element).localname.strip().lower() if isinstance(element.tag, str) else ""


def _server(element: Any, fill: Any) -> DeltaChatServer | None:
    kind = next((v.lower() for k, v in element.attrib.items() if k.strip().lower() == "type"),
                "")
    values: dict[str, str] = {}
    for child in element.iterdescendants():
        name = _name(child)
        text = (child.text or "").strip()
        if name in _FIELDS and text:
            values[name] = text
    if not all(key in values for key in ("hostname", "port", "username")):
        return None
    if kind not in ("imap", "smtp"):
        return None
    port = int(values["port"]) if values["port"].isdigit() else 0
    socket = _SOCKETS.get(values.get("sockettype", "").lower(), "Automatic")
    return DeltaChatServer(kind, socket, fill(values["hostname"]), port,
                           fill(values["username"]))


def read_deltachat(xml: bytes, address: str) -> list[DeltaChatServer]:
    """The server parameters Delta Chat tries for ``address``: incoming first."""
    local, _, domain = address.rpartition("@")

    def fill(text: str) -> str:
        return (text.replace("%EMAILADDRESS%", address).replace("%EMAILLOCALPART%", local)
                .replace("%EMAILDOMAIN%", domain))

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(xml, parser)
    servers: dict[str, list[DeltaChatServer]] = {"incomingserver": [], "outgoingserver": []}
    for element in root.iter():
        kind = _name(element)
        if kind in servers:
            found = _server(element, fill)
            if found is not None:
                servers[kind].append(found)
    return servers["incomingserver"] + servers["outgoingserver"]
