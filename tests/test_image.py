"""The image `make image` builds: small, the same ID twice, nothing but what the server runs.

One build for the module, and one more without podman's cache to compare the IDs. The
image then serves Thunderbird, the page in every language and an Apple profile on a
read-only root as user 10001. Run as root, the test installs podman, runc, catatonit and
mmdebstrap from Debian; without them it fails under CI=true and is skipped otherwise.
"""

from __future__ import annotations

import json
import plistlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from lxml import etree

from autoconfig.i18n import LANGUAGES
from tests.support.http import free_port, request
from tests.support.paths import DOMAINS, REPO
from tests.support.podman import CONTAINERS_CONF, logs, podman, require_podman
from tests.support.system import wait_for

IMAGE = "localhost/autoconfig-image:test"
AGAIN = "localhost/autoconfig-image:test-again"
MAX_BYTES = 150_000_000  # as `podman images` counts MB
SITE = "/opt/autoconfig/lib/python3.11/site-packages"
PYTHON = "/opt/autoconfig/bin/python"


def make_image(tag: str, *flags: str) -> float:
    """`make image` as the docs give it, for ``tag``; its wall time in seconds."""
    started = time.monotonic()
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), "image", f"IMAGE={tag}",
         f"PYTHON={sys.executable}", f"PODMAN_CONF={CONTAINERS_CONF}", *flags],
        capture_output=True, text=True, timeout=1200, check=False,
    )
    assert result.returncode == 0, f"make image failed:\n{result.stdout}\n{result.stderr}"
    return time.monotonic() - started


def image_id(tag: str) -> str:
    return podman("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()


@pytest.fixture(scope="module")
def image() -> str:
    """The image built from this checkout by `make image`."""
    require_podman()
    print(f"image built in {make_image(IMAGE):.0f} s")  # seen with pytest -s
    return IMAGE


def run_python(image: str, code: str) -> str:
    """What ``code`` prints, run by the venv's Python in a throwaway container."""
    return podman("run", "--rm", "--read-only", "--network", "none", "--entrypoint", PYTHON,
                  image, "-c", code).stdout


def test_the_image_is_at_most_150_mb(image: str) -> None:
    size = int(podman("image", "inspect", "--format", "{{.Size}}", image).stdout)
    assert size <= MAX_BYTES, f"{size / 1e6:.0f} MB"


def test_a_second_build_without_cache_gives_the_same_id(image: str) -> None:
    try:
        print(f"built again in {make_image(AGAIN, 'BUILD_FLAGS=--no-cache'):.0f} s")
        assert image_id(AGAIN) == image_id(image)
    finally:
        podman("rmi", AGAIN, check=False)  # the same image: only the name goes


def test_no_packaging_tools_in_the_venv_or_the_system(image: str) -> None:
    found = json.loads(run_python(image, (
        "import importlib.util, json, os, shutil\n"
        "modules = ['pip', 'setuptools', 'wheel', 'pkg_resources', 'ensurepip', 'distutils',"
        " 'lib2to3', 'idlelib', 'tkinter']\n"
        "print(json.dumps({'modules': [m for m in modules if importlib.util.find_spec(m)],"
        f" 'site': sorted(os.listdir('{SITE}')),"
        " 'programs': [p for p in ('apt', 'dpkg', 'perl', 'bash', 'pip', 'pip3', 'sh', 'sleep')"
        " if shutil.which(p)]}))"
    )))
    assert found["modules"] == []
    assert not [name for name in found["site"]
                if re.match(r"(pip|setuptools|wheel|_distutils_hack|pkg_resources)\b", name)]
    # sh and sleep stay: exec probes run through a shell, a preStop hook runs sleep.
    assert found["programs"] == ["sh", "sleep"]


def test_babel_keeps_the_data_of_the_shipped_languages_only(image: str) -> None:
    shipped = {path.name for path in (REPO / "autoconfig" / "translations").iterdir()
               if path.is_dir()}
    expected = {"root", "en"} | shipped | {locale.split("_")[0] for locale in shipped}
    listed = run_python(image, f"import os; print(*os.listdir('{SITE}/babel/locale-data'))")
    assert {name.removesuffix(".dat") for name in listed.split() if name.endswith(".dat")} == (
        expected
    )


@pytest.fixture(scope="module")
def served(image: str) -> Iterator[tuple[str, str]]:
    """The image serving the repository's domains on a loopback port, read-only."""
    port = free_port()
    name = f"autoconfig-image-test-{port}"
    podman("run", "--detach", "--name", name, "--read-only", "--network", "host",
           "--env", f"AUTOCONFIG_BIND=127.0.0.1:{port}",
           "--volume", f"{DOMAINS}:/etc/autoconfig/domains:ro", image)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: "Listening at:" in logs(name), 30, 0.3), logs(name)
        yield base, name
    finally:
        podman("rm", "--force", name, check=False)


def test_it_runs_as_user_10001_on_a_read_only_root(served: tuple[str, str]) -> None:
    _, name = served
    assert podman("exec", name, "id", "-u").stdout == "10001\n"
    write = podman("exec", name, "touch", "/opt/autoconfig/x", check=False)
    assert "Read-only file system" in write.stderr
    assert podman("exec", name, "sh", "-c", "sleep 0 && echo slept").stdout == "slept\n"


def test_it_answers_thunderbird(served: tuple[str, str]) -> None:
    base, _ = served
    reply = request(base, "/mail/config-v1.1.xml?emailaddress=alice@example.com")
    assert reply.status == 200
    root = etree.fromstring(reply.body)
    assert root.xpath("string(//incomingServer[@type='imap']/hostname)") == "mail.example.com"


def test_it_serves_the_page_in_every_language(served: tuple[str, str]) -> None:
    base, _ = served
    titles = {}
    for tag in LANGUAGES:
        reply = request(base, f"/?emailaddress=erin@example.net&lang={tag}")
        assert reply.status == 200, tag
        assert f'<html lang="{tag}">' in reply.text
        title = re.search(r"<title>(.*?)</title>", reply.text, re.DOTALL)
        assert title, tag
        titles[tag] = title.group(1)
    # each language's own catalog (Babel's data for it found): no two titles alike
    assert len(set(titles.values())) == len(LANGUAGES), titles


def test_it_serves_an_apple_profile(served: tuple[str, str]) -> None:
    base, _ = served
    reply = request(base, "/apple/profile.mobileconfig?emailaddress=dave@example.com")
    assert reply.status == 200
    payload = plistlib.loads(reply.body)["PayloadContent"][0]
    assert payload["IncomingMailServerHostName"] == "mail.example.com"
