"""Debian's headless Chromium, driven by Selenium, for the settings-page tests.

Every host name resolves to 127.0.0.1 inside this browser (``--host-resolver-rules``),
so a test can open ``http://autoconfig.example.com:PORT/`` and the real server sees
that Host header, and nothing can reach past loopback. Selenium gets both binaries'
paths, so selenium-manager never downloads anything.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from tests.support.system import require_file, require_program

# A Japanese font, so the language switch and the Japanese page show letters, not boxes.
JAPANESE_FONT = Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")


@contextmanager
def chromium(profile: Path) -> Iterator[WebDriver]:
    """A headless Chromium whose every host name is 127.0.0.1."""
    chromedriver = require_program("chromedriver", "chromium-driver")
    binary = require_program("chromium", "chromium")
    require_file(JAPANESE_FONT, "fonts-ipafont-gothic")
    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--host-resolver-rules=MAP * 127.0.0.1",
                 f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(chromedriver)))
    try:
        yield driver
    finally:
        driver.quit()


def set_viewport(driver: WebDriver, width: int, height: int, scale: float = 1.0) -> None:
    """A window of ``width`` CSS pixels; ``scale`` 2 on half a desktop is its 200 % zoom."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": scale, "mobile": width < 500,
    })


def identify_as(driver: WebDriver, user_agent: str, accept_language: str) -> None:
    """The User-Agent and Accept-Language headers the next requests send."""
    driver.execute_cdp_cmd("Network.setUserAgentOverride", {
        "userAgent": user_agent, "acceptLanguage": accept_language,
    })


def color_scheme(driver: WebDriver, scheme: str) -> None:
    """Emulate the system's light or dark mode (prefers-color-scheme)."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": scheme}],
    })


def evaluate(driver: WebDriver, expression: str) -> Any:
    """A JavaScript expression's value, evaluated over DevTools (the page runs no script)."""
    return driver.execute_cdp_cmd(
        "Runtime.evaluate", {"expression": expression, "returnByValue": True}
    )["result"]["value"]


def scrolls_sideways(driver: WebDriver) -> bool:
    """Whether the page is wider than the window (it should reflow instead)."""
    return bool(evaluate(
        driver, "document.documentElement.scrollWidth > window.innerWidth"
    ))


def screenshot(driver: WebDriver, path: Path) -> Path:
    """The whole page, beyond the viewport, as a PNG for people to look at."""
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {path}")
    return path
