"""The PACC client's reading of a document and of TXT records (pure functions).

The deployment tests (tests/test_probe_deployment.py) run the whole client against
the served document and nsd; these pin the messages for documents no server of ours
sends.
"""

from __future__ import annotations

import pytest

from autoconfig.probe.pacc import Malformed, parse, servers
from autoconfig.probe.result import Setting
from autoconfig.render.pacc import published_digests


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>", "not JSON: Expecting value: line 1 column 1 (char 0)"),
        (b"[]", "not a JSON object"),
        (b'{"protocols": {}, "info": {}}', "member authentication is missing"),
        (b'{"protocols": [], "authentication": {}, "info": {}}',
         "member protocols is not an object"),
    ],
)
def test_a_malformed_document_says_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(Malformed) as caught:
        parse(body)
    assert str(caught.value) == message


def test_servers_are_implicit_tls_on_the_standard_ports() -> None:
    document = parse(b'{"protocols": {"pop3": {"host": "pop.example.com"},'
                     b' "smtp": {"host": "smtp.example.com"},'
                     b' "caldav": {"url": "https://dav.example.com/"}},'
                     b' "authentication": {"oauth-public": {"issuer": "https://id.example.com"}},'
                     b' "info": {}}')
    assert servers(document, "a@example.com") == (
        [Setting("incoming", "pop3", "pop.example.com", 995, "TLS", "oauth-public",
                 "a@example.com"),
         Setting("outgoing", "smtp", "smtp.example.com", 465, "TLS", "oauth-public",
                 "a@example.com")],
        ["caldav https://dav.example.com/"],
    )


def test_an_entry_without_its_host_is_malformed() -> None:
    document = parse(b'{"protocols": {"imap": {}}, "authentication": {}, "info": {}}')
    with pytest.raises(Malformed) as caught:
        servers(document, "a@example.com")
    assert str(caught.value) == "protocols.imap.host is missing or not a string"


def test_only_uaac1_sha256_records_give_digests() -> None:
    assert published_digests([
        "v=spf1 -all", "v=UAAC1; a=sha512; d=AAAA", "V=uaac1;A=SHA256;d=abc=", "v=UAAC1; a=sha256",
    ]) == ["abc=", ""]
