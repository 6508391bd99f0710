"""Reading an Autodiscover POX answer (MS-OXDSCLI 2.2.4, response schema 2006a) leniently.

Clients match elements by local name (Delta Chat's ``auto_outlook.rs`` even ignores
case), so this reader does too; how each client turns ``SSL``/``Encryption``/``SPA``
into a connection security is left to the client modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from autoconfig.pox import request_parser
from autoconfig.probe.clientconfig import Rejected


@dataclass(frozen=True, slots=True)
class PoxProtocol:
    """One ``Protocol`` element: its children by local name, as text."""

    values: dict[str, str]

    def get(self, name: str, default: str = "") -> str:
        """A child's text (``Type``, ``Server``, ``Port``, ``SSL``, ...)."""
        return self.values.get(name.lower(), default)


@dataclass
class PoxAnswer:
    """``Action`` settings (protocols), ``redirectUrl``/``redirectAddr``, or an ``Error``."""

    action: str = ""
    redirect: str = ""
    protocols: list[PoxProtocol] = field(default_factory=list)
    error: str = ""


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname.lower() if isinstance(element.tag, str) else ""


def parse_pox(body: bytes) -> PoxAnswer:
    """The parts of a POX answer clients act on; Rejected if it is not one."""
    try:
        root = etree.fromstring(body, request_parser())
    except (etree.LxmlError, ValueError) as error:
        raise Rejected(f"not well-formed XML ({error})") from None
    if root is None or _local(root) != "autodiscover":
        raise Rejected("not an Autodiscover answer (no <Autodiscover> root)")
    answer = PoxAnswer()
    for element in root.iter():
        name = _local(element)
        text = (element.text or "").strip()
        if name == "error":
            code = next((c.text or "" for c in element if _local(c) == "errorcode"), "")
            message = next((c.text or "" for c in element if _local(c) == "message"), "")
            answer.error = f"ErrorCode {code.strip()} {message.strip()}".strip()
        elif name == "action" and text:
            answer.action = text
        elif name in ("redirecturl", "redirectaddr") and text:
            answer.redirect = text
        elif name == "protocol":
            answer.protocols.append(PoxProtocol(
                {_local(c): (c.text or "").strip() for c in element if _local(c)}))
    return answer
