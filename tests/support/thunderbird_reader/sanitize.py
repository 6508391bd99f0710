"""Sanitizer.sys.mjs and hostnameUtils.sys.mjs: what Thunderbird accepts as a value."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from tests.support.thunderbird_reader import jxon
from tests.support.thunderbird_reader.jsvalues import JS_SPACE, falsy, js_str
from tests.support.thunderbird_reader.model import MSG_HOSTNAME, MSG_NOT_ALLOWED, ThunderbirdRejects


def nonempty(value: Any) -> str:
    if falsy(value):
        raise ThunderbirdRejects("You must supply a value for this string", value)
    return js_str(value)


def _ipv4(host: str) -> tuple[int, ...] | None:
    parts = host.split(".")
    if len(parts) != 4 or not all(re.fullmatch(r"0|[1-9][0-9]{0,9}", p, re.A) for p in parts):
        return None
    octets = tuple(map(int, parts))
    return None if max(octets) > 255 or octets[0] == 0 else octets


def _ipv6(host: str) -> bool:
    """hostnameUtils: eight groups with one "::" gap, IPv4 tail allowed, no zone, not ::."""
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return "%" not in host and int(address) != 0


_PLACEHOLDER_HOST: Final = re.compile(r"[a-zA-Z0-9\-.]*(?:%[A-Z0-9]+%[a-zA-Z0-9\-.]*)+", re.A)
_LABEL: Final = r"(?:[a-z0-9]|[a-z0-9][a-z0-9\-]{0,61}[a-z0-9])"
_HOST: Final = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}\.?", re.A | re.I)
EMAIL: Final = re.compile(r"[a-z0-9\-%+_.*]+@[a-z0-9\-.]+\.[a-z]+", re.A | re.I)


def hostname(value: Any) -> str:
    host = nonempty(value).strip(JS_SPACE)
    if _PLACEHOLDER_HOST.fullmatch(host):
        return host  # e.g. mail.%EMAILDOMAIN%, kept as written
    if not (_ipv4(host) or _ipv6(host) or (len(host) <= 255 and _HOST.fullmatch(host))):
        raise ThunderbirdRejects(MSG_HOSTNAME, value)
    return host.lower()


def integer(value: Any, low: float = -math.inf, high: float = math.inf) -> int:
    if isinstance(value, float) and not math.isnan(value):
        number = math.trunc(value)
    else:  # JavaScript's parseInt
        text = js_str(value).lstrip(JS_SPACE)
        sign, text = (-1 if text[:1] == "-" else 1), text[1:] if text[:1] in ("+", "-") else text
        hexa = text[:2] in ("0x", "0X")
        digits = re.match(r"[0-9a-fA-F]+" if hexa else r"[0-9]+", text[2:] if hexa else text)
        if digits is None:
            raise ThunderbirdRejects("Not a number", value)
        number = sign * int(digits.group(), 16 if hexa else 10)
    if number < low:
        raise ThunderbirdRejects("Number too small", value)
    if number > high:
        raise ThunderbirdRejects("Number too large", value)
    return number


def boolean(view: Any, key: str, default: bool) -> bool:
    """Sanitizer.boolean of ``view[key]`` if present (``in`` failing on a non-object keeps
    the default); raises on anything but a boolean or "true"/"false"."""
    try:
        value = view[key] if jxon.has(view, key) else default
    except ThunderbirdRejects:
        return default
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise ThunderbirdRejects("Not a boolean", value)


def translate(value: Any, mapping: Mapping[str, str]) -> str:
    if isinstance(value, str) and value in mapping:
        return mapping[value]
    raise ThunderbirdRejects(MSG_NOT_ALLOWED, value)
