"""The settings page as people see it: their language, their provider, their device.

Real parts only: the server from the wheel (gunicorn), Debian's headless Chromium in
which every host name is 127.0.0.1 (so ``autoconfig.example.com`` reaches the server
with that Host header), the QR code decoded by zxing-cpp from the browser's own
rendering, and axe-core (npm) for accessibility. Every state is screenshotted into the
test's temporary folder (printed; ``pytest -s`` shows the paths).
"""

from __future__ import annotations

import io
import plistlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import zxingcpp
from PIL import Image
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.axe import axe_violations, install_axe
from tests.support.browser import (
    chromium,
    color_scheme,
    evaluate,
    identify_as,
    screenshot,
    scrolls_sideways,
    set_viewport,
)
from tests.support.domain_files import branded_bundled_domains
from tests.support.http import request
from tests.support.server import RunningServer, run_server

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
          " (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1")
MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15"
       " (KHTML, like Gecko) Version/18.1 Safari/605.1.15")
ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
           " Chrome/131.0.0.0 Mobile Safari/537.36")
WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
           " Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0")
LINUX = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
         " Chrome/131.0.0.0 Safari/537.36")
PHONE, DESKTOP = (360, 780), (1280, 900)
IPHONE_SIZE = (390, 844)  # CSS pixels of a current iPhone
LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10">'
        b'<rect width="40" height="10" fill="#7a1fa2"/></svg>')
ACCENT = "rgb(122, 31, 162)"  # #7a1fa2, the accent_color below


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The bundled domains, example.com with a logo and an accent colour."""
    folder = tmp_path_factory.mktemp("provider-pages")
    domains = branded_bundled_domains(folder, LOGO, "logo: logo.svg\naccent_color: '#7A1FA2'\n")
    with run_server(domains, folder / "server.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        yield driver


@pytest.fixture(scope="module")
def axe_source(tmp_path_factory: pytest.TempPathFactory) -> str:
    return install_axe(tmp_path_factory.mktemp("axe-core"))


def port_of(server: RunningServer) -> str:
    return server.base.rpartition(":")[2]


def visit(driver: WebDriver, url: str, *, agent: str = LINUX, language: str = "en",
          size: tuple[int, int] = PHONE) -> None:
    identify_as(driver, agent, language)
    set_viewport(driver, *size)
    color_scheme(driver, "light")
    driver.get(url)


def main_text(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "main").text)


def submit(driver: WebDriver, address: str, name: str = "") -> None:
    driver.find_element(By.ID, "emailaddress").clear()
    driver.find_element(By.ID, "emailaddress").send_keys(address)
    driver.find_element(By.ID, "name").clear()
    if name:
        driver.find_element(By.ID, "name").send_keys(name)
    before = driver.current_url
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # Mid-navigation, chromedriver may answer any question with an error: ask again.
    WebDriverWait(driver, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.current_url != before
        and d.execute_script("return document.readyState") == "complete"
    )


def in_first_screen(driver: WebDriver, selector: str) -> bool:
    """Whether the element is wholly inside the viewport as the page now stands."""
    return bool(evaluate(driver, f"""(() => {{
        const box = document.querySelector({selector!r}).getBoundingClientRect();
        return box.top >= -1 && box.bottom <= window.innerHeight + 1 && box.height > 0;
    }})()"""))


def fits_the_width(driver: WebDriver) -> bool:
    """No horizontal overflow: the document is no wider than its window."""
    return bool(evaluate(
        driver, "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    ))


def page_language(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "html").get_attribute("lang"))


GREETINGS = [
    ("autoconfig.example.com", "de-DE,de;q=0.9,en;q=0.5", "de",
     "Ihr E-Mail-Konto bei Example Mail einrichten", "(zum Beispiel name@example.com)"),
    ("autoconfig.example.org", "ja-JP,ja;q=0.9", "ja",
     "Example Org Mail のメールを設定", "（例: name@example.org）"),
    ("autoconfig.xn--bcher-kva.example", "fr-CH, fr;q=0.9", "fr",
     "Configurer votre messagerie Bücher Mail", "(par exemple nom@bücher.example)"),
]


@pytest.mark.parametrize(("host", "accept", "lang", "heading", "hint"), GREETINGS,
                         ids=["example.com-de", "example.org-ja", "bücher.example-fr"])
def test_the_provider_host_greets_in_the_visitors_language(
    browser: WebDriver, server: RunningServer, tmp_path: Path,
    *, host: str, accept: str, lang: str, heading: str, hint: str,
) -> None:
    visit(browser, f"http://{host}:{port_of(server)}/", language=accept)
    assert page_language(browser) == lang
    assert browser.find_element(By.TAG_NAME, "h1").text == heading
    assert browser.find_element(By.CSS_SELECTOR, "label[for=emailaddress] .hint").text == hint
    domain = hint.split("@")[1].rstrip(")）")
    assert browser.find_element(By.ID, "emailaddress").get_attribute("placeholder") == (
        f"name@{domain}"
    )
    current = browser.find_element(By.CSS_SELECTOR, "nav.languages a[aria-current=page]")
    assert current.get_attribute("hreflang") == lang
    button = browser.find_element(By.CSS_SELECTOR, "form button")
    logos = browser.find_elements(By.CSS_SELECTOR, "header.brand img.logo")
    if host == "autoconfig.example.com":  # the one with a logo and an accent colour
        assert len(logos) == 1
        assert evaluate(browser, "document.querySelector('img.logo').naturalWidth") > 0
        assert button.value_of_css_property("background-color") == "rgba(122, 31, 162, 1)"
        assert button.value_of_css_property("color") == "rgba(255, 255, 255, 1)"
    else:
        assert logos == []
        assert button.value_of_css_property("background-color") == "rgba(10, 88, 202, 1)"
    assert browser.find_elements(By.TAG_NAME, "script") == []
    screenshot(browser, tmp_path / f"provider-{host}-{lang}.png")


def test_a_host_that_names_no_served_domain_gets_the_generic_page(
    browser: WebDriver, server: RunningServer
) -> None:
    visit(browser, f"http://autoconfig.unknown.example:{port_of(server)}/", language="pt-BR")
    assert page_language(browser) == "pt-BR"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Configure seu e-mail"
    assert browser.find_elements(By.CSS_SELECTOR, "header.brand") == []


def test_the_language_switch_keeps_the_address_and_reaches_the_profile(
    browser: WebDriver, server: RunningServer, tmp_path: Path
) -> None:
    visit(browser, server.base + "/apple?emailaddress=alice%40example.com", language="en")
    assert browser.find_element(By.ID, "settings-title").text == "Settings for alice@example.com"
    browser.find_element(By.LINK_TEXT, "Polski").click()
    WebDriverWait(browser, 10, ignored_exceptions=(WebDriverException,)).until(
        lambda driver: page_language(driver) == "pl"
    )
    assert browser.find_element(By.ID, "settings-title").text == "Ustawienia dla alice@example.com"
    assert "Poczta przychodząca (IMAP)" in main_text(browser)
    submit(browser, "alice@example.com", "Alicja Przykład")  # the form keeps the language
    assert page_language(browser) == "pl"
    links = {a.text: a.get_attribute("href")
             for a in browser.find_elements(By.CSS_SELECTOR, "ul.profiles a")}
    assert set(links) == {"Pobierz profil IMAP", "Pobierz profil POP3"}
    href = links["Pobierz profil IMAP"]
    assert href is not None
    screenshot(browser, tmp_path / "settings-pl.png")
    reply = request(server.base, urlsplit(href).path + "?" + urlsplit(href).query)
    profile = plistlib.loads(reply.body)
    assert profile["PayloadDescription"] == (
        "Konfiguruje alice@example.com z ustawieniami Example Mail."
    )
    mail, caldav, carddav = profile["PayloadContent"]
    assert mail["PayloadDescription"] == "Konto pocztowe alice@example.com w Example Mail."
    assert mail["EmailAccountName"] == "Alicja Przykład"
    assert (caldav["PayloadDisplayName"], caldav["CalDAVAccountDescription"]) == (
        "Example Mail (kalendarze)", "Kalendarze Example Mail"
    )
    assert carddav["PayloadDisplayName"] == "Example Mail (kontakty)"


def decode_qr(driver: WebDriver) -> str:
    """What a phone's camera reads from the QR code as the browser drew it."""
    png = driver.find_element(By.CSS_SELECTOR, ".qr-code svg").screenshot_as_png
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [result.format for result in results] == [zxingcpp.BarcodeFormat.QRCode]
    return str(results[0].text)


def test_the_qr_code_opens_this_page_for_this_address_on_the_phone(
    browser: WebDriver, server: RunningServer, tmp_path: Path
) -> None:
    origin = f"http://autoconfig.example.com:{port_of(server)}"
    visit(browser, origin + "/", agent=WINDOWS, size=DESKTOP)
    submit(browser, "alice@example.com", "Alice Example")
    screenshot(browser, tmp_path / "desktop-settings.png")
    url = decode_qr(browser)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        "http", f"autoconfig.example.com:{port_of(server)}", "/apple", "profiles"
    )
    assert parse_qs(parts.query) == {
        "emailaddress": ["alice@example.com"], "name": ["Alice Example"],
    }
    figure = browser.find_element(By.CSS_SELECTOR, "figure.phone")
    assert figure.find_element(By.CSS_SELECTOR, "[role=img]").get_attribute("aria-label") == (
        "QR code: this page for alice@example.com"
    )
    # The phone opens it at the downloads: its own language, one tap from the profile.
    visit(browser, url, agent=IPHONE, language="it-IT,it;q=0.9", size=IPHONE_SIZE)
    title = browser.find_element(By.ID, "settings-title").text
    assert title == "Impostazioni per alice@example.com"
    assert browser.find_element(By.ID, "name").get_attribute("value") == "Alice Example"
    assert section_order(browser)[0] == "profiles"
    assert in_first_screen(browser, "#profiles-title")
    assert in_first_screen(browser, "ul.profiles li:last-child a")
    screenshot(browser, tmp_path / "phone-from-qr-it.png")


def test_a_chosen_language_travels_in_the_qr_code(
    browser: WebDriver, server: RunningServer
) -> None:
    visit(browser, server.base + "/apple?emailaddress=bob%40example.org&lang=nl", size=DESKTOP)
    assert parse_qs(urlsplit(decode_qr(browser)).query) == {
        "emailaddress": ["bob@example.org"], "lang": ["nl"],
    }


def section_order(driver: WebDriver) -> list[str]:
    sections = driver.find_elements(
        By.CSS_SELECTOR, "section#profiles, section#settings, section#apps"
    )
    return [str(section.get_attribute("id")) for section in sections]


@pytest.mark.parametrize(("agent", "order"), [
    (IPHONE, ["profiles", "settings", "apps"]),
    (MAC, ["profiles", "settings", "apps"]),
    (ANDROID, ["apps", "settings", "profiles"]),
    (WINDOWS, ["profiles", "apps", "settings"]),
    (LINUX, ["profiles", "settings", "apps"]),
], ids=["iphone", "mac", "android", "windows", "linux"])
def test_the_instructions_for_the_device_come_first_and_nothing_is_hidden(
    browser: WebDriver, server: RunningServer, agent: str, order: list[str]
) -> None:
    visit(browser, server.base + "/apple?emailaddress=bob%40example.org", agent=agent)
    assert section_order(browser) == order
    for section in order:
        assert browser.find_element(By.ID, section).is_displayed()
    assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, "ul.profiles a")] == [
        "Download the IMAP profile"
    ]
    apps = browser.find_element(By.ID, "apps").text
    assert "Thunderbird for Android and K-9 Mail" in apps
    assert "Classic Outlook for Windows (Outlook 2016 and later, Microsoft 365)" in apps
    assert "The new Outlook for Windows does not ask this server" in apps


STATES = {
    "empty": ("/", 200),
    "settings": ("/apple?emailaddress=alice%40example.com", 200),
    "bad-address": ("/apple?emailaddress=alice", 400),
    "bad-name": ("/apple?emailaddress=alice%40example.com&name=%3Cb%3E", 400),
    "unknown-domain": ("/apple?emailaddress=alice%40unknown.example", 404),
    "no-pop3": ("/apple?emailaddress=bob%40example.org&protocol=pop3", 404),
}
MODES = {  # name: (width, height, device scale, colour scheme)
    "phone-360": (360, 780, 1.0, "light"),
    "phone-360-dark": (360, 780, 1.0, "dark"),
    "zoom-200": (640, 450, 2.0, "light"),  # a 1280x900 window at 200 % zoom
}


def test_axe_finds_what_it_should(browser: WebDriver, axe_source: str) -> None:
    """The accessibility check can fail: a page without language, title or image text."""
    browser.get("data:text/html,<!doctype html><html><body><main><h1>x</h1>"
                "<img src='data:,'><a href='/'></a><p>words</p></main></body></html>")
    rules = {violation["id"] for violation in axe_violations(browser, axe_source)}
    assert {"html-has-lang", "document-title", "image-alt", "link-name"} <= rules


@pytest.mark.parametrize("lang", ["en", "de"])
@pytest.mark.parametrize("state", list(STATES))
def test_every_state_is_accessible_and_reflows(
    browser: WebDriver, server: RunningServer, axe_source: str, tmp_path: Path,
    *, state: str, lang: str,
) -> None:
    path, status = STATES[state]
    origin = f"http://autoconfig.example.com:{port_of(server)}"
    assert request(server.base, path, headers={"Accept-Language": lang}).status == status
    for mode, (width, height, scale, scheme) in MODES.items():
        visit(browser, origin + path, language=lang)
        set_viewport(browser, width, height, scale)
        color_scheme(browser, scheme)
        assert page_language(browser) == lang
        shot = screenshot(browser, tmp_path / f"{state}-{lang}-{mode}.png")
        assert shot.stat().st_size > 1000
        assert not scrolls_sideways(browser), f"{state} {lang} {mode} scrolls sideways"
        assert axe_violations(browser, axe_source) == [], f"{state} {lang} {mode}"


@pytest.mark.parametrize(("lang", "heading", "detail"), [
    ("fr", "Veuillez vérifier votre saisie",
     "Adresse e-mail non valide : la partie avant '@' contient '<', qu’une adresse e-mail"
     " ne peut pas contenir."),
    ("ja", "入力内容を確認してください",
     "無効なメールアドレスです: '@' の前の部分に '<' が含まれていますが、メールアドレスには"
     "使えません。"),
])
def test_markup_typed_into_the_form_comes_back_as_text_in_any_language(
    browser: WebDriver, server: RunningServer, lang: str, heading: str, detail: str
) -> None:
    visit(browser, server.base + "/", language=lang)
    submit(browser, "<img src=x onerror=alert(1)>@example.com", '"><b id=injected>x</b>')
    error = browser.find_element(By.ID, "error")
    assert error.find_element(By.TAG_NAME, "h2").text == heading
    assert error.find_element(By.TAG_NAME, "p").text == detail
    assert browser.find_elements(By.CSS_SELECTOR, "main img, #injected, script") == []
    assert browser.find_element(By.ID, "name").get_attribute("value") == (
        '"><b id=injected>x</b>'
    )


def test_an_unknown_language_or_markup_in_lang_falls_back_quietly(
    browser: WebDriver, server: RunningServer
) -> None:
    visit(browser, server.base + "/?lang=%3Cscript%3E", language="sv-SE,sv;q=0.9")
    assert page_language(browser) == "en"
    assert browser.find_element(By.TAG_NAME, "h1").text == "Set up your mail"
    assert browser.find_elements(By.CSS_SELECTOR, "input[name=lang]") == []


# --- the page on a phone, and on a desktop ------------------------------------------

ORDINARY = "maximilian.mustermann@example.com"


@pytest.mark.parametrize("agent", [IPHONE, LINUX], ids=["iphone", "other"])
@pytest.mark.parametrize(("lang", "heading"), [
    ("en", "Settings for"), ("de", "Einstellungen für"), ("ja", "の設定"),
    ("pl", "Ustawienia dla"), ("fr", "Réglages pour"),
])
def test_after_submitting_on_a_phone_the_result_is_in_the_first_screen(
    browser: WebDriver, server: RunningServer, tmp_path: Path,
    *, agent: str, lang: str, heading: str,
) -> None:
    """The heading with the address and the download buttons, not the form again."""
    origin = f"http://autoconfig.example.com:{port_of(server)}"
    visit(browser, origin + "/", agent=agent, language=lang, size=IPHONE_SIZE)
    submit(browser, ORDINARY)
    title = browser.find_element(By.ID, "settings-title")
    assert heading in title.text and ORDINARY in title.text
    assert in_first_screen(browser, "#settings-title")
    assert in_first_screen(browser, "ul.profiles li:last-child a")  # IMAP and POP3
    assert fits_the_width(browser), evaluate(browser, "document.documentElement.scrollWidth")
    assert not in_first_screen(browser, "form")  # the form waits below the result
    screenshot(browser, tmp_path / f"phone-result-{lang}.png")


LONG_LOCAL = "m" * 64
LONG_ADDRESSES = {
    "64-at-example.com": (LONG_LOCAL + "@example.com", 200),
    "unknown-253": (LONG_LOCAL + "@" + "d" * 63 + "." + "e" * 63 + "." + "f" * 50 + ".example",
                    404),
    "64+255": (LONG_LOCAL + "@" + ".".join(["g" * 63] * 4), 400),  # 64 + 1 + 255
    "idn-label": (LONG_LOCAL + "@" + "ü" * 40 + ".example", 404),
}


@pytest.mark.parametrize("lang", ["en", "fr", "ja"])
@pytest.mark.parametrize("case", list(LONG_ADDRESSES))
def test_long_addresses_never_make_the_page_scroll_sideways(
    browser: WebDriver, server: RunningServer, tmp_path: Path, *, case: str, lang: str
) -> None:
    address, status = LONG_ADDRESSES[case]
    assert request(server.base, "/apple?" + urlencode({"emailaddress": address})).status == status
    for agent, size in ((IPHONE, IPHONE_SIZE), (IPHONE, PHONE), (WINDOWS, DESKTOP)):
        visit(browser, server.base + "/", agent=agent, language=lang, size=size)
        submit(browser, address)
        assert fits_the_width(browser), f"{case} {lang} {size}"
        if status == 200:
            assert in_first_screen(browser, "ul.profiles a")
        else:
            assert browser.find_element(By.ID, "error").is_displayed()
    screenshot(browser, tmp_path / f"long-{case}-{lang}.png")


@pytest.mark.parametrize("agent", [WINDOWS, MAC], ids=["windows", "mac"])
@pytest.mark.parametrize("lang", ["en", "de", "es"])
def test_on_a_desktop_the_qr_code_is_in_the_first_screen_and_opens_the_downloads(
    browser: WebDriver, server: RunningServer, tmp_path: Path, *, agent: str, lang: str
) -> None:
    visit(browser, server.base + "/", agent=agent, language=lang, size=DESKTOP)
    submit(browser, ORDINARY)
    assert in_first_screen(browser, ".qr-code svg")
    assert in_first_screen(browser, "ul.profiles a")
    assert fits_the_width(browser)
    screenshot(browser, tmp_path / f"desktop-{lang}.png")
    url = decode_qr(browser)
    assert urlsplit(url).fragment == "profiles"
    assert parse_qs(urlsplit(url).query) == {"emailaddress": [ORDINARY]}


def test_an_idn_address_is_shown_in_unicode(
    browser: WebDriver, server: RunningServer, tmp_path: Path
) -> None:
    visit(browser, server.base + "/", language="de", size=IPHONE_SIZE)
    submit(browser, "jürgen@Bücher.example")
    assert browser.find_element(By.ID, "settings-title").text == (
        "Einstellungen für jürgen@bücher.example"
    )
    assert browser.title == "E-Mail-Einstellungen für jürgen@bücher.example"
    label = browser.find_element(By.CSS_SELECTOR, ".qr-code").get_attribute("aria-label")
    assert label is not None and "jürgen@bücher.example" in label
    intro = browser.find_element(By.CSS_SELECTOR, ".result > p").text
    assert "bücher.example" in intro and "xn--" not in intro
    server_row = browser.find_element(By.CSS_SELECTOR, "#settings .server dd").text
    assert server_row == (  # the A-label form too, for apps or servers that need it
        "mail.bücher.example\nFalls das nicht angenommen wird: mail.xn--bcher-kva.example"
    )
    screenshot(browser, tmp_path / "idn-de.png")


def test_a_long_paste_is_told_it_is_too_long_not_that_it_has_no_at(
    browser: WebDriver, server: RunningServer
) -> None:
    """The field takes more than an address may have, so the check sees the '@'."""
    visit(browser, server.base + "/", language="en", size=IPHONE_SIZE)
    pasted = "a" * 290 + "@example.com"  # 302 characters
    submit(browser, pasted)
    field = browser.find_element(By.ID, "emailaddress")
    assert int(str(field.get_attribute("maxlength"))) > 254
    error = browser.find_element(By.CSS_SELECTOR, "#error p").text
    assert error == "Invalid email address: the address is longer than 254 characters."
    assert in_first_screen(browser, "#error")
    assert field.get_attribute("aria-invalid") == "true"


@pytest.mark.parametrize(("lang", "typed", "detail"), [
    ("de", "al ice@example.com",
     "Ungültige E-Mail-Adresse: der Teil vor '@' enthält ein Leerzeichen, was in einer"
     " E-Mail-Adresse nicht stehen darf."),
    ("fr", "alice@exa[mple.com",
     "Adresse e-mail non valide : le domaine contient '[', qu’un nom de domaine ne peut pas"
     " contenir."),
    ("ja", "alice@unknown.example",
     "unknown.example のメール設定はここでは提供されていません。"),
    ("es", "alice@example..com",
     "Dirección de correo no válida: el dominio empieza por un punto o tiene dos puntos"
     " seguidos."),
])
def test_mistakes_are_told_in_words_in_the_visitors_language(
    browser: WebDriver, server: RunningServer, *, lang: str, typed: str, detail: str
) -> None:
    """No code points, no library text, and a typed domain as typed (Japanese puts it
    first: it is not capitalised)."""
    visit(browser, server.base + "/", language=lang, size=IPHONE_SIZE)
    submit(browser, typed)
    text = browser.find_element(By.CSS_SELECTOR, "#error p").text
    assert text.startswith(detail)
    assert "U+" not in text and "Codepoint" not in text
    assert in_first_screen(browser, "#error")


@pytest.mark.parametrize(("query", "lang", "heading", "field"), [
    ("emailaddress=alice%40unknown.example&protocol=imap", "nl",
     "Geen instellingen gevonden", "emailaddress"),
    ("emailaddress=alice&protocol=imap&lang=ja", "de", "入力内容を確認してください",
     "emailaddress"),
    ("emailaddress=alice%40example.com&name=%3Cb%3E&protocol=pop3", "it",
     "Controlla quello che hai scritto", "name"),
])
def test_a_broken_profile_link_opens_the_page_in_the_visitors_language(
    browser: WebDriver, server: RunningServer, tmp_path: Path,
    *, query: str, lang: str, heading: str, field: str,
) -> None:
    """A browser that follows a profile link the server cannot answer lands on the
    settings page with the same query: the error in words, the field marked."""
    visit(browser, f"{server.base}/apple/profile.mobileconfig?{query}", language=lang,
          agent=IPHONE, size=IPHONE_SIZE)
    assert urlsplit(browser.current_url).path == "/apple"
    assert parse_qs(urlsplit(browser.current_url).query) == parse_qs(query)
    assert browser.find_element(By.CSS_SELECTOR, "#error h2").text == heading
    assert browser.find_element(By.ID, field).get_attribute("aria-invalid") == "true"
    assert in_first_screen(browser, "#error")
    screenshot(browser, tmp_path / f"profile-error-{lang}.png")


@pytest.mark.parametrize(("lang", "notice"), [
    ("en", "bob@example.org is not an address at Example Mail. These are the settings of"
           " Example Org Mail, the provider of example.org."),
    ("de", "bob@example.org ist keine Adresse bei Example Mail. Dies sind die Einstellungen"
           " von Example Org Mail, dem Anbieter von example.org."),
])
def test_a_branded_page_names_the_provider_of_another_providers_address(
    browser: WebDriver, server: RunningServer, tmp_path: Path, *, lang: str, notice: str
) -> None:
    origin = f"http://autoconfig.example.com:{port_of(server)}"
    visit(browser, origin + "/", language=lang, size=IPHONE_SIZE)
    submit(browser, "bob@example.org")
    assert browser.find_element(By.CSS_SELECTOR, ".result .notice").text == notice
    assert in_first_screen(browser, ".result .notice")
    screenshot(browser, tmp_path / f"other-provider-{lang}.png")
    submit(browser, "alice@example.com")  # the host's own address: no notice
    assert browser.find_elements(By.CSS_SELECTOR, ".notice") == []
