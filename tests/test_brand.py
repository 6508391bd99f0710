"""The provider's look: the logo and accent_color keys, checked at load, served from here.

Loading is tested on files with their real located messages; serving on the real
server (gunicorn from the wheel), asked with the Host header a browser would send.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import segno

from autoconfig.answers.brand import contrast, text_on
from autoconfig.domains.load import load_file
from tests.support.domain_files import branded_bundled_domains
from tests.support.http import request
from tests.support.server import RunningServer, run_server

BASE = (
    "name: Brand Mail\ndomains: [brand.example]\n"
    "incoming: [{protocol: imap, host: mail.brand.example, security: tls}]\n"
    "outgoing: [{host: mail.brand.example, security: tls}]\n"
)
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
       b'<rect width="10" height="4"/></svg>')


def write_png(path: Path) -> bytes:
    segno.make("logo").save(str(path), kind="png", scale=2)
    return path.read_bytes()


def test_a_png_logo_and_an_accent_colour_load(tmp_path: Path) -> None:
    png = write_png(tmp_path / "logo.png")
    (tmp_path / "brand.yaml").write_text(BASE + "logo: logo.png\naccent_color: '#7A1FA2'\n")
    result = load_file(tmp_path / "brand.yaml", "brand.yaml")
    assert result.errors == ()
    assert result.loaded is not None
    config = result.loaded.config
    assert config.logo is not None
    assert (config.logo.content_type, config.logo.data) == ("image/png", png)
    assert config.accent_color == "#7a1fa2"


def test_an_svg_logo_in_a_subfolder_loads(tmp_path: Path) -> None:
    (tmp_path / "logos").mkdir()
    (tmp_path / "logos" / "brand.svg").write_bytes(SVG)
    (tmp_path / "brand.yaml").write_text(BASE + "logo: logos/brand.svg\n")
    loaded = load_file(tmp_path / "brand.yaml", "brand.yaml").loaded
    assert loaded is not None and loaded.config.logo is not None
    assert (loaded.config.logo.content_type, loaded.config.accent_color) == ("image/svg+xml", None)


@pytest.mark.parametrize(("extra", "files", "message"), [
    ("logo: logo.png\n", {"logo.png": b"not an image at all"},
     "brand.yaml:5: logo: expected a PNG, JPEG, GIF, WebP or SVG image; got 'logo.png'"),
    ("logo: big.png\n", {"big.png": b"\x89PNG\r\n\x1a\n" + bytes(200 * 1024)},
     "brand.yaml:5: logo: expected an image of at most 100 KiB (this one has 200 KiB);"
     " got 'big.png'"),
    ("logo: missing.png\n", {},
     "brand.yaml:5: logo: expected a readable file, relative to the domain file (No such file"
     " or directory); got 'missing.png'"),
    ("logo: page.svg\n", {"page.svg": b"<html><body>not svg</body></html>"},
     "brand.yaml:5: logo: expected a PNG, JPEG, GIF, WebP or SVG image; got 'page.svg'"),
    ("accent_color: blue\n", {},
     "brand.yaml:5: accent_color: expected a colour as #RRGGBB, e.g. '#0a58ca' (quote it in"
     " YAML); got 'blue'"),
    ("accent_color: '#12345'\n", {},
     "brand.yaml:5: accent_color: expected a colour as #RRGGBB, e.g. '#0a58ca' (quote it in"
     " YAML); got '#12345'"),
])
def test_bad_logo_or_colour_gets_a_located_message(
    tmp_path: Path, extra: str, files: dict[str, bytes], message: str
) -> None:
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "brand.yaml").write_text(BASE + extra)
    result = load_file(tmp_path / "brand.yaml", "brand.yaml")
    assert [str(error) for error in result.errors] == [message]


def test_button_text_is_black_or_white_whichever_reads_better() -> None:
    assert contrast("#ffffff", "#000000") == pytest.approx(21.0)
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54  # the AA grey, as WebAIM lists it
    assert round(contrast("#0a58ca", "#ffffff"), 2) == 6.44  # the page's own blue
    assert (text_on("#0a58ca"), text_on("#ffcc00"), text_on("#7a1fa2")) == (
        "#ffffff", "#000000", "#ffffff"
    )
    for color in ("#777777", "#808080", "#ff0000", "#00ff00", "#0000ff", "#ffcc00"):
        assert max(contrast(color, "#ffffff"), contrast(color, "#000000")) >= 4.5


@pytest.fixture(scope="module")
def branded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    folder = tmp_path_factory.mktemp("branded")
    domains = branded_bundled_domains(folder, SVG, "logo: logo.svg\naccent_color: '#FFCC00'\n")
    with run_server(domains, folder / "server.log") as server:
        yield server


def test_the_logo_and_theme_are_served_from_here(branded_server: RunningServer) -> None:
    logo = request(branded_server.base, "/brand/example.com/logo")
    assert (logo.status, logo.header("Content-Type"), logo.body) == (200, "image/svg+xml", SVG)
    assert logo.header("Content-Security-Policy") == (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    assert logo.header("X-Content-Type-Options") == "nosniff"
    theme = request(branded_server.base, "/brand/example.com/theme.css")
    assert (theme.status, theme.header("Content-Type")) == (200, "text/css; charset=utf-8")
    assert theme.text == ":root { --accent: #ffcc00; --on-accent: #000000; }\n"


@pytest.mark.parametrize("path", ["/brand/example.org/logo", "/brand/example.org/theme.css",
                                  "/brand/unknown.example/logo", "/brand/%3Cb%3E/theme.css"])
def test_no_logo_or_theme_is_a_404(branded_server: RunningServer, path: str) -> None:
    assert request(branded_server.base, path).status == 404


def test_the_provider_host_greets_with_its_name_and_hints(branded_server: RunningServer) -> None:
    port = branded_server.base.rpartition(":")[2]
    page = request(branded_server.base, "/", headers={
        "Host": f"autoconfig.example.com:{port}", "Accept-Language": "en",
    })
    assert page.status == 200
    assert "<h1>Set up your mail at Example Mail</h1>" in page.text
    assert '<p class="provider">Example Mail</p>' in page.text
    assert '<img src="/brand/example.com/logo" alt="" class="logo">' in page.text
    assert '<link rel="stylesheet" href="/brand/example.com/theme.css">' in page.text
    assert 'placeholder="name@example.com"' in page.text
    assert "(for example name@example.com)" in page.text


@pytest.mark.parametrize("host", ["127.0.0.1", "example.com", "autoconfig.unknown.example",
                                  "autoconfig.", "mail.example.com"])
def test_other_hosts_get_the_generic_page(branded_server: RunningServer, host: str) -> None:
    page = request(branded_server.base, "/", headers={"Host": host, "Accept-Language": "en"})
    assert page.status == 200
    assert "<h1>Set up your mail</h1>" in page.text
    assert "brand" not in page.text
