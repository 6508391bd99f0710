"""``import xml``: a Thunderbird ``config-v1.1.xml`` -> domain file YAML.

The reverse of ``render.thunderbird``: element and value names follow
docs/thunderbird.md#elements and #authentication. What our format cannot say
(Exchange servers, ``inputField``, a second socketType, ``loginPageInfo``, ...)
becomes a comment where it was, so nothing is dropped silently. Each server is
validated with the format's own models.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from pydantic import TypeAdapter, ValidationError

from autoconfig.address import AddressError, display_domain, normalize_domain
from autoconfig.domains.fileformat import IncomingFile, OutgoingFile, Url
from autoconfig.domains.records import Auth, Security
from autoconfig.importers import ImportFailedError
from autoconfig.importers.yamltext import Entries, Item, Nested, emit_document
from autoconfig.pox import request_parser
from autoconfig.render.thunderbird import AUTHENTICATION, SOCKET_TYPE

# The renderer's tables read backwards (one mapping per client,
# docs/thunderbird.md#elements and #authentication), plus the deprecated
# authentication aliases Thunderbird still accepts.
SECURITY: dict[str, Security] = {word: security for security, word in SOCKET_TYPE.items()}
AUTH: dict[str, Auth] = {
    **{word: method for method, word in AUTHENTICATION.items()},
    "plain": Auth.PASSWORD,
    "secure": Auth.PASSWORD_ENCRYPTED,
}
# Outgoing-only words Thunderbird treats as "none" (docs/thunderbird.md#authentication).
AUTH_AS_NONE = ("client-IP-address", "smtp-after-pop")

_SERVER_CHILDREN = ("hostname", "port", "socketType", "authentication", "username", "pop3")
_POP3_OPTIONS = {
    "leaveMessagesOnServer": "leave_messages_on_server",
    "daysToLeaveMessagesOnServer": "days_to_leave",
    "downloadOnBiff": "download_on_biff",
}
NAME_MAX, SHORT_NAME_MAX = 100, 40
_URL: TypeAdapter[str] = TypeAdapter(Url)


def _text(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _describe(element: etree._Element) -> str:
    kind = element.get("type")
    return f"<{element.tag}{f' type={kind!r}' if kind else ''}>"


def _auth(server: etree._Element, outgoing: bool, notes: list[str]) -> list[str]:
    methods: list[str] = []
    for element in server.findall("authentication"):
        word = _text(element)
        if outgoing and word in AUTH_AS_NONE:
            notes.append(f"authentication {word!r}: Thunderbird treats it as 'none'")
            method = Auth.NONE.value
        elif word in AUTH:
            method = AUTH[word].value
        else:
            notes.append(f"not mapped: authentication {word!r} (no equivalent)")
            continue
        if method not in methods:
            methods.append(method)
    if Auth.NONE.value in methods and len(methods) > 1:
        notes.append("not mapped: 'none' next to other methods (the format forbids it)")
        methods.remove(Auth.NONE.value)
    if not methods:
        notes.append("no usable authentication given; the format's default 'password' applies")
    return methods


def _pop3(server: etree._Element, notes: list[str]) -> dict[str, Any] | None:
    element = server.find("pop3")
    if element is None:
        return None
    options: dict[str, Any] = {}
    for child in element:
        key, text = _POP3_OPTIONS.get(str(child.tag)), _text(child)
        if key is None:
            notes.append(f"not mapped: pop3 option <{child.tag}> (no equivalent)")
        elif key == "days_to_leave" and text.isdigit():
            options[key] = int(text)
        elif key != "days_to_leave" and text in ("true", "false"):
            options[key] = text == "true"
        else:
            notes.append(f"not mapped: pop3 option <{child.tag}> {text!r} (not valid)")
    return options or None


def _server_data(server: etree._Element, outgoing: bool, notes: list[str]) -> dict[str, Any]:
    data: dict[str, Any] = {"protocol": server.get("type"), "host": _text(server.find("hostname"))}
    port = _text(server.find("port"))
    data["port"] = int(port) if port.isdigit() else port
    sockets = [_text(e) for e in server.findall("socketType")]
    if sockets:
        data["security"] = SECURITY[sockets[0]].value if sockets[0] in SECURITY else sockets[0]
    if len(sockets) > 1:
        notes.append(f"not mapped: socketType {', '.join(sockets[1:])} (only the first is kept)")
    methods = _auth(server, outgoing, notes)
    if methods:
        data["auth"] = methods
    username = server.find("username")
    if username is not None:
        data["username"] = _text(username)
    elif outgoing and methods != ["none"]:  # with auth none, no username is the default
        notes.append("no username in the original; the format's default %EMAILADDRESS% applies")
    pop3 = _pop3(server, notes)
    if pop3:
        data["pop3"] = pop3
    for child in server:
        if child.tag not in _SERVER_CHILDREN:
            notes.append(f"not mapped: <{child.tag}> (no equivalent)")
    return data


def _validation_reason(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"] if "[" not in str(p))
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}".removeprefix(": ")


def _server_item(data: dict[str, Any], notes: list[str]) -> list[Item]:
    block = [Item("protocol", data["protocol"], notes)]
    for key in ("host", "port", "security", "auth", "username"):
        value = data.get(key)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]  # auth: password, not [password]
        if value is not None:
            block.append(Item(key, value))
    if "pop3" in data:
        block.append(Item("pop3", Nested([Item(k, v) for k, v in data["pop3"].items()])))
    return block


def _servers(provider: etree._Element, outgoing: bool, skipped: list[str]) -> list[list[Item]]:
    tag = "outgoingServer" if outgoing else "incomingServer"
    model = OutgoingFile if outgoing else IncomingFile
    protocols = ("smtp",) if outgoing else ("imap", "pop3")
    blocks = []
    for element in provider.findall(tag):
        if element.get("type") not in protocols:
            skipped.append(f"{_describe(element)}: the format has only {'/'.join(protocols)}")
            continue
        notes: list[str] = []
        data = _server_data(element, outgoing, notes)
        try:
            model.model_validate(data)
        except ValidationError as error:
            reason = _validation_reason(error)
            skipped.append(f"{_describe(element)} {data.get('host')!r}: {reason}")
            continue
        blocks.append(_server_item(data, notes))
    return blocks


def _domains(provider: etree._Element, notes: list[str]) -> list[str]:
    domains: list[str] = []
    for element in provider.findall("domain"):
        try:
            domain = normalize_domain(_text(element))
        except AddressError as error:
            notes.append(f"not mapped: domain {_text(element)!r} ({error})")
            continue
        if domain not in domains:
            domains.append(domain)
    shown = [display_domain(domain) for domain in domains]  # people read U-labels
    provider_id = provider.get("id", "")
    if domains and provider_id and provider_id.lower() not in domains:
        notes.append(f"emailProvider id {provider_id!r} is not one of its domains;"
                     f" the first domain ({shown[0]}) becomes the id")
    return shown


def _text_item(key: str, text: str, limit: int) -> Item:
    if len(text) <= limit:
        return Item(key, text)
    return Item(key, text[:limit], [f"shortened to {limit} characters from {text!r}"])


def _links(root: etree._Element, provider: etree._Element, notes: list[str]) -> list[Item]:
    docs = [e.get("url") for e in provider.findall("documentation")]
    webmail = root.find("webMail/loginPage")
    candidates = [
        ("webmail", webmail.get("url") if webmail is not None else None),
        ("help_url", docs[0] if docs else None),
        ("caldav", _text(root.find("calendar/serverURL")) or None),
        ("carddav", _text(root.find("addressBook/serverURL")) or None),
    ]
    items = []
    for key, url in candidates:
        if not url:
            continue
        try:
            _URL.validate_python(url)
        except ValidationError:
            notes.append(f"{key} {url!r}: not an http(s) URL the format accepts")
            continue
        items.append(Item(key, url))
    return items


def _unmapped_top_level(root: etree._Element, provider: etree._Element) -> list[str]:
    notes = []
    known_provider = {"domain", "displayName", "displayShortName", "incomingServer",
                      "outgoingServer", "documentation"}
    for child in provider:
        if child.tag not in known_provider:
            notes.append(f"<{child.tag}>: no equivalent")
    docs = provider.findall("documentation")
    if len(docs) > 1:
        notes.append(f"<documentation>: only the first of {len(docs)} links is kept")
    for child in root:
        if child.tag == "oAuth2":
            notes.append("<oAuth2>: Thunderbird ignores it (autoconfig docs thunderbird#oauth2)")
        elif child.tag == "webMail":
            if child.find("loginPageInfo") is not None:
                notes.append("<webMail><loginPageInfo>: no equivalent (loginPage kept as webmail)")
        elif child.tag not in ("emailProvider", "addressBook", "calendar"):
            notes.append(f"<{child.tag}>: no equivalent")
    return notes


def import_thunderbird(xml: bytes, source: str) -> str:
    """The domain file YAML for a clientConfig document; raise ImportFailedError if none."""
    try:
        # The locked-down parser (no entities, DTDs or network): the file may come from anywhere.
        root = etree.fromstring(xml, request_parser())
    except etree.XMLSyntaxError as error:
        raise ImportFailedError(f"{source}: not well-formed XML: {error}") from None
    provider = root.find("emailProvider")
    if root.tag != "clientConfig" or provider is None:
        raise ImportFailedError(f"{source}: not a Thunderbird clientConfig (no <emailProvider>)")
    header = [
        f"Imported from {source} by `autoconfig import xml`.",
        "Read the comments, then run `autoconfig check` before serving it.",
    ]
    domain_notes: list[str] = []
    domains = _domains(provider, domain_notes)
    if not domains:
        raise ImportFailedError(f"{source}: no usable <domain>; {'; '.join(domain_notes)}")
    skipped: list[str] = []
    incoming = _servers(provider, False, skipped)
    outgoing = _servers(provider, True, skipped)
    if not incoming or not outgoing:
        missing = "incoming" if not incoming else "outgoing"
        detail = f": {'; '.join(skipped)}" if skipped else ""
        raise ImportFailedError(f"{source}: no {missing} server the format can express{detail}")
    links = _links(root, provider, skipped)
    header += [f"not mapped: {note}" for note in skipped + _unmapped_top_level(root, provider)]
    name = _text(provider.find("displayName")) or domains[0]
    block = [_text_item("name", name, NAME_MAX)]
    short_name = _text(provider.find("displayShortName"))
    if short_name:
        block.append(_text_item("short_name", short_name, SHORT_NAME_MAX))
    block += [
        Item("domains", list(domains), domain_notes),
        Item("incoming", Entries(incoming)),
        Item("outgoing", Entries(outgoing)),
        *links,
    ]
    return emit_document(header, block)
