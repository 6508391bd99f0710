"""Thunderbird's readers of autoconfig and Autodiscover XML, restated in Python for tests.

A "real client" oracle: given the bytes our server sends, say what Thunderbird would make
of them. Written from (not copied from) ``mozilla/releases-comm-central``:
``mail/components/accountcreation/modules/readFromXML.sys.mjs`` (commit 1457122d48),
``Sanitizer.sys.mjs``, ``ExchangeAutoDiscover.sys.mjs`` and ``FetchHTTP.sys.mjs``
(058114d348), ``AccountConfig.sys.mjs`` (00e3320bc7: defaults, ``isComplete``),
``mailnews/base/src/JXON.sys.mjs`` (1ae693417e), ``hostnameUtils.sys.mjs`` (02194537f1),
``OAuth2Providers.sys.mjs`` (restated in ``oauth_providers.py``, not imported from the
server, so the oracle cannot agree with the code under test by construction); reasons are the en-US
texts of ``accountCreationModel.properties`` and ``accountCreationUtil.properties``.

Thunderbird reads a JXON view of the DOM, and so does this module: elements are keyed by
qualified name (namespace URIs ignored, prefixes not); ``xmlns`` declarations count as
attributes; text is not trimmed; text spelling ``true``/``false`` in any case becomes a
boolean, numeric text a number (``" 993 "`` → 993, ``"007"`` → 7), whitespace-only text
NaN, an empty element ``true``, an element with attributes or children an object. Values
are turned back into strings the JavaScript way, so a missing ``displayName`` or incoming
``username`` reads ``"undefined"`` and ``<username/>`` reads ``"true"``, as in Thunderbird.
Not copied: JXON's date parsing, entity expansion (the parser here is locked down), and
JavaScript's exponent spelling of non-integer numbers.

``socket_type`` and ``auth`` use Thunderbird's constant names (``nsMsgSocketType``: plain,
alwaysSTARTTLS, SSL; ``nsMsgAuthMethod``: none, passwordCleartext, passwordEncrypted,
GSSAPI, NTLM, OAuth2, secure); the ``XML_*`` tables map autoconfig words onto them.
"""

from tests.support.thunderbird_reader.autoconfig_xml import read_client_config
from tests.support.thunderbird_reader.autodiscover import read_autodiscover_pox
from tests.support.thunderbird_reader.model import (
    AUTH_CLEARTEXT,
    AUTH_ENCRYPTED,
    AUTH_NONE,
    AUTH_OAUTH2,
    AUTH_SECURE,
    MSG_HOSTNAME,
    MSG_NO_AUTODISCOVER,
    MSG_NO_EMAIL_PROVIDER,
    MSG_NOT_ALLOWED,
    MSG_OUTGOING_NOT_SMTP,
    SOCKET_PLAIN,
    SOCKET_SSL,
    SOCKET_STARTTLS,
    XML_INCOMING_AUTH,
    XML_OUTGOING_AUTH,
    XML_SOCKET_TYPES,
    AutodiscoverErrorResponse,
    AutodiscoverResult,
    ClientConfig,
    Pop3Options,
    Server,
    SkippedServer,
    ThunderbirdRejects,
)

__all__ = [
    "AUTH_CLEARTEXT", "AUTH_ENCRYPTED", "AUTH_NONE", "AUTH_OAUTH2", "AUTH_SECURE",
    "MSG_HOSTNAME", "MSG_NOT_ALLOWED", "MSG_NO_AUTODISCOVER", "MSG_NO_EMAIL_PROVIDER",
    "MSG_OUTGOING_NOT_SMTP", "SOCKET_PLAIN", "SOCKET_SSL", "SOCKET_STARTTLS",
    "XML_INCOMING_AUTH", "XML_OUTGOING_AUTH", "XML_SOCKET_TYPES", "AutodiscoverErrorResponse",
    "AutodiscoverResult", "ClientConfig", "Pop3Options", "Server", "SkippedServer",
    "ThunderbirdRejects", "read_autodiscover_pox", "read_client_config",
]
