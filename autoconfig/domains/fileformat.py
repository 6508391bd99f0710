"""The domain file format (the YAML contract), validated by pydantic.

pydantic gives us typed validation, precise error locations (which ``load``
maps onto file lines) and the JSON Schema that ``autoconfig schema`` prints for
editors, all from this one definition. Validated files become ``records``.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    StrictBool,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from autoconfig.address import AddressError, normalize_domain, plain_domain_names
from autoconfig.domains.logo import read_logo
from autoconfig.domains.records import (
    PLACEHOLDER_DOMAIN,
    STANDARD_PORTS,
    USERNAME_PLACEHOLDERS,
    Auth,
    DirectorySearch,
    DomainConfig,
    Image,
    OAuth2Settings,
    Pop3Options,
    Protocol,
    Reveal,
    Security,
    Server,
)

_PLACEHOLDER = re.compile(r"%[A-Za-z]+%")
_LDH = re.compile(r"[a-z0-9.-]*")
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def _no_control_chars(text: str) -> str:
    if any(not c.isprintable() for c in text):
        raise ValueError("expected text without control characters or line breaks")
    return text


def _domain_name(text: str) -> str:
    try:
        return normalize_domain(text)
    except AddressError as error:
        raise ValueError(f"expected a domain name, but {error}") from None


@lru_cache(maxsize=4096)  # hosters name the same few hosts in thousands of files
def _host_template(text: str) -> str:
    """A host name, where ``%EMAILDOMAIN%`` may stand for the user's domain."""
    for placeholder in _PLACEHOLDER.findall(text):
        if placeholder != PLACEHOLDER_DOMAIN:
            raise ValueError(f"expected a host name; {placeholder} is not allowed here")
    if PLACEHOLDER_DOMAIN not in text:
        return _domain_name(text)
    rest = text.replace(PLACEHOLDER_DOMAIN, "").lower()
    if not _LDH.fullmatch(rest):
        raise ValueError("expected ASCII letters, digits, '-' and '.' around %EMAILDOMAIN%")
    checked = _domain_name(text.replace(PLACEHOLDER_DOMAIN, "example.org"))
    if not checked:
        raise ValueError("expected a host name")
    return text.replace(PLACEHOLDER_DOMAIN, "\0").lower().replace("\0", PLACEHOLDER_DOMAIN)


def _username_template(text: str) -> str:
    _no_control_chars(text)
    for placeholder in _PLACEHOLDER.findall(text):
        if placeholder not in USERNAME_PLACEHOLDERS:
            raise ValueError(
                f"expected literal text or the placeholders {', '.join(USERNAME_PLACEHOLDERS)};"
                f" {placeholder} is not one of them"
            )
    return text


def _http_url(text: str) -> str:
    try:
        _HTTP_URL.validate_python(text)
    except ValidationError:
        raise ValueError("expected an http:// or https:// URL") from None
    return text


def _https_url(text: str) -> str:
    """An https URL without query or fragment: what RFC 8414 section 2 allows an issuer."""
    _http_url(text)
    if not text.lower().startswith("https://"):
        raise ValueError("expected an https:// URL (OAuth2 needs TLS, RFC 8414 section 2)")
    if "?" in text or "#" in text:
        raise ValueError("expected a URL without ?query or #fragment (RFC 8414 section 2)")
    return text


# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def _scope(text: str) -> str:
    if not _SCOPE_TOKEN.fullmatch(text):
        raise ValueError(
            "expected one scope without spaces, quotes or backslashes (RFC 6749 section 3.3);"
            " list several scopes as a YAML list"
        )
    return text


# Validation context keys (``loader`` passes them): the domain file's folder, and where
# the logo validator leaves the checked images so they are read only once.
CONTEXT_FOLDER = "folder"
CONTEXT_IMAGES = "images"
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def _logo_path(text: str, info: ValidationInfo) -> str:
    """A logo file, relative to the domain file's folder; checked (type, size) now."""
    context = info.context if isinstance(info.context, dict) else {}
    path = Path(context.get(CONTEXT_FOLDER, ".")) / text
    image = read_logo(path)
    context.setdefault(CONTEXT_IMAGES, {})[text] = image
    return text


def _color(text: str) -> str:
    if not _COLOR.fullmatch(text):
        raise ValueError("expected a colour as #RRGGBB, e.g. '#0a58ca' (quote it in YAML)")
    return text.lower()


def _mx_pattern(text: str) -> str:
    wildcard = text.startswith("*.")
    name = _domain_name(text[2:] if wildcard else text)
    return f"*.{name}" if wildcard else name


def _domain_names(value: Any, validate_each: ValidatorFunctionWrapHandler) -> Any:
    """A file's ``domains``: plain ASCII names all at once (a hoster may list 100 000),
    any other list name by name, so that an error points at its item."""
    plain = plain_domain_names(value) if isinstance(value, list) else None
    return plain if plain is not None else validate_each(value)


def _each_once(domains: list[str]) -> list[str]:
    if len(set(domains)) == len(domains):  # linear: one file may list 100 000 domains
        return domains
    repeated = sorted(d for d, n in Counter(domains).items() if n > 1)
    if repeated:
        raise ValueError(f"expected each domain once; {', '.join(repeated)} appears twice")
    return domains


def _word_or_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


# Other words the format accepts for one of its words: mail clients say SSL for implicit TLS.
WORD_ALIASES = {"ssl": Security.TLS.value}


def _security_alias(value: Any) -> Any:
    return WORD_ALIASES.get(value, value) if isinstance(value, str) else value


def _auth_list(methods: list[Auth]) -> list[Auth]:
    if len(set(methods)) != len(methods):
        raise ValueError("expected each method once")
    if Auth.NONE in methods and len(methods) > 1:
        raise ValueError("expected 'none' alone, not combined with other methods")
    return methods


_AUTH_SCHEMA: dict[str, Any] = {"type": "string", "enum": [method.value for method in Auth]}

Text = Annotated[StrictStr, Field(min_length=1, max_length=100), AfterValidator(_no_control_chars)]
DomainName = Annotated[StrictStr, AfterValidator(_domain_name)]
HostTemplate = Annotated[
    StrictStr,
    AfterValidator(_host_template),
    Field(description="Host name; may contain %EMAILDOMAIN% (hosters: mail.%EMAILDOMAIN%)."),
]
UsernameTemplate = Annotated[
    StrictStr,
    Field(min_length=1, max_length=255),
    AfterValidator(_username_template),
    Field(description="Login name: text, %EMAILADDRESS%, %EMAILLOCALPART% or %EMAILDOMAIN%."),
]
Url = Annotated[StrictStr, AfterValidator(_http_url), Field(json_schema_extra={"format": "uri"})]
PortNumber = Annotated[StrictInt, Field(ge=1, le=65535)]
SecurityWord = Annotated[
    Security,
    BeforeValidator(_security_alias),
    WithJsonSchema({"enum": ["tls", "ssl", "starttls", "none"], "type": "string"}),
    Field(description="tls (implicit TLS, clients say SSL; alias ssl) | starttls | none"),
]
AuthMethods = Annotated[
    list[Auth],
    BeforeValidator(_word_or_list),
    Field(min_length=1),
    AfterValidator(_auth_list),
    WithJsonSchema(
        {
            "anyOf": [
                _AUTH_SCHEMA,
                {"type": "array", "items": _AUTH_SCHEMA, "minItems": 1, "uniqueItems": True},
            ],
            "description": "A method, or a list in order of preference.",
        }
    ),
]
MxPattern = Annotated[StrictStr, AfterValidator(_mx_pattern)]
HttpsUrl = Annotated[
    StrictStr, AfterValidator(_https_url), Field(json_schema_extra={"format": "uri"})
]
Scope = Annotated[StrictStr, Field(min_length=1, max_length=200), AfterValidator(_scope)]
LogoPath = Annotated[
    StrictStr,
    Field(min_length=1, max_length=255),
    AfterValidator(_logo_path),
    Field(description="Logo for the settings page: a PNG, JPEG, GIF, WebP or SVG file of"
          " at most 100 KiB, relative to this file's folder."),
]
Color = Annotated[
    StrictStr,
    AfterValidator(_color),
    Field(json_schema_extra={"pattern": "^#[0-9a-fA-F]{6}$"},
          description="Accent colour of the settings page (its buttons), as #RRGGBB."),
]


class _Strict(BaseModel):
    """Shared settings: unknown keys are errors, nothing changes after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Pop3File(_Strict):
    """``pop3:`` options of a POP3 server."""

    leave_messages_on_server: StrictBool | None = Field(
        default=None, description="Keep messages on the server after downloading them."
    )
    days_to_leave: Annotated[StrictInt, Field(ge=1, le=36500)] | None = Field(
        default=None, description="Delete them from the server after this many days."
    )
    download_on_biff: StrictBool | None = Field(
        default=None, description="Download new messages when the client checks for them."
    )


class _ServerFile(_Strict):
    host: HostTemplate
    port: PortNumber | None = Field(
        default=None, description="Default: the standard port for protocol and security."
    )
    security: SecurityWord
    auth: AuthMethods = Field(default_factory=lambda: [Auth.PASSWORD])
    username: UsernameTemplate | None = Field(
        default=None,
        description="Default: %EMAILADDRESS%; none for an outgoing server with auth: none.",
    )


class IncomingFile(_ServerFile):
    """One ``incoming:`` entry."""

    protocol: Literal[Protocol.IMAP, Protocol.POP3] = Field(
        description="List IMAP before POP3: clients take the first they support."
    )
    pop3: Pop3File | None = Field(default=None, description="Hints for POP3 clients.")

    @model_validator(mode="after")
    def _pop3_only_for_pop3(self) -> IncomingFile:
        if self.pop3 is not None and self.protocol is not Protocol.POP3:
            raise ValueError("expected pop3 options only on a pop3 server")
        return self


class OutgoingFile(_ServerFile):
    """One ``outgoing:`` entry."""

    protocol: Literal[Protocol.SMTP] = Field(
        default=Protocol.SMTP, description="May be left out: SMTP is the only one."
    )


_ATTRIBUTE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")  # RFC 4512 section 1.4 descr


def _ldap_filter(text: str) -> str:
    """A search filter template: parenthesised, balanced, with the address in it."""
    _no_control_chars(text)
    if not any(p in text for p in USERNAME_PLACEHOLDERS):
        raise ValueError(
            "expected the user in the filter: one of " + ", ".join(USERNAME_PLACEHOLDERS)
        )
    for placeholder in _PLACEHOLDER.findall(text):
        if placeholder not in USERNAME_PLACEHOLDERS:
            raise ValueError(f"expected {', '.join(USERNAME_PLACEHOLDERS)}; not {placeholder}")
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
    if not (text.startswith("(") and text.endswith(")")) or depth != 0:
        raise ValueError(
            "expected an LDAP filter in balanced parentheses, e.g. (mail=%EMAILADDRESS%)"
        )
    return text


def _attribute(text: str) -> str:
    if not _ATTRIBUTE.fullmatch(text):
        raise ValueError("expected an attribute name such as uid or displayName")
    return text


LdapText = Annotated[StrictStr, Field(min_length=1, max_length=500)]
Attribute = Annotated[StrictStr, AfterValidator(_attribute)]


class DirectoryFile(_Strict):
    """``directory:``: look each user's login name up in the LDAP directory the process
    settings name (AUTOCONFIG_LDAP_*), where the client sends the address."""

    base: Annotated[LdapText, AfterValidator(_no_control_chars)] = Field(
        description="Search base, e.g. ou=people,dc=example,dc=org."
    )
    filter: Annotated[LdapText, AfterValidator(_ldap_filter)] = Field(
        default="(mail=%EMAILADDRESS%)",
        description="Search filter; %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% are"
        " replaced by the escaped parts of the address (RFC 4515).",
    )
    login_attribute: Attribute = Field(default="uid", description="Holds the login name.")
    name_attribute: Attribute | None = Field(
        default=None, description="Holds the person's name (e.g. displayName or cn)."
    )
    reveal: Reveal = Field(
        default=Reveal.LOGIN_AND_NAME,
        description="What answers show of the directory, to anyone who asks for any address:"
        " login-and-name; login (never the name; a login the template gives anyway is"
        " not revealed); nothing (every answer is the template). See docs/directory.md.",
    )


class OAuth2File(_Strict):
    """``oauth2:``: the domain's OAuth2 server, for public clients only."""

    issuer: HttpsUrl = Field(
        description="Issuer identifier (RFC 8414), e.g. https://login.example.com;"
        " PACC's oauth-public issuer."
    )
    authorization_url: HttpsUrl | None = Field(
        default=None, description="Where the user logs in (the authorization endpoint)."
    )
    token_url: HttpsUrl | None = Field(default=None, description="The token endpoint.")
    scopes: Annotated[list[Scope], BeforeValidator(_word_or_list), Field(min_length=1)] | None = (
        Field(default=None, description="A scope, or a list of them; no spaces in a scope.")
    )
    client_id: Text | None = Field(
        default=None, description="A public client id every client may use (no secret)."
    )
    # Refused with its own message; never part of the format (hence no schema entry).
    client_secret: SkipJsonSchema[Any] = Field(default=None, exclude=True)

    @field_validator("client_secret", mode="before")
    @classmethod
    def _no_secret(cls, _value: Any) -> None:
        raise PydanticCustomError(
            "secret_refused",
            "a client secret has no place in a domain file: every client (and anyone else)"
            " downloads the documents it feeds, so it would be public; register a public"
            " client (PKCE, draft-ietf-mailmaint-oauth-public) and give only client_id",
        )


class DomainFile(_Strict):
    """A whole domain file."""

    model_config = ConfigDict(
        title="autoconfig domain file",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    name: Text = Field(description="Shown by clients (Thunderbird displayName, profile name).")
    short_name: Annotated[Text, Field(max_length=40)] | None = Field(
        default=None, description="A shorter label for clients that show one."
    )
    domains: Annotated[
        list[DomainName], WrapValidator(_domain_names), AfterValidator(_each_once)
    ] = Field(
        min_length=1, description="Mail domains served by this file; the first one is the id."
    )
    incoming: list[IncomingFile] = Field(min_length=1, description="In order of preference.")
    outgoing: list[OutgoingFile] = Field(min_length=1, description="In order of preference.")
    webmail: Url | None = Field(default=None, description="The webmail login page.")
    help_url: Url | None = Field(default=None, description="The provider's help for mail set-up.")
    caldav: Url | None = Field(
        default=None,
        description="Calendar server: Apple profiles, PACC, /.well-known/caldav, SRV records.",
    )
    carddav: Url | None = Field(
        default=None,
        description="Contacts server: Apple profiles, PACC, /.well-known/carddav, SRV records.",
    )
    ews: Url | None = Field(
        default=None,
        description="Exchange Web Services endpoint, e.g. https://mail.example.org/EWS/Exchange.asmx"
        " (Thunderbird 150+, Outlook for Mac, exchangelib).",
    )
    owa: Url | None = Field(
        default=None, description="Outlook on the web (or the groupware's web app) login page."
    )
    activesync: Url | None = Field(
        default=None,
        description="Exchange ActiveSync endpoint, e.g."
        " https://mail.example.org/Microsoft-Server-ActiveSync (phones' Exchange accounts).",
    )
    jmap: Url | None = Field(
        default=None,
        description="JMAP session resource (RFC 8620 section 2), e.g."
        " https://mail.example.org/.well-known/jmap.",
    )
    mx: list[MxPattern] | None = Field(
        default=None,
        description="Serve any domain whose best MX matches one of these host names or"
        " '*.suffix' patterns with this file's settings.",
    )
    directory: DirectoryFile | None = Field(
        default=None,
        description="Look each user's login name up in LDAP (needs AUTOCONFIG_LDAP_URL).",
    )
    oauth2: OAuth2File | None = Field(
        default=None,
        description="OAuth2 for public clients: PACC oauth-public and clientConfig <oAuth2>.",
    )
    logo: LogoPath | None = None
    accent_color: Color | None = None


# The two keys that tell apart the files a hoster generates from one template: validated
# alone when the rest of a file equals one already loaded (``load.SharedParts``), with the
# very same definitions as in DomainFile.
NameAndDomains = create_model(
    "NameAndDomains",
    __config__=ConfigDict(extra="ignore", frozen=True),
    **{  # type: ignore[call-overload]
        key: (DomainFile.model_fields[key].annotation, DomainFile.model_fields[key])
        for key in ("name", "domains")
    },
)


def _username(entry: IncomingFile | OutgoingFile) -> str | None:
    """The login name template; an outgoing server that needs no login has none.

    Thunderbird requires ``<username>`` on incoming servers only (readFromXML.sys.mjs),
    so the default stays ``%EMAILADDRESS%`` there.
    """
    if entry.username is not None:
        return entry.username
    if isinstance(entry, OutgoingFile) and list(entry.auth) == [Auth.NONE]:
        return None
    return "%EMAILADDRESS%"


def _server(entry: IncomingFile | OutgoingFile) -> Server:
    pop3 = None
    if isinstance(entry, IncomingFile) and entry.pop3 is not None:
        pop3 = Pop3Options(**entry.pop3.model_dump())
    return Server(
        protocol=entry.protocol,
        host=entry.host,
        port=entry.port or STANDARD_PORTS[(entry.protocol, entry.security)],
        security=entry.security,
        auth=tuple(entry.auth),
        username=_username(entry),
        pop3=pop3,
    )


def to_record(
    document: DomainFile,
    source: str,
    images: dict[str, Image] | None = None,
    shared_servers: dict[Server, Server] | None = None,
) -> DomainConfig:
    """Turn a validated file into the frozen record renderers use.

    ``images``: the logos the validation read (its context), so each is read once.
    ``shared_servers``: where an equal server already made is taken from (and added to).
    """
    shared = {} if shared_servers is None else shared_servers
    logo = None
    if document.logo is not None:
        logo = (images or {}).get(document.logo) or read_logo(Path(document.logo))
    return DomainConfig(
        source=source,
        name=document.name,
        short_name=document.short_name,
        domains=tuple(document.domains),
        incoming=tuple(shared.setdefault(server, server) for server in map(
            _server, document.incoming)),
        outgoing=tuple(shared.setdefault(server, server) for server in map(
            _server, document.outgoing)),
        webmail=document.webmail,
        help_url=document.help_url,
        caldav=document.caldav,
        carddav=document.carddav,
        ews=document.ews,
        owa=document.owa,
        activesync=document.activesync,
        jmap=document.jmap,
        mx=tuple(document.mx or ()),
        directory=(
            None if document.directory is None
            else DirectorySearch(**document.directory.model_dump())
        ),
        oauth2=_oauth2(document.oauth2),
        logo=logo,
        accent_color=document.accent_color,
    )


def _oauth2(block: OAuth2File | None) -> OAuth2Settings | None:
    if block is None:
        return None
    return OAuth2Settings(
        issuer=block.issuer,
        authorization_url=block.authorization_url,
        token_url=block.token_url,
        scopes=tuple(block.scopes or ()),
        client_id=block.client_id,
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a domain file, for yaml-language-server and other editors."""
    return DomainFile.model_json_schema(mode="validation")
