"""100 000 domain files from a volume: ``overlays/podman-volume`` played as shipped.

The overlay mounts the claim of components/domains-volume; podman reads a claim as the
named volume ``autoconfig-domain-files``. The test fills that volume with 100 000 files as a
provider would (docs/operating.md, "Many domains in a cluster"), plays the overlay, asks
through the edge for customers at both ends of the list, and replaces one file in place
(write, then rename) to see both replicas serve the edit without a restart.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from tests.support.domain_files import CUSTOMER, write_customers
from tests.support.podman import (
    APP,
    APP_CONTAINERS,
    EDGE_CONTAINERS,
    SITE,
    make,
    played,
    podman,
    require_free,
    require_podman,
    via_gateway,
)

FILES = 100_000
VOLUME = "autoconfig-domain-files"
LABEL = "org.autoconfig.test=volume"  # only a volume the tests made is ever removed


def _remove_test_volume() -> None:
    found = podman("volume", "ls", "--filter", f"label={LABEL}", "--format", "{{.Name}}")
    if VOLUME in found.stdout.split():
        podman("volume", "rm", "--force", VOLUME)


@pytest.fixture(scope="module")
def volume_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    require_podman()
    require_free(8000, 8080, 8081)
    make("image")
    make("edge-image")
    _remove_test_volume()
    if podman("volume", "exists", VOLUME, check=False).returncode == 0:
        pytest.fail(f"a podman volume named {VOLUME} exists and is not the tests'; "
                    "the overlay mounts it: remove or rename it to run this test")
    podman("volume", "create", "--label", LABEL, VOLUME)
    try:
        mountpoint = Path(json.loads(podman("volume", "inspect", VOLUME).stdout)[0]["Mountpoint"])
        files = tmp_path_factory.mktemp("customers")
        write_customers(files, FILES)
        shutil.copytree(files, mountpoint, dirs_exist_ok=True)  # docs: cp -r your/domains/.
        shutil.rmtree(files)
        started = time.monotonic()
        with played("podman-volume", [*APP_CONTAINERS, *EDGE_CONTAINERS], timeout=300):
            print(f"both replicas healthy {time.monotonic() - started:.0f} s after play")
            yield mountpoint
    finally:
        _remove_test_volume()


def _thunderbird(domain: str, base: str = SITE) -> etree._Element:
    reply = via_gateway(base, f"/mail/config-v1.1.xml?emailaddress=someone@{domain}",
                        headers={"Host": f"autoconfig.{domain}"})
    assert reply.status == 200, (domain, reply.status, reply.text[:200])
    return etree.fromstring(reply.body)


def _imap_host(domain: str, base: str) -> str:
    imap = _thunderbird(domain, base).xpath("string(//incomingServer[@type='imap']/hostname)")
    return str(imap)


def test_every_file_on_the_volume_is_served(volume_cluster: Path) -> None:
    assert sum(1 for _ in os.scandir(volume_cluster)) == FILES
    for i in (0, FILES // 2, FILES - 1):
        for domain in (f"customer{i}.example", f"alias{i}.example"):
            provider = _thunderbird(domain).find("emailProvider")
            assert provider is not None
            assert (provider.get("id"), provider.findtext("displayName")) == (
                f"customer{i}.example", f"Customer {i}")
    for container in APP_CONTAINERS:
        log = podman("logs", container).stderr
        assert f"serving {2 * FILES} domains from {FILES} files (0 errors)" in log, log[-2000:]


def test_a_file_replaced_on_the_volume_reaches_both_replicas(volume_cluster: Path) -> None:
    edited = volume_cluster / "customer77.example.yaml"
    staged = volume_cluster / ".customer77.example.yaml.new"  # not a domain file (a dot)
    staged.write_text(CUSTOMER.format(i=77).replace("mail.%EMAILDOMAIN%", "imap.example.net"))
    staged.chmod(0o644)
    os.replace(staged, edited)
    changed = time.monotonic()
    deadline = changed + 60
    # Fresh connections are spread over both replicas (SO_REUSEPORT): twenty answers in a
    # row with the edit come from both. The edge keeps the document up to 10 s longer.
    while time.monotonic() < deadline:
        hosts = {_imap_host("customer77.example", APP) for _ in range(20)}
        if hosts == {"imap.example.net"}:
            break
        time.sleep(0.5)
    assert hosts == {"imap.example.net"}
    print(f"edit served by both replicas after {time.monotonic() - changed:.1f} s")
    while _imap_host("customer77.example", SITE) != "imap.example.net":
        assert time.monotonic() < deadline + 10, "the edge still serves the old document"
        time.sleep(1)
    for container in APP_CONTAINERS:  # loaded at start and again after the edit, no restart
        log = podman("logs", container).stderr
        assert log.count(f"serving {2 * FILES} domains from {FILES} files (0 errors)") == 2
        assert log.count("Starting gunicorn") == 1
