"""Autodiscover POX request bodies as clients send them, built with lxml."""

from __future__ import annotations

from lxml import etree

from autoconfig.pox import NS_MOBILESYNC_RESPONSE, NS_OUTLOOK_RESPONSE

_SCHEMAS = "http://schemas.microsoft.com/exchange/autodiscover"
OUTLOOK_REQUEST = f"{_SCHEMAS}/outlook/requestschema/2006"
MOBILESYNC_REQUEST = f"{_SCHEMAS}/mobilesync/requestschema/2006"


def autodiscover_request(address: str, *, mobilesync: bool = False) -> bytes:
    """A POX request as Outlook (2006a) or an ActiveSync phone (mobilesync) sends it."""
    namespace = MOBILESYNC_REQUEST if mobilesync else OUTLOOK_REQUEST
    schema = NS_MOBILESYNC_RESPONSE if mobilesync else NS_OUTLOOK_RESPONSE
    root = etree.Element(f"{{{namespace}}}Autodiscover", nsmap={None: namespace})  # type: ignore[dict-item]
    req = etree.SubElement(root, f"{{{namespace}}}Request")
    etree.SubElement(req, f"{{{namespace}}}EMailAddress").text = address
    etree.SubElement(req, f"{{{namespace}}}AcceptableResponseSchema").text = schema
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")
