"""Parsing ``IP[:PORT]`` nameserver arguments (CLI ``--nameserver``, settings).

Only addresses are accepted: a resolver given by name would need a resolver first.
"""

from __future__ import annotations

import ipaddress

DNS_PORT = 53


def parse_nameserver(text: str) -> tuple[str, int]:
    """``"127.0.0.1:5353"``, ``"[::1]:5353"``, ``"::1"`` or ``"9.9.9.9"`` -> (address, port)."""
    text = text.strip()
    host, port_text = text, ""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"expected [IPv6]:PORT; got {text!r}")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        raise ValueError(f"expected an IP address with an optional :PORT; got {text!r}") from None
    if not port_text:
        return address, DNS_PORT
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"expected a port from 1 to 65535; got {port_text!r}")
    return address, int(port_text)
