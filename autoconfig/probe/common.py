"""Pieces several client modules share: the autoconfig URLs, the POX request, the best MX."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from lxml import etree

from autoconfig.address import EmailAddress
from autoconfig.pox import NS_OUTLOOK_REQUEST, NS_OUTLOOK_RESPONSE

CONFIG_PATH = "/mail/config-v1.1.xml"
WELL_KNOWN_PATH = "/.well-known/autoconfig/mail/config-v1.1.xml"
POX_PATH = "/autodiscover/autodiscover.xml"
POX_CONTENT_TYPE = "text/xml; charset=utf-8"
XML_TYPES = ("text/xml", "application/xml", "text/rdf")


def autoconfig_urls(domain: str, query: str, schemes: tuple[str, ...]) -> list[str]:
    """``autoconfig.<domain>`` then ``<domain>/.well-known``, per scheme, in that order."""
    return [url for scheme in schemes for url in (
        f"{scheme}://autoconfig.{domain}{CONFIG_PATH}{query}",
        f"{scheme}://{domain}{WELL_KNOWN_PATH}{query}",
    )]


def address_query(address: EmailAddress, name: str = "emailaddress") -> str:
    """``?emailaddress=alice%40example.com``."""
    return f"?{name}={quote(str(address), safe='.')}"


def pox_request(address: EmailAddress) -> bytes:
    """Outlook's POX request for ``address`` (MS-OXDSCLI 2.2.3), built as a tree."""
    nsmap: dict[Any, str] = {None: NS_OUTLOOK_REQUEST}  # None: lxml's default namespace
    root = etree.Element(f"{{{NS_OUTLOOK_REQUEST}}}Autodiscover", nsmap=nsmap)
    request = etree.SubElement(root, f"{{{NS_OUTLOOK_REQUEST}}}Request")
    etree.SubElement(request, f"{{{NS_OUTLOOK_REQUEST}}}EMailAddress").text = str(address)
    schema = etree.SubElement(request, f"{{{NS_OUTLOOK_REQUEST}}}AcceptableResponseSchema")
    schema.text = NS_OUTLOOK_RESPONSE
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))


def best_mx(records: list[str]) -> str:
    """The host of the MX record with the lowest preference (``10 mx.example.`` form)."""
    best = min(records, key=lambda text: int(text.split()[0]))
    return best.split()[-1].rstrip(".").lower()
