"""The settings page in a real browser: Debian's headless Chromium driven by Selenium.

The page comes from the real server (gunicorn). It must work without JavaScript: it
has no script, its CSP allows none, and the form is a plain GET that the server
answers with the settings (chromedriver itself needs JavaScript on). Selenium gets
both binaries' paths, so selenium-manager never downloads anything. A full-page
screenshot is saved for people to look at (the path is printed; ``pytest -s`` shows it).
"""

from __future__ import annotations

import base64
import plistlib
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from autoconfig.phrases import Phrase, english
from autoconfig.web.page import _readable, _sentence
from tests.support.apple_schema import profile_problems
from tests.support.http import request
from tests.support.server import RunningServer
from tests.support.system import require_program

PHONE = (390, 844)  # CSS pixels of a current iPhone
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
       " base-uri 'none'; frame-ancestors 'none'")


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(
    tmp_path_factory: pytest.TempPathFactory, downloads: Path
) -> Iterator[WebDriver]:
    chromedriver = require_program("chromedriver", "chromium-driver")
    chromium = require_program("chromium", "chromium")
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
    })
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(chromedriver)))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {  # headless is >= 500 wide
        "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True,
    })
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: WebDriver, path: Path) -> None:
    """The whole page, beyond the phone-sized viewport."""
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {path}")  # for people to look at


def fill_and_submit(driver: WebDriver, address: str, name: str = "") -> None:
    field = driver.find_element(By.ID, "emailaddress")
    field.clear()
    field.send_keys(address)
    driver.find_element(By.ID, "name").clear()
    if name:
        driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()


def wait_for_heading(driver: WebDriver, text: str) -> str:
    WebDriverWait(driver, 10).until(
        expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "main"), text)
    )
    return str(driver.find_element(By.TAG_NAME, "main").text)


def wait_for_file(folder: Path, name: str, timeout: float = 15.0) -> bytes:
    deadline = time.monotonic() + timeout
    target = folder / name
    while time.monotonic() < deadline:
        if target.exists() and not list(folder.glob("*.crdownload")):
            return target.read_bytes()
        time.sleep(0.1)
    raise AssertionError(f"{name} was not downloaded; the folder holds {list(folder.iterdir())}")


def test_fill_the_form_see_the_settings_download_the_profile(
    browser: WebDriver, bundled_server: RunningServer, downloads: Path, tmp_path: Path
) -> None:
    browser.get(bundled_server.base + "/")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Set up your mail"
    fill_and_submit(browser, "alice@example.com", "Alice Example")
    text = wait_for_heading(browser, "Settings for alice@example.com")
    assert urlsplit(browser.current_url).path == "/apple"
    for expected in ("mail.example.com", "993", "995", "465", "587", "SSL/TLS",
                     "STARTTLS", "alice@example.com", "Example Mail",
                     "https://dav.example.com/caldav/"):
        assert expected in text
    assert "Pick IMAP if you read mail on more than one device" in text
    assert "Pick POP3 only for a single device" in text
    assert "removes it from the server" in text
    assert browser.find_elements(By.TAG_NAME, "script") == []
    # The style sheet came from the server despite the CSP: the button is styled.
    button = browser.find_element(By.CSS_SELECTOR, "form button")
    assert button.value_of_css_property("background-color") == "rgba(10, 88, 202, 1)"
    width = browser.execute_cdp_cmd("Runtime.evaluate", {
        "expression": "[document.documentElement.scrollWidth, window.innerWidth]",
        "returnByValue": True,
    })["result"]["value"]
    assert width[0] <= width[1] == PHONE[0], f"the page scrolls sideways on a phone: {width}"
    screenshot(browser, tmp_path / "apple-page.png")

    links = {link.text: link.get_attribute("href")
             for link in browser.find_elements(By.CSS_SELECTOR, "ul.profiles a")}
    assert set(links) == {"Download the IMAP profile", "Download the POP3 profile"}
    href = links["Download the POP3 profile"]
    assert href is not None
    path = urlsplit(href).path + "?" + urlsplit(href).query
    plain = request(bundled_server.base, path)
    assert plain.status == 200
    assert plain.header("Content-Type") == "application/x-apple-aspen-config"
    browser.find_element(By.LINK_TEXT, "Download the POP3 profile").click()
    downloaded = wait_for_file(downloads, "example.com-pop3.mobileconfig")
    assert downloaded == plain.body
    # The IMAP profile next to it: its own file, nothing overwritten or renamed " (1)".
    browser.find_element(By.LINK_TEXT, "Download the IMAP profile").click()
    imap = plistlib.loads(wait_for_file(downloads, "example.com-imap.mobileconfig"))
    assert imap["PayloadContent"][0]["EmailAccountType"] == "EmailTypeIMAP"
    assert sorted(path.name for path in downloads.iterdir()) == [
        "example.com-imap.mobileconfig", "example.com-pop3.mobileconfig"
    ]
    profile = plistlib.loads(downloaded)
    assert profile_problems(profile) == []
    mail = profile["PayloadContent"][0]
    assert (mail["EmailAccountType"], mail["EmailAccountName"]) == ("EmailTypePOP", "Alice Example")


def test_a_domain_without_pop3_offers_only_imap(
    browser: WebDriver, bundled_server: RunningServer
) -> None:
    browser.get(bundled_server.base + "/apple")
    fill_and_submit(browser, "bob@example.org")
    text = wait_for_heading(browser, "Settings for bob@example.org")
    links = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "ul.profiles a")]
    assert links == ["Download the IMAP profile"]
    assert "IMAP or POP3?" not in text
    assert "encrypted password (CRAM-MD5) or normal password" in text
    assert "bob" in text


MISTAKES = [
    ("alice", "", 400, "Please check what you typed",
     "Invalid email address: the address has no '@'"),
    ("alice@unknown.example", "", 404, "No settings found", "unknown.example"),
    ("alice@example.com", "<script>alert(1)</script>", 400, "Please check what you typed",
     "Invalid name: the name contains '<' or '>'"),
]


@pytest.mark.parametrize("mistake", MISTAKES, ids=["no-at", "unknown-domain", "markup-name"])
def test_mistakes_get_a_friendly_message_and_the_right_status(
    browser: WebDriver, bundled_server: RunningServer, tmp_path: Path,
    mistake: tuple[str, str, int, str, str],
) -> None:
    address, name, status, heading, detail = mistake
    browser.get(bundled_server.base + "/")
    fill_and_submit(browser, address, name)
    text = wait_for_heading(browser, heading)
    assert detail in text
    wrong = "name" if name else "emailaddress"
    assert browser.find_element(By.ID, wrong).get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, wrong).get_attribute("aria-describedby") == "error"
    assert browser.find_element(By.ID, "name").get_attribute("value") == name
    assert browser.find_elements(By.TAG_NAME, "script") == []
    assert browser.find_elements(By.CSS_SELECTOR, "ul.profiles a") == []
    screenshot(browser, tmp_path / "apple-page-error.png")
    query = urlsplit(browser.current_url).query
    assert request(bundled_server.base, "/apple?" + query).status == status


@pytest.mark.parametrize("path", ["/", "/apple", "/apple?emailaddress=alice%40example.com",
                                  "/apple?emailaddress=%0d%0a"])
def test_page_headers(bundled_server: RunningServer, path: str) -> None:
    reply = request(bundled_server.base, path)
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    assert reply.header("Content-Security-Policy") == CSP
    assert reply.header("X-Content-Type-Options") == "nosniff"
    assert reply.header("X-Frame-Options") == "DENY"
    assert reply.header("Referrer-Policy") == "no-referrer"
    assert reply.header("Cache-Control") == "no-store"
    assert b"<script" not in reply.body and b"http://" not in reply.body.split(b"<main>")[0]
    css = request(bundled_server.base, "/apple/style.css")
    assert (css.status, css.header("Content-Type")) == (200, "text/css; charset=utf-8")


def test_page_refuses_a_password_parameter(bundled_server: RunningServer) -> None:
    reply = request(bundled_server.base, "/apple?emailaddress=a%40example.com&password=x")
    assert reply.status == 400
    assert "Passwords are never sent" in reply.text


# --- the page's own wording rules, without a browser ---------------------------------

def test_a_sentence_capitalises_its_own_first_letter_never_a_typed_value() -> None:
    japanese = {"no mail settings are served for %(domain)s": "%(domain)s のメール設定はありません",
                "invalid email address: %(reason)s": "%(reason)s",
                "the address has no '@'": "アドレスに '@' がありません"}
    unknown = Phrase("no mail settings are served for %(domain)s", domain="unknown.example")
    assert _sentence(unknown, japanese.__getitem__) == "unknown.example のメール設定はありません"
    assert _sentence(unknown, english) == "No mail settings are served for unknown.example"
    reason = Phrase("invalid email address: %(reason)s", reason=Phrase("the address has no '@'"))
    assert _sentence(reason, english) == "Invalid email address: the address has no '@'"
    assert _sentence(reason, japanese.__getitem__) == "アドレスに '@' がありません"


def test_an_idn_host_or_login_reads_in_unicode() -> None:
    assert _readable("mail.xn--bcher-kva.example") == "mail.bücher.example"
    assert _readable("jürgen@xn--bcher-kva.example") == "jürgen@bücher.example"
    assert _readable("alice") == "alice"
    assert _readable("xn--zz.example") == "xn--zz.example"  # not a valid A-label: as it is
