"""Reading an Autodiscover POX request safely: bytes in, a validated address or a POX error out.

Anyone can POST to an Autodiscover URL, so the body is hostile until proven
otherwise (docs/http.md#parsing-xml-safely): a DOCTYPE is refused outright, the lxml parser
resolves no entity, loads no DTD, touches no network and keeps libxml2's size
limits, and every check failure is a ``PoxError`` carrying the Autodiscover
ErrorCode (docs/autodiscover.md#errors) and the HTTP status the answer has. Nothing
from the request ends up in an error: reasons are fixed texts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import IntEnum

from lxml import etree

from autoconfig.address import AddressError, EmailAddress, parse_address
from autoconfig.errors import ClientError

# Namespaces and schema names (docs/autodiscover.md#request, #settings-response, #activesync;
# MS-OXDSCLI, MS-ASCMD 2.2.3.1).
_SCHEMAS = "http://schemas.microsoft.com/exchange/autodiscover"
NS_RESPONSE = f"{_SCHEMAS}/responseschema/2006"
NS_OUTLOOK_REQUEST = f"{_SCHEMAS}/outlook/requestschema/2006"
NS_OUTLOOK_RESPONSE = f"{_SCHEMAS}/outlook/responseschema/2006a"
NS_MOBILESYNC_REQUEST = f"{_SCHEMAS}/mobilesync/requestschema/2006"
NS_MOBILESYNC_RESPONSE = f"{_SCHEMAS}/mobilesync/responseschema/2006"

# A real request is under 1 KiB (docs/autodiscover.md#request); anything far bigger is not a client.
MAX_BODY_BYTES = 64 * 1024


class ErrorCode(IntEnum):
    """Autodiscover ErrorCode values we answer with (docs/autodiscover.md#errors, MS-OXDSCLI)."""

    ADDRESS_NOT_FOUND = 500
    INVALID_REQUEST = 600
    SCHEMA_NOT_AVAILABLE = 601
    INTERNAL_ERROR = 603


# Microsoft's wording for each code: clients such as exchangelib match on the 500 text.
ERROR_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.ADDRESS_NOT_FOUND: "The email address can't be found.",
    ErrorCode.INVALID_REQUEST: "Invalid Request",
    ErrorCode.SCHEMA_NOT_AVAILABLE: "Provider is not available",
    ErrorCode.INTERNAL_ERROR: "Internal Server Error",
}

# HTTP status per ErrorCode, the one place that decides it (docs/answers.md, "Outlook and
# other Autodiscover clients").
# 500 and 601 are well-formed questions with a definite answer: HTTP 200 with the
# error in the body, as Exchange does (docs/autodiscover.md#errors, MS-ASCMD 4.2.4), so clients read
# it instead of trying the next URL. 600 is a request no client sends: 400, so the
# sender (or a scanner) sees plain HTTP failure; the body is still a POX Error.
# 603 is our own bug, never the client's.
HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.ADDRESS_NOT_FOUND: 200,
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.SCHEMA_NOT_AVAILABLE: 200,
    ErrorCode.INTERNAL_ERROR: 500,
}


class PoxError(ClientError):
    """An Autodiscover request we answer with a POX ``Error`` body.

    ``reason`` is a fixed text for ``DebugData`` (never request content);
    ``mobilesync`` selects the ActiveSync response shape (docs/autodiscover.md#activesync).
    """

    def __init__(
        self,
        code: ErrorCode,
        reason: str,
        *,
        status: int | None = None,
        mobilesync: bool = False,
    ) -> None:
        super().__init__(f"Autodiscover error {int(code)}: {reason}")
        self.code = code
        self.reason = reason
        self.status = HTTP_STATUS[code] if status is None else status
        self.mobilesync = mobilesync


@dataclass(frozen=True, slots=True)
class PoxRequest:
    """A valid request: the validated address, and whether it is an ActiveSync
    (``mobilesync``) request, answered in MS-ASCMD's shape instead of Outlook's."""

    address: EmailAddress
    mobilesync: bool = False


def _invalid(reason: str) -> PoxError:
    return PoxError(ErrorCode.INVALID_REQUEST, reason)


def request_parser() -> etree.XMLParser:
    """The locked-down parser; a new one per call, as lxml parsers must not be shared
    between threads (gthread workers)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
        remove_comments=True,
        collect_ids=False,
    )


_PER_THREAD = threading.local()


def _thread_parser() -> etree.XMLParser:
    """This thread's ``request_parser``: made once per thread, not per request (a
    parser is reusable, one document after another, by the thread that owns it)."""
    parser: etree.XMLParser | None = getattr(_PER_THREAD, "parser", None)
    if parser is None:
        parser = _PER_THREAD.parser = request_parser()
    return parser


def _parse_xml(body: bytes) -> etree._Element:
    if not body.strip():
        raise _invalid("the request body is empty")
    if len(body) > MAX_BODY_BYTES:
        raise _invalid("the request body is too large")
    if b"<!DOCTYPE" in body.upper():  # before parsing: no DTD is ever read
        raise _invalid("a DOCTYPE is not allowed in an Autodiscover request")
    try:
        root = etree.fromstring(body, _thread_parser())
    except (etree.LxmlError, ValueError):
        raise _invalid("the request body is not well-formed XML") from None
    if root.getroottree().docinfo.internalDTD is not None:  # an encoding the scan missed
        raise _invalid("a DOCTYPE is not allowed in an Autodiscover request")
    return root


def _only_text(parent: etree._Element, namespace: str, name: str) -> str | None:
    """The stripped text of the single child ``name``; None when absent."""
    found = parent.findall(f"{{{namespace}}}{name}")
    if not found:
        return None
    if len(found) > 1:
        raise _invalid(f"the request has more than one {name} element")
    element = found[0]
    if len(element):
        raise _invalid(f"the {name} element holds elements instead of text")
    return (element.text or "").strip()


def parse_request(body: bytes) -> PoxRequest:
    """Validate an Autodiscover POX request body, or raise ``PoxError``.

    Order of checks: well-formed XML without DOCTYPE; root ``Autodiscover`` in
    the Outlook or ActiveSync request namespace; exactly one ``Request``; an
    ``AcceptableResponseSchema`` we provide: Outlook 2006a, or mobilesync for a
    mobilesync request (else 601); then one well-formed ``EMailAddress``. Whether a
    mobilesync request gets settings or a 601 depends on the domain file (the answer).
    ``LegacyDN`` is ignored: it names an Exchange directory entry, which a server
    without Exchange cannot resolve.
    """
    root = _parse_xml(body)
    name = etree.QName(root)
    if name.localname != "Autodiscover":
        raise _invalid("the root element is not Autodiscover")
    if name.namespace not in (NS_OUTLOOK_REQUEST, NS_MOBILESYNC_REQUEST):
        raise _invalid("the Autodiscover element is not in a request schema namespace")
    namespace = name.namespace
    requests = root.findall(f"{{{namespace}}}Request")
    if len(requests) != 1:
        raise _invalid("the request must hold exactly one Request element")
    request = requests[0]
    schema = _only_text(request, namespace, "AcceptableResponseSchema")
    if not schema:
        raise _invalid("the request has no AcceptableResponseSchema")
    mobilesync = namespace == NS_MOBILESYNC_REQUEST or schema == NS_MOBILESYNC_RESPONSE
    wanted = NS_MOBILESYNC_RESPONSE if namespace == NS_MOBILESYNC_REQUEST else NS_OUTLOOK_RESPONSE
    if schema != wanted:
        raise PoxError(
            ErrorCode.SCHEMA_NOT_AVAILABLE,
            "only the Outlook 2006a and mobilesync response schemas are provided here",
            mobilesync=mobilesync,
        )
    try:
        address = _address(request, namespace)
    except PoxError as error:  # answered in the shape the client reads
        error.mobilesync = mobilesync
        raise
    return PoxRequest(address, mobilesync)


def _address(request: etree._Element, namespace: str) -> EmailAddress:
    text = _only_text(request, namespace, "EMailAddress")
    if not text:
        raise _invalid("the request has no EMailAddress")
    try:
        return parse_address(text)
    except AddressError:
        raise _invalid("the EMailAddress is not a valid email address") from None
