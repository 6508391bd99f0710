"""``dns check`` on PACC and RFC 6764 mistakes, each served by a real nsd.

Every zone starts as exactly what ``dns records`` prints for its domain, then one
record is removed or changed; the check must name that record and the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.dns_server import DnsServer, run_nsd, zone_header
from tests.support.paths import TEST_DATA

SERVER_HOST = "config.provider.test"
FILE = """name: DAV Mail
domains: [pacc-ok.test, no-txt.test, stale.test, dav-wrong.test, dav-missing.test]
caldav: https://dav.provider.test/cal/
carddav: https://dav.provider.test/card/
incoming:
  - {protocol: imap, host: mail.provider.test, security: tls}
outgoing:
  - {protocol: smtp, host: mail.provider.test, security: tls}
"""


def _drop(kind: str) -> Callable[[str], str]:
    return lambda text: "\n".join(line for line in text.splitlines() if kind not in line)


EDITS: dict[str, Callable[[str], str]] = {
    "pacc-ok.test": lambda text: text,
    "no-txt.test": _drop("IN TXT \"v=UAAC1"),
    "stale.test": lambda text: text.replace("d=", "d=AAAA", 1),
    "dav-wrong.test": lambda text: text.replace('"path=/cal/"', '"path=/calendar/"')
    .replace("SRV 0 1 443 dav.provider.test.", "SRV 0 1 8443 dav.provider.test.", 1),
    "dav-missing.test": _drop("_carddavs._tcp"),
}


@pytest.fixture(scope="module")
def domains(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("domains")
    (folder / "dav.yaml").write_text(FILE)
    return folder


@pytest.fixture(scope="module")
def nsd(domains: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    zones = {"provider.test": (TEST_DATA / "dns" / "zones" / "provider.test.zone").read_text()}
    for domain, edit in EDITS.items():
        printed = run_cli("dns", "records", domain, "--domains", str(domains),
                      "--server-host", SERVER_HOST)
        assert printed.returncode == 0, printed.stderr
        zones[domain] = (zone_header(domain) + "@ IN MX 10 mx1.provider.test.\n"
                         + edit(printed.stdout) + "\n")
    with run_nsd(zones, tmp_path_factory.mktemp("nsd")) as server:
        yield server


def findings(domains: Path, nsd: DnsServer, domain: str) -> tuple[int, list[str]]:
    result = run_cli("dns", "check", domain, "--domains", str(domains), "--nameserver",
                 nsd.nameserver, "--server-host", SERVER_HOST)
    assert "Traceback" not in result.stderr
    return result.returncode, [line for line in result.stdout.splitlines()
                               if not line.startswith("ok: ")]


def txt_of(domains: Path, domain: str) -> str:
    printed = run_cli("dns", "records", domain, "--domains", str(domains), "--server-host",
                  SERVER_HOST).stdout
    (line,) = [x for x in printed.splitlines() if x.startswith(f"_ua-auto-config.{domain}.")]
    return line


def test_everything_published_as_printed_is_clean(domains: Path, nsd: DnsServer) -> None:
    status, problems = findings(domains, nsd, "pacc-ok.test")
    assert (status, problems) == (0, ["pacc-ok.test: 0 errors, 0 warnings"])


def test_a_missing_digest_record_is_an_error_with_the_record(
    domains: Path, nsd: DnsServer
) -> None:
    status, problems = findings(domains, nsd, "no-txt.test")
    assert status == 1
    assert problems == [
        "error: _ua-auto-config.no-txt.test: missing: PACC clients reject the document without"
        f" the digest record; fix: publish `{txt_of(domains, 'no-txt.test')}`",
        "no-txt.test: 1 errors, 0 warnings",
    ]


def test_a_stale_digest_names_the_record_to_publish(domains: Path, nsd: DnsServer) -> None:
    status, problems = findings(domains, nsd, "stale.test")
    wanted = txt_of(domains, "stale.test")
    digest = wanted.split("d=")[1].rstrip('"')
    assert status == 1
    assert problems == [
        f"error: _ua-auto-config.stale.test: publishes d=AAAA{digest}, but the document the"
        f" domain file renders has d={digest}, so PACC clients reject it (every edit of the"
        f" domain file changes the digest); fix: replace it with `{wanted}`",
        "stale.test: 1 errors, 0 warnings",
    ]


def test_dav_records_on_the_wrong_port_are_an_error(domains: Path, nsd: DnsServer) -> None:
    status, problems = findings(domains, nsd, "dav-wrong.test")
    assert status == 1
    assert problems == [
        "error: _caldavs._tcp.dav-wrong.test: names dav.provider.test:8443; the domain file's"
        " caldav URL is on dav.provider.test:443; fix: publish `_caldavs._tcp.dav-wrong.test."
        ' IN SRV 0 1 443 dav.provider.test.` and `_caldavs._tcp.dav-wrong.test. IN TXT'
        ' "path=/cal/"`',
        "dav-wrong.test: 1 errors, 0 warnings",
    ]


def test_missing_dav_records_are_a_warning(domains: Path, nsd: DnsServer) -> None:
    status, problems = findings(domains, nsd, "dav-missing.test")
    assert status == 0
    assert problems == [
        "warning: _carddavs._tcp.dav-missing.test: missing (optional: clients such as"
        " Thunderbird find carddav with it, RFC 6764); fix: publish"
        " `_carddavs._tcp.dav-missing.test. IN SRV 0 1 443 dav.provider.test.` and"
        ' `_carddavs._tcp.dav-missing.test. IN TXT "path=/card/"`',
        "dav-missing.test: 0 errors, 1 warnings",
    ]
