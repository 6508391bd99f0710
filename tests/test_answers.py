"""The answer functions themselves: a request in, status, headers and bytes out.

No server and no front: each client family's function is called with an ``Ask`` and the
services built from the bundled domain files, as the front calls it. The end-to-end
tests (the installed wheel behind gunicorn and nginx) check the same answers where
clients meet them.
"""

from __future__ import annotations

import json
import plistlib
from urllib.parse import parse_qsl

import pytest
from lxml import etree

from autoconfig.address import EmailAddress
from autoconfig.answers import apple, autodiscover, brand, operators, pacc, thunderbird, wellknown
from autoconfig.answers.request import MAX_QUERY_FIELDS, Answer, Ask, Query
from autoconfig.answers.services import Services
from autoconfig.errors import BadRequestError, UnknownDomainError
from autoconfig.pox import NS_OUTLOOK_RESPONSE, PoxError
from autoconfig.render.pacc import render_pacc
from autoconfig.render.thunderbird import render_thunderbird
from autoconfig.server.app import Application
from tests.support.pox_requests import autodiscover_request

NS = {"r": NS_OUTLOOK_RESPONSE}


@pytest.fixture
def services(app: Application) -> Services:
    """The services of the in-process app on the bundled domains (no reload thread)."""
    return app.services


def header(answer: Answer, name: str) -> str | None:
    return next((value for key, value in answer.headers if key.lower() == name.lower()), None)


def test_thunderbird_answers_the_shared_document_with_its_etag(services: Services) -> None:
    ask = Ask("GET", "/mail/config-v1.1.xml", Query("emailaddress=alice%40example.com"))
    answer = thunderbird.client_config(ask, services)
    config = services.store.snapshot.registry.lookup("example.com")
    assert config is not None
    assert answer.status == 200
    assert answer.body == render_thunderbird(config)
    assert answer.etag is not None and len(answer.etag) == 32
    assert header(answer, "Content-Type") == "text/xml; charset=utf-8"
    assert header(answer, "Cache-Control") == f"public, max-age={services.settings.cache_max_age}"


def test_thunderbird_without_an_address_takes_the_domain_from_the_host(
    services: Services,
) -> None:
    by_host = thunderbird.client_config(
        Ask("GET", "/mail/config-v1.1.xml", host="autoconfig.example.org:443"), services
    )
    by_address = thunderbird.client_config(
        Ask("GET", "/mail/config-v1.1.xml", Query("emailaddress=bob@example.org")), services
    )
    assert by_host.body == by_address.body
    assert by_host.etag == by_address.etag


def test_thunderbird_refuses_a_bad_address_and_an_unknown_domain(services: Services) -> None:
    with pytest.raises(BadRequestError, match="invalid email address"):
        thunderbird.client_config(
            Ask("GET", "/mail/config-v1.1.xml", Query("emailaddress=no-at-sign")), services
        )
    with pytest.raises(UnknownDomainError, match=r"no mail settings are served for nowhere\.test"):
        thunderbird.client_config(
            Ask("GET", "/mail/config-v1.1.xml", Query("emailaddress=a@nowhere.test")), services
        )


def test_pox_post_answers_outlooks_settings(services: Services) -> None:
    ask = Ask("POST", "/autodiscover/autodiscover.xml", content_type="text/xml",
              body=autodiscover_request("alice@example.com"))
    answer = autodiscover.pox_post(ask, services)
    assert answer.status == 200
    document = etree.fromstring(answer.body)
    assert document.xpath("//r:Protocol[r:Type='IMAP']/r:Server/text()", namespaces=NS) == [
        "mail.example.com"]
    assert document.xpath("//r:Protocol[r:Type='IMAP']/r:LoginName/text()", namespaces=NS) == [
        "alice@example.com"]


def test_pox_post_refuses_a_form_and_answers_an_unknown_domain_in_pox(
    services: Services,
) -> None:
    body = autodiscover_request("alice@nowhere.test")
    form = Ask("POST", "/autodiscover/autodiscover.xml",
               content_type="application/x-www-form-urlencoded", body=body)
    with pytest.raises(PoxError) as caught:
        autodiscover.pox_post(form, services)
    assert caught.value.status == 415
    unknown = Ask("POST", "/autodiscover/autodiscover.xml", content_type="text/xml", body=body)
    with pytest.raises(PoxError) as caught:
        autodiscover.pox_post(unknown, services)
    answer = autodiscover.pox_errors(caught.value, unknown)
    assert answer.status == 200  # a POX Error travels in a 200 answer
    error = etree.fromstring(answer.body)
    namespace = {"e": "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"}
    assert error.xpath("//e:Error/e:ErrorCode/text()", namespaces=namespace) == ["500"]
    assert error.xpath("//e:Error/e:Message/text()", namespaces=namespace) == [
        "The email address can't be found."]


def test_v2_names_the_protocol_url_and_its_errors_are_json(services: Services) -> None:
    ask = Ask("GET", "/autodiscover/autodiscover.json/v1.0/alice@example.com",
              Query("Protocol=AutodiscoverV1"), params={"address": "alice@example.com"})
    answer = autodiscover.v2_path(ask, services)
    assert answer.status == 200
    assert json.loads(answer.body)["Protocol"] == "AutodiscoverV1"
    unknown = autodiscover.v2_errors(UnknownDomainError("no mail settings"), ask)
    assert unknown.status == 404
    assert json.loads(unknown.body)["ErrorCode"] == "DomainNotFound"
    bug = autodiscover.v2_errors(None, ask)
    assert bug.status == 500
    assert json.loads(bug.body)["ErrorCode"] == "InternalError"


def test_the_profile_is_a_plist_in_the_asked_language(services: Services) -> None:
    ask = Ask("GET", "/apple/profile.mobileconfig",
              Query("emailaddress=alice%40example.com&protocol=imap&lang=de"))
    answer = apple.profile(ask, services)
    assert answer.status == 200
    assert header(answer, "Content-Type") == "application/x-apple-aspen-config"
    disposition = 'attachment; filename="example.com-imap.mobileconfig"'
    assert header(answer, "Content-Disposition") == disposition
    profile = plistlib.loads(answer.body)
    assert profile["PayloadContent"][0]["EmailAccountType"] == "EmailTypeIMAP"
    english = apple.profile(
        Ask("GET", "/apple/profile.mobileconfig",
            Query("emailaddress=alice%40example.com&protocol=imap")), services)
    assert english.body != answer.body  # the profile's texts follow the language
    by_header = apple.profile(
        Ask("GET", "/apple/profile.mobileconfig",
            Query("emailaddress=alice%40example.com&protocol=imap"),
            accept_language="de-AT, en;q=0.5"), services)
    assert by_header.body == answer.body


def test_the_profile_refuses_a_password_in_the_url(services: Services) -> None:
    ask = Ask("GET", "/apple/profile.mobileconfig",
              Query("emailaddress=alice%40example.com&password=secret"))
    with pytest.raises(BadRequestError, match="passwords are never sent"):
        apple.profile(ask, services)


@pytest.mark.parametrize(("query", "name"), [
    ("emailaddress=alice%40example.com", "example.com-imap.mobileconfig"),
    ("emailaddress=alice%40example.com&protocol=pop3", "example.com-pop3.mobileconfig"),
    ("emailaddress=user%40customer-two.example&protocol=pop3",
     "customer-two.example-pop3.mobileconfig"),
])
def test_each_profile_downloads_under_its_own_file_name(
    services: Services, query: str, name: str
) -> None:
    answer = apple.profile(Ask("GET", "/apple/profile.mobileconfig", Query(query)), services)
    assert header(answer, "Content-Disposition") == f'attachment; filename="{name}"'


def test_an_activesync_profile_has_its_own_file_name() -> None:
    address = EmailAddress("alice", "example.com")
    assert apple.profile_disposition(address, apple.ACTIVESYNC) == (
        'attachment; filename="example.com-activesync.mobileconfig"'
    )


def test_an_idn_profile_is_named_in_unicode_too(services: Services) -> None:
    ask = Ask("GET", "/apple/profile.mobileconfig",
              Query("emailaddress=j%C3%BCrgen%40B%C3%BCcher.example&protocol=imap"))
    assert header(apple.profile(ask, services), "Content-Disposition") == (
        'attachment; filename="xn--bcher-kva.example-imap.mobileconfig";'
        " filename*=UTF-8''b%C3%BCcher.example-imap.mobileconfig"
    )


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize("error", [
    BadRequestError("the address has no '@'"), UnknownDomainError("no mail settings"),
])
def test_a_browser_is_sent_to_the_page_for_a_profile_error(error: BadRequestError) -> None:
    errors = apple.errors_shown_on("/apple")
    query = Query("emailaddress=alice%40unknown.example&protocol=pop3&lang=de")
    answer = errors(error, Ask("GET", "/apple/profile.mobileconfig", query, accept=BROWSER))
    assert answer.status == 303
    assert header(answer, "Location") == (
        "/apple?emailaddress=alice%40unknown.example&protocol=pop3&lang=de"
    )
    password = Query("emailaddress=a%40example.com&password=secret")
    refused = errors(error, Ask("GET", "/apple/profile.mobileconfig", password, accept=BROWSER))
    assert header(refused, "Location") == "/apple?emailaddress=a%40example.com&password="


@pytest.mark.parametrize(("accept", "method", "raw"), [
    ("", "GET", "emailaddress=alice"),  # curl, scripts
    ("*/*", "GET", "emailaddress=alice"),  # the device's own profile download
    ("text/html;q=0", "GET", "emailaddress=alice"),
    (BROWSER, "POST", "emailaddress=alice"),
    (BROWSER, "GET", ""),  # nothing the page could show
])
def test_other_clients_keep_plain_text_profile_errors(accept: str, method: str, raw: str) -> None:
    ask = Ask(method, "/apple/profile.mobileconfig", Query(raw), accept=accept)
    answer = apple.errors_shown_on("/apple")(BadRequestError("no '@'"), ask)
    assert (answer.status, header(answer, "Content-Type")) == (400, "text/plain; charset=utf-8")
    assert answer.body == b"no '@'\n"
    bug = apple.errors_shown_on("/apple")(None, Ask("GET", "/", Query(raw), accept=BROWSER))
    assert bug.status == 500


def test_pacc_is_the_document_dns_records_hashes(services: Services) -> None:
    answer = pacc.user_agent_configuration(
        Ask("GET", "/.well-known/user-agent-configuration.json",
            host="ua-auto-config.example.com"), services)
    config = services.store.snapshot.registry.lookup("example.com")
    assert config is not None
    assert answer.body == render_pacc(config, "example.com")
    assert header(answer, "Access-Control-Allow-Origin") == "*"


def test_caldav_redirects_to_the_files_url_and_refuses_a_domain_without_one(
    services: Services,
) -> None:
    answer = wellknown.caldav(Ask("PROPFIND", "/.well-known/caldav", host="example.com"),
                              services)
    assert answer.status == 301
    assert header(answer, "Location") == "https://dav.example.com/caldav/"
    with pytest.raises(UnknownDomainError, match="offers no caldav service"):
        wellknown.caldav(Ask("GET", "/.well-known/caldav", host="example.org"), services)


def test_operators_see_what_is_served(services: Services) -> None:
    health = json.loads(operators.healthz(Ask("GET", "/healthz"), services).body)
    registry = services.store.snapshot.registry
    assert health == {"status": "ok", "domains": len(registry.by_domain),
                      "files": len(registry.files), "errors": len(registry.errors)}
    ready = operators.readyz(Ask("GET", "/readyz"), services)
    assert ready.status == 200
    assert json.loads(ready.body)["generation"] == 1


def test_a_brand_file_of_an_unknown_domain_is_a_404(services: Services) -> None:
    with pytest.raises(UnknownDomainError, match=r"no mail settings are served for nowhere\.test"):
        brand.logo(Ask("GET", "/brand/nowhere.test/logo", params={"domain": "nowhere.test"}),
                   services)


@pytest.mark.parametrize("raw", [
    "emailaddress=alice%40example.com", "a=1&a=2&b", "x=%FF&y=a+b%2B", "=v&k=",
    "emailaddress=j%C3%BCrgen@b%C3%BCcher.example", "a&&b=1", "k=v=w", "",
])
def test_the_query_is_read_as_the_standard_library_reads_it(raw: str) -> None:
    query = Query(raw)
    expected = parse_qsl(raw, keep_blank_values=True, errors="replace")
    assert dict(query) == dict(reversed(expected))  # the first value of each key
    assert query.get_any_case("EMAILADDRESS") == next(
        (value for key, value in expected if key == "emailaddress"), ""
    )


def test_more_query_fields_than_any_client_sends_are_refused() -> None:
    with pytest.raises(BadRequestError, match="too many query parameters"):
        Query("&".join(f"k{i}=v" for i in range(MAX_QUERY_FIELDS + 1)))
