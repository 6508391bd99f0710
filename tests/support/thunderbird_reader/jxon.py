"""The JXON view of a document (JXON.sys.mjs, as FetchHTTP.sys.mjs builds it).

Elements keyed by qualified name (namespace URIs ignored), ``$name`` for every
occurrence, ``@name`` for attributes and ``xmlns`` declarations, text parsed into
booleans and numbers the JavaScript way.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

from lxml import etree

from tests.support.thunderbird_reader.jsvalues import JS_SPACE, UNDEF
from tests.support.thunderbird_reader.model import ThunderbirdRejects

_DECIMAL: Final = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.A)
_PARSER: Final = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _parse_text(text: str) -> Any:
    if re.fullmatch(r"true|false", text, re.I | re.A):
        return text.lower() == "true"
    core = text.strip(JS_SPACE)
    if not core:
        return math.nan  # isFinite("") holds but parseFloat("") is NaN
    if re.fullmatch(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+", core, re.A):
        return 0.0  # parseFloat stops after the leading "0"
    if _DECIMAL.fullmatch(core) and math.isfinite(number := float(core)):
        return number
    return text


def _name(clark: str, prefix: str | None) -> str:
    """A DOM nodeName: the prefix as written plus the local name; the URI plays no part."""
    local = etree.QName(clark).localname
    return f"{prefix}:{local}" if prefix else local


def _attribute_prefix(element: Any, clark: str) -> str | None:
    uri = etree.QName(clark).namespace
    if uri == "http://www.w3.org/XML/1998/namespace":
        return "xml"
    return next((p for p, known in element.nsmap.items() if p and uri and known == uri), None)


def _jxon(element: Any) -> Any:
    text, children = element.text or "", []
    for child in element:
        text += child.tail or ""
        if isinstance(child.tag, str):  # comments and PIs are skipped, their tails kept
            children.append(child)
    parent = element.getparent()
    inherited = parent.nsmap if parent is not None else {}
    attributes = [
        ("xmlns" if prefix is None else f"xmlns:{prefix}", uri)
        for prefix, uri in element.nsmap.items()
        if inherited.get(prefix) != uri
    ] + [
        (_name(key, _attribute_prefix(element, key)), value)
        for key, value in element.attrib.items()
    ]
    if element.text is None and not len(element) and not attributes:
        return True
    view: dict[str, Any] = {}
    for child in children:
        name = _name(child.tag, child.prefix)
        name += "_" if name in ("value", "attr") else ""
        view.setdefault(name, content := _jxon(child))
        view.setdefault("$" + name, []).append(content)
    view.update(("@" + name, _parse_text(value)) for name, value in attributes)
    if text and not (children or attributes):
        return _parse_text(text)
    if text:
        view["value"] = _parse_text(text)
    return view


def load(xml: bytes) -> dict[str, Any]:
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as error:
        raise ThunderbirdRejects("Bad response content", str(error)) from error
    return {_name(root.tag, root.prefix): _jxon(root)}


def get(view: Any, key: str) -> Any:
    return view.get(key, UNDEF) if isinstance(view, dict) else UNDEF


def has(view: Any, key: str) -> bool:
    """JavaScript's ``key in view``, which throws unless ``view`` is an object."""
    if not isinstance(view, dict):
        raise ThunderbirdRejects(f"TypeError: cannot use 'in' to search for {key!r}")
    return key in view


def items(view: Any, key: str) -> list[Any]:
    found = get(view, "$" + key)
    return found if isinstance(found, list) else []
